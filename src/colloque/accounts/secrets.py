"""Secrets the server itself must read back, kept at rest: the TOTP seeds.

They are sealed with :mod:`colloque.crypto.server_secrets` under a key derived from
COLLOQUE_SECRET_KEY and bound to the account, so a stolen database or backup without the
deployment's secret does not yield them, and a seed cannot be moved to another account.
:func:`do_reseal_totp_seeds` moves them all to a new secret (``colloque rotate-secret``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accounts.models import TotpFactor
from colloque.crypto import server_secrets
from colloque.crypto.errors import CryptoError
from colloque.server_keys import ServerKeys

TOTP_PURPOSE = "totp-seed"


def seal_server_secret(value: bytes, *, key: bytes, account_id: UUID) -> bytes:
    return server_secrets.seal_server_secret(
        value, key=key, purpose=TOTP_PURPOSE, subject_id=account_id
    )


def open_server_secret(stored: bytes, *, key: bytes, account_id: UUID) -> bytes:
    """Raise ``CryptoError`` for a value sealed under another key, for another account or altered."""
    return server_secrets.open_server_secret(
        stored, key=key, purpose=TOTP_PURPOSE, subject_id=account_id
    )


class SealedUnderNeither(Exception):
    """Some seeds open under neither secret: the old secret is wrong (or the rows were altered)."""

    def __init__(self, unreadable: int, total: int) -> None:
        super().__init__(
            f"{unreadable} of {total} TOTP seeds open under neither the old secret nor "
            "COLLOQUE_SECRET_KEY: is the old secret the right one? Nothing was changed"
        )
        self.unreadable = unreadable
        self.total = total


@dataclass(frozen=True)
class ResealReport:
    #: Seeds moved from the old secret to the new one.
    resealed: int
    #: Seeds already under the new secret (a rotation run again, or enrolled since): left alone.
    current: int


def do_reseal_totp_seeds(
    session: Session,
    *,
    old: ServerKeys,
    new: ServerKeys,
    progress: Callable[[int, int], None] | None = None,
) -> ResealReport:
    """Re-seal every TOTP seed sealed under ``old`` under ``new``; leave those already under
    ``new``. Raise :class:`SealedUnderNeither` if any opens under neither, having changed rows
    the caller's transaction then rolls back. ``progress(done, total)`` follows each seed."""
    factors = session.scalars(
        select(TotpFactor).order_by(TotpFactor.account_id).with_for_update()
    ).all()
    resealed = current = unreadable = 0
    for done, factor in enumerate(factors, start=1):
        try:
            open_server_secret(
                factor.sealed_secret, key=new.totp_seal, account_id=factor.account_id
            )
            current += 1
        except CryptoError:
            try:
                seed = open_server_secret(
                    factor.sealed_secret, key=old.totp_seal, account_id=factor.account_id
                )
            except CryptoError:
                unreadable += 1
            else:
                factor.sealed_secret = seal_server_secret(
                    seed, key=new.totp_seal, account_id=factor.account_id
                )
                resealed += 1
        if progress is not None:
            progress(done, len(factors))
    if unreadable:
        raise SealedUnderNeither(unreadable, len(factors))
    return ResealReport(resealed=resealed, current=current)
