"""What the accounts domain takes from the settings: keys derived from COLLOQUE_SECRET_KEY
(``colloque.server_keys``) and the Argon2id cost handed to clients."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from colloque.config import KdfCost, Settings
from colloque.crypto.errors import CryptoError
from colloque.crypto.login import (
    ASVS_MINIMUM_COST,
    INTERACTIVE_COST,
    Argon2Cost,
    KdfParams,
    check_cost,
    fake_kdf_params_for,
    new_kdf_params,
)
from colloque.errors import InvalidInput
from colloque.server_keys import ServerKeys
from colloque.text import normalise_email

#: Far below the OWASP floor, for tests only (libsodium's own minimum: 1 pass, 8 KiB).
TEST_COST = Argon2Cost(opslimit=1, memlimit=8 * 1024)
COSTS = {
    KdfCost.INTERACTIVE: INTERACTIVE_COST,
    KdfCost.MINIMUM: ASVS_MINIMUM_COST,
    KdfCost.TEST: TEST_COST,
}


@dataclass(frozen=True)
class AccountsConfig:
    """Server-side keys (each one derived from COLLOQUE_SECRET_KEY for its purpose) and the cost."""

    keys: ServerKeys = field(repr=False)
    kdf_cost: Argon2Cost = INTERACTIVE_COST
    #: Only with ``COLLOQUE_KDF_COST=test``, which production refuses.
    allow_weak_cost: bool = False
    #: Past this many cancellations or moves by one credential within ``confirm_changes_window``,
    #: a member confirms with a fresh re-authentication (``accounts.confirmations``).
    confirm_changes_after: int = 20
    confirm_changes_window: timedelta = timedelta(minutes=10)

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountsConfig:
        return cls(
            keys=settings.server_keys,
            kdf_cost=COSTS[settings.kdf_cost],
            allow_weak_cost=settings.kdf_cost is KdfCost.TEST,
            confirm_changes_after=settings.confirm_changes_after,
            confirm_changes_window=timedelta(seconds=settings.confirm_changes_window_seconds),
        )

    def email_key(self, email: str) -> str:
        """A keyed hash naming an address in throttle keys, so no address is stored in clear."""
        digest = hmac.new(
            self.keys.email_hash, normalise_email(email).encode(), "sha256"
        ).hexdigest()
        return digest[:40]

    def client_key(self, client_ip: str) -> str:
        """A keyed hash naming a client address in throttle keys: an address space as small as
        IPv4 cannot be reversed from it without the server's secret."""
        digest = hmac.new(self.keys.throttle_client_hash, client_ip.encode(), "sha256").hexdigest()
        return digest[:32]

    def code_hash(self, challenge_id: UUID, code: str) -> bytes:
        """Keyed hash of a mailed code: a database copy does not allow guessing it offline."""
        message = challenge_id.bytes + code.encode()
        return hmac.new(self.keys.email_code_hash, message, "sha256").digest()

    @property
    def totp_key(self) -> bytes:
        return self.keys.totp_seal

    def new_params(self) -> KdfParams:
        return new_kdf_params(self.kdf_cost)

    def fake_params(self, email: str, *, purpose: str) -> KdfParams:
        """Stable parameters for an address without an account (or without credentials)."""
        return fake_kdf_params_for(email, self.keys.fake_salt(purpose), self.kdf_cost)

    def check_params(self, raw: bytes, *, field: str) -> KdfParams:
        """Parameters sent by a client: well formed, not cheaper than ours, not absurd."""
        try:
            params = KdfParams.from_bytes(raw)
            check_cost(params.cost, insecure_allow_weak_cost=self.allow_weak_cost)
        except CryptoError:
            raise InvalidInput(
                "key-derivation parameters are not acceptable", field=field
            ) from None
        if (
            params.cost.opslimit < self.kdf_cost.opslimit
            or params.cost.memlimit < self.kdf_cost.memlimit
        ):
            raise InvalidInput("key-derivation parameters are below our cost", field=field)
        return params


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
