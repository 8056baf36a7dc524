"""What the accounts domain takes from the settings: keys derived from COLLOQUE_SECRET_KEY and
the Argon2id cost handed to clients."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
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

#: Far below the OWASP floor, for tests only (libsodium's own minimum: 1 pass, 8 KiB).
TEST_COST = Argon2Cost(opslimit=1, memlimit=8 * 1024)
COSTS = {
    KdfCost.INTERACTIVE: INTERACTIVE_COST,
    KdfCost.MINIMUM: ASVS_MINIMUM_COST,
    KdfCost.TEST: TEST_COST,
}


def normalise_email(email: str) -> str:
    """The one normalisation of addresses (the same as ``colloque.crypto.login``'s)."""
    return email.strip().lower()


@dataclass(frozen=True)
class AccountsConfig:
    """Server-side keys, each an HMAC-SHA256 of a label under COLLOQUE_SECRET_KEY, and the cost."""

    secret_key: bytes = field(repr=False)
    kdf_cost: Argon2Cost = INTERACTIVE_COST
    #: Only with ``COLLOQUE_KDF_COST=test``, which production refuses.
    allow_weak_cost: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountsConfig:
        return cls(
            secret_key=settings.secret_key.get_secret_value().encode("utf-8"),
            kdf_cost=COSTS[settings.kdf_cost],
            allow_weak_cost=settings.kdf_cost is KdfCost.TEST,
        )

    def _subkey(self, label: str) -> bytes:
        return hmac.new(self.secret_key, b"colloque/accounts/" + label.encode(), "sha256").digest()

    def email_key(self, email: str) -> str:
        """A keyed hash naming an address in throttle keys, so no address is stored in clear."""
        digest = hmac.new(
            self._subkey("email-key/v1"), normalise_email(email).encode(), "sha256"
        ).hexdigest()
        return digest[:40]

    def code_hash(self, challenge_id: UUID, code: str) -> bytes:
        """Keyed hash of a mailed code: a database copy does not allow guessing it offline."""
        message = challenge_id.bytes + code.encode()
        return hmac.new(self._subkey("email-code/v1"), message, "sha256").digest()

    @property
    def totp_key(self) -> bytes:
        return self._subkey("totp-seal/v1")

    def new_params(self) -> KdfParams:
        return new_kdf_params(self.kdf_cost)

    def fake_params(self, email: str, *, purpose: str) -> KdfParams:
        """Stable parameters for an address without an account (or without credentials)."""
        return fake_kdf_params_for(email, self._subkey(f"fake-salt/{purpose}/v1"), self.kdf_cost)

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
