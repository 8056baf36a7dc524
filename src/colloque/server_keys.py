"""Every key the server derives from ``COLLOQUE_SECRET_KEY``, in one place, one per purpose.

Each key is HMAC-SHA256 of its own label under the secret, so a key for one purpose tells nothing
about another. The labels never change: a new label gives a new key, with the same effects as
rotating the secret for that purpose (docs/operations.md, "Rotating the secret key", lists what
each key protects and what a rotation does to it).

The key directory's log signing key is *not* derived from the secret: it has its own setting
(``COLLOQUE_KEY_DIRECTORY_LOG_KEY``), so that rotating the secret does not start a new log that
every pinned client refuses (``Settings.log_signing_seed``). Earlier versions derived it from the
secret: :func:`legacy_log_signing_seed` is that derivation, kept for upgrades and for the
development default.

This module reads no settings: ``Settings.server_keys`` makes the keys of a deployment.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

#: The label earlier versions derived the log's signing seed with (from COLLOQUE_SECRET_KEY).
_LEGACY_LOG_LABEL = b"colloque/key-directory/log-signing/v1"


def _hmac(key: bytes, label: bytes) -> bytes:
    return hmac.new(key, label, hashlib.sha256).digest()


@dataclass(frozen=True)
class ServerKeys:
    """The keys derived from one server secret. Each property is one purpose, one label."""

    secret: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> ServerKeys:
        return cls(secret=secret.encode("utf-8"))

    def _accounts(self, label: str) -> bytes:
        return _hmac(self.secret, b"colloque/accounts/" + label.encode("ascii"))

    @property
    def totp_seal(self) -> bytes:
        """Seals TOTP seeds at rest (``accounts.secrets``); re-sealed by ``colloque rotate-secret``."""
        return self._accounts("totp-seal/v1")

    @property
    def account_mail_seal(self) -> bytes:
        """Seals account mail waiting in the outbox (``notifications.account_mail``). Not
        re-sealed by a rotation: mail still waiting then fails, its codes expire within minutes."""
        return _hmac(self.secret, b"colloque/notifications/account-mail-seal/v1")

    @property
    def unsubscribe_token(self) -> bytes:
        """Signs the one-click unsubscribe links of reminders (``notifications.unsubscribe``). A
        rotation voids the links of reminders already sent: they answer 404, the account page
        still turns reminders off."""
        return _hmac(self.secret, b"colloque/notifications/unsubscribe-token/v1")

    @property
    def reminder_phone_hash(self) -> bytes:
        """Names a phone in the key of its day's SMS reminder (``delivery.reminders``), so that
        the outbox holds no number. A rotation can let one more SMS go that day."""
        return _hmac(self.secret, b"colloque/notifications/reminder-phone/v1")

    @property
    def email_hash(self) -> bytes:
        """Names an address in throttle keys (``AccountsConfig.email_key``)."""
        return self._accounts("email-key/v1")

    @property
    def email_code_hash(self) -> bytes:
        """Hashes the codes mailed for sign-up, email change and key reset."""
        return self._accounts("email-code/v1")

    def fake_salt(self, purpose: str) -> bytes:
        """The salt of the stable fake KDF parameters handed out for unknown addresses."""
        return self._accounts(f"fake-salt/{purpose}/v1")

    @property
    def prelogin_cost_draw(self) -> bytes:
        """Draws, per unknown address, which real accounts' KDF cost its prelogin answer has
        (``accounts.prelogin``). A rotation moves some unknown addresses to another cost."""
        return self._accounts("prelogin-cost-draw/v1")

    @property
    def throttle_client_hash(self) -> bytes:
        """Names a client address in login and sign-up throttle keys (``accounts.throttling``)."""
        return self._accounts("throttle-client/v1")

    @property
    def probing_client_hash(self) -> bytes:
        """Names an anonymous client address in probing counters (``authorization.probing``)."""
        return _hmac(self.secret, b"colloque:probing:client")

    @property
    def canary_tag(self) -> bytes:
        """Marks the ids of decoy patients and appointments (``containment.canaries``), so that
        a read is checked without a query. A rotation leaves the old decoys unrecognised: plant
        new ones (``colloque canaries plant``)."""
        return _hmac(self.secret, b"colloque/containment/canary-tag/v1")


def legacy_log_signing_seed(secret: str) -> bytes:
    """The log signing seed earlier versions derived from ``secret``: what to put in
    ``COLLOQUE_KEY_DIRECTORY_LOG_KEY`` to keep an existing log (``colloque legacy-log-key``)."""
    return _hmac(secret.encode("utf-8"), _LEGACY_LOG_LABEL)
