"""The second factor: TOTP (RFC 6238, 30-second steps, 6 digits) and ten single-use recovery codes.

Required for practice members (until it is set up, their principal has ``mfa_satisfied`` False and
the policy refuses every practice action), optional for patients. A TOTP code is never accepted
twice: the last accepted step is kept. Recovery codes are stored as SHA-256 hashes.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from colloque.accounts.config import AccountsConfig, sha256
from colloque.accounts.interfaces import LoginFailed, MfaRequired, Recorder, Refusal
from colloque.accounts.mailing import mfa_disabled
from colloque.accounts.models import AccessToken, Account, MfaRecoveryCode, TotpFactor
from colloque.accounts.secrets import open_server_secret, seal_server_secret
from colloque.accounts.sessions import (
    ResolvedSession,
    SessionKind,
    load_memberships,
    require_recent_reauth,
)
from colloque.audit.services import AuditAction, record
from colloque.errors import Conflict, Forbidden, InvalidInput
from colloque.notifications.interfaces import MailMessage
from colloque.principal import Principal

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
#: Steps accepted on either side of the current one (clock drift).
TOTP_DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: 5 bits a character
_RECOVERY_LENGTH = 10  # 50 bits
ISSUER = "Colloque"


@dataclass(frozen=True)
class TotpSetup:
    """What the authenticator app needs: shown to the user once, never logged."""

    secret: str = field(repr=False)
    uri: str = field(repr=False)


def _step(now: datetime) -> int:
    return int(now.timestamp()) // TOTP_STEP_SECONDS


def _matching_step(secret: str, code: str, now: datetime, last_used: int | None) -> int | None:
    code = "".join(code.split())
    if len(code) != TOTP_DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    current = _step(now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if last_used is not None and step <= last_used:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_hash(account_id: UUID, code: str) -> bytes:
    compact = "".join(code.split()).replace("-", "").lower()
    return sha256(account_id.bytes + compact.encode())


def _new_recovery_codes(session: Session, *, now: datetime, account_id: UUID) -> list[str]:
    session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.account_id == account_id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        session.add(
            MfaRecoveryCode(
                account_id=account_id, code_hash=_recovery_hash(account_id, code), created_at=now
            )
        )
    return codes


def _factor(session: Session, account_id: UUID, *, confirmed: bool) -> TotpFactor | None:
    factor = session.scalars(
        select(TotpFactor).where(TotpFactor.account_id == account_id).with_for_update()
    ).one_or_none()
    if factor is None or (factor.confirmed_at is not None) != confirmed:
        return None
    return factor


def totp_enabled(session: Session, account_id: UUID) -> bool:
    return (
        session.scalar(
            select(TotpFactor.account_id).where(
                TotpFactor.account_id == account_id, TotpFactor.confirmed_at.is_not(None)
            )
        )
        is not None
    )


def check_second_factor(
    session: Session,
    *,
    now: datetime,
    account_id: UUID,
    totp: str | None,
    recovery_code: str | None,
    config: AccountsConfig,
    on_failure: Recorder,
) -> None:
    """Pass when the account has no TOTP or the code (or an unused recovery code) is right.

    Raises MfaRequired when neither was given, and a Refusal (counted by ``on_failure``) when the
    one given is wrong. Call it in a write transaction: it consumes what it accepts.
    """
    factor = _factor(session, account_id, confirmed=True)
    if factor is None:
        return
    if totp is not None:
        secret = open_server_secret(
            factor.sealed_secret, key=config.totp_key, account_id=account_id
        ).decode()
        step = _matching_step(secret, totp, now, factor.last_used_step)
        if step is None:
            raise Refusal(LoginFailed("the code is not right", field="totp"), on_failure)
        factor.last_used_step = step
        return
    if recovery_code is not None:
        used = session.execute(
            update(MfaRecoveryCode)
            .where(
                MfaRecoveryCode.account_id == account_id,
                MfaRecoveryCode.code_hash == _recovery_hash(account_id, recovery_code),
                MfaRecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .returning(MfaRecoveryCode.code_hash)
        ).first()
        if used is None:
            raise Refusal(
                LoginFailed("the recovery code is not right", field="recovery_code"), on_failure
            )
        _audit(session, now, Principal(account_id=account_id), AuditAction.MFA_CODE_USED)
        return
    raise MfaRequired("enter the code of your authenticator app", field="totp")


def _audit(session: Session, now: datetime, principal: Principal, action: AuditAction) -> None:
    record(
        session,
        at=now,
        action=action,
        principal=principal,
        object_kind="account",
        object_id=principal.account_id,
    )


def do_begin_totp(
    session: Session, *, now: datetime, resolved: ResolvedSession, config: AccountsConfig
) -> TotpSetup:
    """A new seed, pending until :func:`do_confirm_totp`. Needs a recent re-authentication."""
    require_recent_reauth(resolved, now=now)
    account_id = resolved.account_id
    if _factor(session, account_id, confirmed=True) is not None:
        raise Conflict("TOTP is already set up; turn it off first to replace it")
    session.execute(delete(TotpFactor).where(TotpFactor.account_id == account_id))
    secret = pyotp.random_base32()
    session.add(
        TotpFactor(
            account_id=account_id,
            sealed_secret=seal_server_secret(
                secret.encode(), key=config.totp_key, account_id=account_id
            ),
            created_at=now,
        )
    )
    account = session.get_one(Account, account_id)
    name = account.email or str(account_id)
    uri = pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)
    return TotpSetup(secret=secret, uri=uri)


def do_confirm_totp(
    session: Session,
    *,
    now: datetime,
    resolved: ResolvedSession,
    code: str,
    config: AccountsConfig,
) -> list[str]:
    """Turn TOTP on with a first code; returns the ten recovery codes, to show once."""
    require_recent_reauth(resolved, now=now)
    account_id = resolved.account_id
    factor = _factor(session, account_id, confirmed=False)
    if factor is None:
        raise InvalidInput("start the TOTP set-up first", field="code")
    secret = open_server_secret(
        factor.sealed_secret, key=config.totp_key, account_id=account_id
    ).decode()
    step = _matching_step(secret, code, now, None)
    if step is None:
        raise InvalidInput("the code is not right", field="code")
    factor.confirmed_at = now
    factor.last_used_step = step
    codes = _new_recovery_codes(session, now=now, account_id=account_id)
    # This session has just proved the second factor.
    session.execute(
        update(AccessToken)
        .where(AccessToken.token_hash == resolved.token_hash)
        .values(mfa_verified=True)
    )
    _audit(session, now, resolved.principal, AuditAction.MFA_ENABLED)
    return codes


def do_renew_recovery_codes(
    session: Session, *, now: datetime, resolved: ResolvedSession
) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    require_recent_reauth(resolved, now=now)
    if not totp_enabled(session, resolved.account_id):
        raise InvalidInput("TOTP is not set up", field="totp")
    codes = _new_recovery_codes(session, now=now, account_id=resolved.account_id)
    _audit(session, now, resolved.principal, AuditAction.MFA_CODES_RENEWED)
    return codes


def do_disable_totp(session: Session, *, now: datetime, resolved: ResolvedSession) -> MailMessage:
    """Turn TOTP off (patients only: practice members must keep it). Tells the owner by mail."""
    require_recent_reauth(resolved, now=now)
    account_id = resolved.account_id
    if load_memberships(session, account_id):
        raise Forbidden("practice members must keep two-factor authentication")
    if _factor(session, account_id, confirmed=True) is None:
        raise InvalidInput("TOTP is not set up", field="totp")
    session.execute(delete(TotpFactor).where(TotpFactor.account_id == account_id))
    session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.account_id == account_id))
    session.execute(
        update(AccessToken)
        .where(AccessToken.account_id == account_id, AccessToken.kind != SessionKind.ISSUED.value)
        .values(mfa_verified=False)
    )
    _audit(session, now, resolved.principal, AuditAction.MFA_DISABLED)
    email = session.get_one(Account, account_id).email
    assert email is not None  # re-authenticated, so it has credentials, so an address
    return mfa_disabled(email, account_id=account_id)
