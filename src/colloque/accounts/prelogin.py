"""Prelogin: the KDF parameters a client derives its login keys with, before it proves anything.

An address with credentials gets its stored parameters. Any other address gets parameters that
look like a real account's: a salt derived from the address under a server key, and a cost
*drawn from the real accounts' mix*, deterministically per address (a keyed hash of the address
picks a point in the counts of each (login, recovery) cost). So an account made under an older
cost is not told apart from an unknown address by its cost: if 5% of accounts have the old cost,
5% of unknown addresses get it too, always the same ones (docs/accounts.md, "Prelogin").

The mix is read with one grouped query over the credentials and kept per process for
:data:`MIX_LIFETIME`, so that prelogin, a public route, never scans the table per request.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from colloque.accounts.config import AccountsConfig
from colloque.accounts.models import Account, Credentials
from colloque.crypto.login import SALT_BYTES, Argon2Cost, KdfParams
from colloque.text import normalise_email

#: How long a process keeps the mix of costs before reading it again.
MIX_LIFETIME = timedelta(minutes=10)
#: The bytes of stored parameters before the salt: version, type, algorithm, opslimit, memlimit.
_HEADER_BYTES = 11


@dataclass(frozen=True)
class Prelogin:
    kdf_params: bytes
    recovery_kdf_params: bytes


@dataclass(frozen=True)
class CostMix:
    """How many credentials have each (login cost, recovery cost), in a fixed order."""

    counts: tuple[tuple[Argon2Cost, Argon2Cost, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _login, _recovery, count in self.counts)

    def pick(self, draw: int) -> tuple[Argon2Cost, Argon2Cost] | None:
        """The pair at ``draw`` (any non-negative integer, reduced modulo the total), or None
        when there is no account at all. A 256-bit draw makes the modulo's bias negligible."""
        total = self.total
        if total == 0:
            return None
        point = draw % total
        for login, recovery, count in self.counts[:-1]:
            if point < count:
                return login, recovery
            point -= count
        login, recovery, _count = self.counts[-1]
        return login, recovery


def _cost(header: bytes) -> Argon2Cost:
    return KdfParams.from_bytes(header + bytes(SALT_BYTES)).cost


def read_cost_mix(session: Session) -> CostMix:
    """Every (login, recovery) cost in use and how many credentials have it: one grouped query."""
    login = func.substr(Credentials.kdf_params, 1, _HEADER_BYTES)
    recovery = func.substr(Credentials.recovery_kdf_params, 1, _HEADER_BYTES)
    rows = session.execute(select(login, recovery, func.count()).group_by(login, recovery)).all()
    counts = sorted(
        (
            (_cost(bytes(login_header)), _cost(bytes(recovery_header)), int(count))
            for login_header, recovery_header, count in rows
        ),
        key=lambda row: (row[0].opslimit, row[0].memlimit, row[1].opslimit, row[1].memlimit),
    )
    return CostMix(tuple(counts))


class CostMixCache:
    """The mix, read at most once per :data:`MIX_LIFETIME` per process (one per app)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read: tuple[datetime, CostMix] | None = None

    def get(self, session: Session, *, now: datetime) -> CostMix:
        with self._lock:
            if self._read is None or now - self._read[0] >= MIX_LIFETIME:
                self._read = (now, read_cost_mix(session))
            return self._read[1]


def prelogin(
    session: Session, *, email: str, config: AccountsConfig, mix: CostMixCache, now: datetime
) -> Prelogin:
    """The stored parameters, or for an address without credentials stable ones that look real."""
    normalised = normalise_email(email)
    stored = session.execute(
        select(Credentials.kdf_params, Credentials.recovery_kdf_params)
        .join(Account, Account.account_id == Credentials.account_id)
        .where(Account.email == normalised)
    ).one_or_none()
    if stored is not None:
        return Prelogin(stored.kdf_params, stored.recovery_kdf_params)
    login = config.fake_params(normalised, purpose="login")
    recovery = config.fake_params(normalised, purpose="recovery")
    draw = hmac.digest(config.keys.prelogin_cost_draw, normalised.encode(), "sha256")
    picked = mix.get(session, now=now).pick(int.from_bytes(draw, "big"))
    if picked is not None:
        login = KdfParams(salt=login.salt, cost=picked[0])
        recovery = KdfParams(salt=recovery.salt, cost=picked[1])
    return Prelogin(login.to_bytes(), recovery.to_bytes())
