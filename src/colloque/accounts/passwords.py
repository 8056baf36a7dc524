"""Changing the password (with the old one), recovering the account (with the recovery code), and
renewing the recovery code.

Either way the client derives the new keys and re-seals its private keys itself; the server stores
the new hash, parameters and sealed copies. A new password ends every session of the account and
opens a fresh one for the caller; a renewed recovery code leaves the sessions alone.
docs/accounts.md has the flows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from colloque.accounts import throttling
from colloque.accounts.config import AccountsConfig
from colloque.accounts.devices import DeviceClaim, recognise_device
from colloque.accounts.interfaces import LoginFailed
from colloque.accounts.login import (
    Subject,
    account_email,
    email_throttle_key,
    failure_recorder,
)
from colloque.accounts.mailing import password_changed, recovery_code_renewed
from colloque.accounts.mfa import check_second_factor, totp_enabled
from colloque.accounts.models import AccessToken, Credentials, KeyBundleRow, RecoveryGrant
from colloque.accounts.sessions import (
    NewSession,
    ResolvedSession,
    SessionKind,
    end_all_sessions,
    hash_token,
    open_session,
    require_recent_reauth,
)
from colloque.audit.services import AuditAction, record
from colloque.crypto.errors import CryptoError
from colloque.crypto.keys import SealedKeysHeader, read_sealed_keys_header
from colloque.crypto.login import hash_auth_key
from colloque.errors import InvalidInput
from colloque.notifications.interfaces import MailMessage
from colloque.principal import Principal

RECOVERY_GRANT_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class NewPassword:
    """What a client sends for a new password: all derived and sealed on the client."""

    auth_key: bytes = field(repr=False)
    kdf_params: bytes
    sealed_by_password: bytes


@dataclass(frozen=True)
class NewRecoveryCode:
    """After a recovery, the keys sealed under a new recovery code and its authentication key."""

    auth_key: bytes = field(repr=False)
    kdf_params: bytes
    sealed_by_recovery: bytes


def _store(
    session: Session,
    *,
    now: datetime,
    account_id: UUID,
    password: NewPassword,
    recovery: NewRecoveryCode | None,
    config: AccountsConfig,
) -> None:
    config.check_params(password.kdf_params, field="new_kdf_params")
    if recovery is not None:
        config.check_params(recovery.kdf_params, field="new_recovery_kdf_params")
    credentials = session.get_one(Credentials, account_id)
    credentials.kdf_params = password.kdf_params
    credentials.auth_key_hash = hash_auth_key(password.auth_key)
    credentials.password_changed_at = now
    keys = session.get_one(KeyBundleRow, account_id)
    keys.sealed_by_password = password.sealed_by_password
    keys.updated_at = now
    if recovery is not None:
        _replace_recovery_code(credentials, keys, now=now, recovery=recovery)
    end_all_sessions(session, account_id=account_id)


def _replace_recovery_code(
    credentials: Credentials, keys: KeyBundleRow, *, now: datetime, recovery: NewRecoveryCode
) -> None:
    credentials.recovery_kdf_params = recovery.kdf_params
    credentials.recovery_auth_key_hash = hash_auth_key(recovery.auth_key)
    credentials.recovery_created_at = now
    credentials.recovery_used_at = None
    keys.sealed_by_recovery = recovery.sealed_by_recovery
    keys.updated_at = now


def do_change_password(
    session: Session,
    *,
    now: datetime,
    resolved: ResolvedSession,
    subject: Subject,
    new: NewPassword,
    config: AccountsConfig,
) -> tuple[NewSession, MailMessage]:
    """After :func:`~colloque.accounts.login.check_proof` of the old authentication key."""
    assert subject.account_id == resolved.account_id
    # The new session stands on the same device: its owner sees the same software and place.
    seen = session.execute(
        select(AccessToken.label, AccessToken.place).where(
            AccessToken.token_hash == resolved.token_hash
        )
    ).one()
    _store(
        session,
        now=now,
        account_id=subject.account_id,
        password=new,
        recovery=None,
        config=config,
    )
    kind = SessionKind.BEARER if resolved.kind is SessionKind.ISSUED else resolved.kind
    fresh = open_session(
        session,
        now=now,
        account_id=subject.account_id,
        kind=kind,
        mfa_verified=resolved.mfa_verified,
        label=seen.label,
        place=seen.place,
    )
    record(
        session,
        at=now,
        action=AuditAction.PASSWORD_CHANGED,
        principal=resolved.principal,
        object_kind="account",
        object_id=subject.account_id,
    )
    return fresh, password_changed(subject.email, account_id=subject.account_id)


@dataclass(frozen=True)
class RecoveryStart:
    token: str = field(repr=False)
    account_id: UUID
    sealed_by_recovery: bytes
    kdf_params: bytes
    recovery_kdf_params: bytes


def do_begin_recovery(
    session: Session,
    *,
    now: datetime,
    subject: Subject,
    totp: str | None,
    mfa_recovery_code: str | None,
    client_ip: str,
    config: AccountsConfig,
) -> RecoveryStart:
    """After :func:`~colloque.accounts.login.check_proof` of the recovery authentication key: the
    second factor, then a grant to set a new password, with the sealed keys and fresh parameters."""
    check_second_factor(
        session,
        now=now,
        account_id=subject.account_id,
        totp=totp,
        recovery_code=mfa_recovery_code,
        config=config,
        on_failure=failure_recorder(
            config,
            now=now,
            email=subject.email,
            client_ip=client_ip,
            account_id=subject.account_id,
        ),
    )
    # The code stays valid until the recovery completes; if it never does, the owner sees on the
    # account page that it was used, and renews it.
    session.get_one(Credentials, subject.account_id).recovery_used_at = now
    record(
        session,
        at=now,
        action=AuditAction.RECOVERY_CODE_USED,
        principal=Principal(account_id=subject.account_id),
        object_kind="account",
        object_id=subject.account_id,
    )
    token = "clqr_" + secrets.token_urlsafe(32)
    session.add(
        RecoveryGrant(
            token_hash=hash_token(token),
            account_id=subject.account_id,
            created_at=now,
            expires_at=now + RECOVERY_GRANT_LIFETIME,
        )
    )
    return RecoveryStart(
        token=token,
        account_id=subject.account_id,
        sealed_by_recovery=session.get_one(KeyBundleRow, subject.account_id).sealed_by_recovery,
        kdf_params=config.new_params().to_bytes(),
        recovery_kdf_params=config.new_params().to_bytes(),
    )


@dataclass(frozen=True, slots=True)
class Reopened:
    """An account opened again by a recovery or a key reset: its new session, the owner's
    notice, and the token of the device that did it, which it keeps in its cookie."""

    account_id: UUID
    session: NewSession
    notice: MailMessage
    device_token: str


def do_complete_recovery(
    session: Session,
    *,
    now: datetime,
    token: str,
    password: NewPassword,
    recovery: NewRecoveryCode,
    kind: SessionKind,
    config: AccountsConfig,
    device: DeviceClaim,
    place: str | None = None,
) -> Reopened:
    """Set the new password and recovery code with a grant (used once), end every session. The
    new session shows its owner its device's software and ``place``, as a login's does, and the
    device is one of the account's known devices from now on (it proved the email and the
    recovery code; the owner is mailed that the password changed)."""
    grant = session.scalars(
        select(RecoveryGrant)
        .where(RecoveryGrant.token_hash == hash_token(token), RecoveryGrant.expires_at > now)
        .with_for_update()
    ).one_or_none()
    if grant is None:
        raise LoginFailed("the recovery has expired; start again", field="recovery_token")
    account_id = grant.account_id
    session.execute(delete(RecoveryGrant).where(RecoveryGrant.account_id == account_id))
    _store(
        session,
        now=now,
        account_id=account_id,
        password=password,
        recovery=recovery,
        config=config,
    )
    email = account_email(session, account_id)
    throttling.clear(session, email_throttle_key(config, email))
    seen = recognise_device(session, now=now, account_id=account_id, claim=device)
    fresh = open_session(
        session,
        now=now,
        account_id=account_id,
        kind=kind,
        mfa_verified=totp_enabled(session, account_id),
        label=seen.label,
        place=place,
    )
    record(
        session,
        at=now,
        action=AuditAction.PASSWORD_RECOVERED,
        principal=Principal(account_id=account_id),
        object_kind="account",
        object_id=account_id,
    )
    return Reopened(account_id, fresh, password_changed(email, account_id=account_id), seen.token)


# The recovery code, renewed without being used --------------------------------------------------


@dataclass(frozen=True)
class RecoveryCodeStatus:
    """When the current recovery code was made, and when it last opened a recovery (if ever)."""

    created_at: datetime
    used_at: datetime | None


def recovery_code_status(session: Session, *, account_id: UUID) -> RecoveryCodeStatus | None:
    """None for an account without credentials (made by the CLI or the bulk demo data)."""
    credentials = session.get(Credentials, account_id)
    if credentials is None:
        return None
    return RecoveryCodeStatus(credentials.recovery_created_at, credentials.recovery_used_at)


def do_renew_recovery_code(
    session: Session,
    *,
    now: datetime,
    resolved: ResolvedSession,
    recovery: NewRecoveryCode,
    config: AccountsConfig,
) -> tuple[RecoveryCodeStatus, MailMessage]:
    """Replace the recovery code with one the client made (the same private keys sealed under
    it), after a recent re-authentication. The old code stops working at once, and a recovery it
    had started can no longer complete. Sessions stay: the password did not change."""
    require_recent_reauth(resolved, now=now)
    account_id = resolved.account_id
    config.check_params(recovery.kdf_params, field="recovery_kdf_params")
    keys = session.scalars(
        select(KeyBundleRow).where(KeyBundleRow.account_id == account_id).with_for_update()
    ).one()
    _check_same_keys(keys, recovery.sealed_by_recovery, account_id=account_id)
    credentials = session.get_one(Credentials, account_id)
    _replace_recovery_code(credentials, keys, now=now, recovery=recovery)
    session.execute(delete(RecoveryGrant).where(RecoveryGrant.account_id == account_id))
    record(
        session,
        at=now,
        action=AuditAction.RECOVERY_CODE_RENEWED,
        principal=resolved.principal,
        object_kind="account",
        object_id=account_id,
    )
    return RecoveryCodeStatus(now, None), recovery_code_renewed(
        account_email(session, account_id), account_id=account_id
    )


def _check_same_keys(keys: KeyBundleRow, sealed: bytes, *, account_id: UUID) -> None:
    """The new sealed copy must claim the account's current keys (its clear header): a client
    that sealed stale or foreign keys would leave a code that opens nothing useful."""
    try:
        header = read_sealed_keys_header(sealed, user_id=account_id, by_recovery=True)
    except CryptoError:
        raise InvalidInput(
            "not private keys sealed for this account", field="sealed_by_recovery"
        ) from None
    if header != SealedKeysHeader(keys.epoch, keys.encryption_public, keys.signing_public):
        raise InvalidInput(
            "the sealed keys are not this account's current keys", field="sealed_by_recovery"
        )
