"""The one exception family of ``colloque.crypto``.

Every failure to parse, decrypt or verify raises :class:`CryptoError` or a subclass. Catch
``CryptoError``; the subclasses exist for logs and tests. Messages are fixed strings: they never contain
key material, plaintext or identifiers.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Something could not be parsed, decrypted or verified. Treat the input as hostile."""


class MalformedEnvelope(CryptoError):
    """The bytes are not an envelope of the expected type, version or size."""


class DecryptionFailed(CryptoError):
    """Authenticated decryption failed: wrong key, tampered bytes, or bytes moved from elsewhere."""


class SignatureInvalid(CryptoError):
    """A signature does not verify with the expected public key."""


class WrongContext(CryptoError):
    """A valid envelope for something else: another item, appointment, user, group or recipient."""


class StaleEpoch(CryptoError):
    """A group key envelope older than the epoch the client has already seen (a replay)."""


class WeakParameters(CryptoError):
    """Key-derivation parameters below the floor (or above the ceiling) this client accepts."""


class InvalidPublicKey(CryptoError):
    """A public key that is malformed, of low order, or not the one the key directory vouches for."""


class ProofInvalid(CryptoError):
    """A Merkle inclusion or consistency proof, or a signed checkpoint, does not verify."""


class AuthenticationFailed(CryptoError):
    """Server side: the authentication key does not match the stored hash (or the account is unknown)."""


class AuthorNotAllowed(CryptoError):
    """A validly signed item whose author had no standing to write it (not the patient's holder,
    nor a member of the practice's verified membership chain in a role that may write it)."""
