"""End-to-end encryption for Colloque: the only package that talks to libsodium.

Safe recipes, one module per concept (docs/crypto.md is the specification):

- :mod:`colloque.crypto.login`: password -> authentication key + KEK; the server's hash helpers.
- :mod:`colloque.crypto.keys`: a user's key pairs sealed under the KEK and under a recovery code.
- :mod:`colloque.crypto.items`: visit reasons, notes and messages; item keys wrapped per recipient.
- :mod:`colloque.crypto.documents`: streaming encryption of documents up to 100 MiB.
- :mod:`colloque.crypto.groups`: practice key groups with epochs, rotation on removal.
- :mod:`colloque.crypto.transparency`: the key directory (Merkle log, checkpoints, fingerprints).
- :mod:`colloque.crypto.statements`: signed key endorsements, membership and group epoch statements.

Every failure to parse, decrypt or verify raises :class:`CryptoError`.
"""

from colloque.crypto.errors import CryptoError

__all__ = ["CryptoError"]
