"""Login and re-authentication: the server's side of a login that never sees the password.

The client asks for its KDF parameters (``accounts.prelogin``), derives an authentication key from the
password, and sends that key. The server checks it against an Argon2id hash (:func:`check_proof`,
in a read transaction), then checks the second factor and opens the session (:func:`do_log_in`,
in a write transaction). Unknown addresses get stable fake parameters, the same refusal and the
same work (a dummy hash is checked, a failure is counted), so neither the answer nor its timing
tells whether an account exists. docs/accounts.md has the whole flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accounts import throttling
from colloque.accounts.config import AccountsConfig
from colloque.accounts.devices import DeviceClaim, recognise_device
from colloque.accounts.interfaces import LoginFailed, Recorder, Refusal
from colloque.accounts.mailing import account_locked, new_device
from colloque.accounts.mfa import check_second_factor, totp_enabled
from colloque.accounts.models import Account, Credentials, KeyBundleRow, KnownDevice
from colloque.accounts.sessions import (
    NewSession,
    ResolvedSession,
    SessionKind,
    end_other_sessions,
    end_session,
    hash_token,
    load_memberships,
    mark_reauthenticated,
    open_session,
    place_of,
)
from colloque.audit.services import AuditAction, record
from colloque.crypto.errors import AuthenticationFailed
from colloque.crypto.login import auth_key_needs_rehash, hash_auth_key, verify_auth_key
from colloque.notifications.interfaces import MailMessage
from colloque.principal import ANONYMOUS, Principal, credential_id
from colloque.text import normalise_email

WRONG_CREDENTIALS = "the email address or the password is not right"


@dataclass(frozen=True)
class Subject:
    """Who proved their password (or recovery code): the account and the address it signs in with,
    and the throttle key of the account's known device it came from, if it did."""

    account_id: UUID
    email: str
    device_key: str | None = None


def email_throttle_key(config: AccountsConfig, email: str) -> str:
    return "login:email:" + config.email_key(email)


def network_throttle_key(config: AccountsConfig, client_ip: str) -> str:
    return throttling.ip_key(config, "login", throttling.login_network(client_ip))


def device_throttle_key(account_id: UUID, device_hash: bytes) -> str:
    """One known device of one account (a device shared by two accounts has a key for each)."""
    return f"login:device:{hash_token(account_id.hex + device_hash.hex()).hex()[:40]}"


def trusted_device(
    session: Session, *, now: datetime, account_id: UUID | None, device: DeviceClaim | None
) -> str | None:
    """The throttle key of the account's known device this attempt comes from (its cookie, as
    OWASP's "device cookies"), or None for an unknown device or one locked for its own failures:
    a known device is not held by the locks that an attacker's attempts from elsewhere set."""
    if account_id is None or device is None or not device.token:
        return None
    device_hash = hash_token(device.token)
    if session.get(KnownDevice, (account_id, device_hash)) is None:
        return None
    key = device_throttle_key(account_id, device_hash)
    return None if throttling.is_locked(session, key, now=now) else key


def failure_recorder(
    config: AccountsConfig,
    *,
    now: datetime,
    email: str,
    client_ip: str,
    account_id: UUID | None,
    device_key: str | None = None,
) -> Recorder:
    """Count a failed proof: for a known device, against that device alone; otherwise for the
    address and the network. Mail the owner when it locks (once per lock, not per attempt)."""

    def record_failure(session: Session) -> MailMessage | None:
        _audit(session, now, ANONYMOUS, AuditAction.LOGIN_FAILED, account_id)
        if device_key is not None:
            locked_until = throttling.count(
                session, device_key, now=now, limit=throttling.LOGIN_FAILURES_PER_DEVICE
            )
        else:
            throttling.count(
                session,
                network_throttle_key(config, client_ip),
                now=now,
                limit=throttling.LOGIN_FAILURES_PER_IP,
            )
            locked_until = throttling.count(
                session,
                email_throttle_key(config, email),
                now=now,
                limit=throttling.LOGIN_FAILURES_PER_EMAIL,
            )
        if locked_until is None or account_id is None:
            return None
        _audit(session, now, ANONYMOUS, AuditAction.ACCOUNT_LOCKED, account_id)
        return account_locked(email, locked_until, account_id=account_id)

    return record_failure


def _audit(
    session: Session,
    now: datetime,
    principal: Principal,
    action: AuditAction,
    account_id: UUID | None,
) -> None:
    record(
        session,
        at=now,
        action=action,
        principal=principal,
        object_kind="account",
        object_id=account_id,
    )


def check_proof(
    session: Session,
    *,
    now: datetime,
    email: str,
    proof: bytes,
    client_ip: str,
    config: AccountsConfig,
    recovery: bool = False,
    device: DeviceClaim | None = None,
) -> Subject:
    """Check an authentication key (or, with ``recovery``, a recovery authentication key).

    From one of the account's known devices (``device``), only that device's own lock applies;
    from any other, raises Throttled while the network or the address is locked. Raises a Refusal
    (to be recorded) when the key is wrong or the address has no usable account. Reads only: call
    it outside a write.
    """
    normalised = normalise_email(email)
    column = Credentials.recovery_auth_key_hash if recovery else Credentials.auth_key_hash
    found = session.execute(
        select(Account.account_id, Account.disabled, column)
        .outerjoin(Credentials, Credentials.account_id == Account.account_id)
        .where(Account.email == normalised)
    ).one_or_none()
    account_id = found.account_id if found is not None else None
    device_key = trusted_device(session, now=now, account_id=account_id, device=device)
    if device_key is None:
        throttling.check(session, network_throttle_key(config, client_ip), now=now)
        throttling.check(session, email_throttle_key(config, normalised), now=now)
    stored = found[2] if found is not None and not found.disabled else None
    try:
        verify_auth_key(stored, proof)
    except AuthenticationFailed:
        recorder = failure_recorder(
            config,
            now=now,
            email=normalised,
            client_ip=client_ip,
            account_id=account_id,
            device_key=device_key,
        )
        raise Refusal(LoginFailed(WRONG_CREDENTIALS), recorder) from None
    assert found is not None  # only a stored hash verifies
    return Subject(account_id=found.account_id, email=normalised, device_key=device_key)


@dataclass(frozen=True)
class KeyBundleOut:
    epoch: int
    encryption_public: bytes
    signing_public: bytes
    sealed_by_password: bytes
    sealed_by_recovery: bytes


def key_bundle(session: Session, account_id: UUID) -> KeyBundleOut:
    row = session.get_one(KeyBundleRow, account_id)
    return KeyBundleOut(
        row.epoch,
        row.encryption_public,
        row.signing_public,
        row.sealed_by_password,
        row.sealed_by_recovery,
    )


@dataclass(frozen=True)
class LoginResult:
    account_id: UUID
    session: NewSession
    kdf_params: bytes
    keys: KeyBundleOut
    mfa_enabled: bool
    is_member: bool
    #: The token the device keeps (in its cookie) to be recognised next time.
    device_token: str
    #: The owner's notice of a sign-in from a device the account had not used, if it is one.
    notice: MailMessage | None


def do_log_in(
    session: Session,
    *,
    now: datetime,
    subject: Subject,
    auth_key: bytes,
    totp: str | None,
    recovery_code: str | None,
    kind: SessionKind,
    client_ip: str,
    config: AccountsConfig,
    device: DeviceClaim,
) -> LoginResult:
    """After :func:`check_proof`: the second factor, then a new session of ``kind``; a device
    the account has not signed in from before is recorded and its owner told."""
    account_id = subject.account_id
    # The proof was checked in an earlier, read-only transaction: the account may have been
    # deleted or disabled since. Read it again under a key-share lock, so that a deletion
    # running now waits for this login (and then takes its session with it, ON DELETE CASCADE)
    # or has committed and the login fails like any other, never on a missing row.
    # SQLite needs no lock: its write transactions are serialised (BEGIN IMMEDIATE).
    still = session.execute(
        select(Account.disabled)
        .where(Account.account_id == account_id)
        .with_for_update(key_share=True, read=True)
    ).one_or_none()
    if still is None or still.disabled:
        raise LoginFailed(WRONG_CREDENTIALS)
    recorder = failure_recorder(
        config,
        now=now,
        email=subject.email,
        client_ip=client_ip,
        account_id=account_id,
        device_key=subject.device_key,
    )
    check_second_factor(
        session,
        now=now,
        account_id=account_id,
        totp=totp,
        recovery_code=recovery_code,
        config=config,
        on_failure=recorder,
    )
    mfa_enabled = totp_enabled(session, account_id)
    _clear_failures(session, config, subject)
    credentials = session.get_one(Credentials, account_id)
    if auth_key_needs_rehash(credentials.auth_key_hash):
        credentials.auth_key_hash = hash_auth_key(auth_key)
    seen = recognise_device(session, now=now, account_id=account_id, claim=device)
    new = open_session(
        session,
        now=now,
        account_id=account_id,
        kind=kind,
        mfa_verified=mfa_enabled,
        label=seen.label,
        place=place_of(client_ip),
    )
    # The login's event names the session it opened: what that session does next is traced to it.
    opened = Principal(account_id=account_id, credential_id=credential_id(hash_token(new.token)))
    _audit(session, now, opened, AuditAction.LOGIN_SUCCEEDED, account_id)
    return LoginResult(
        account_id=account_id,
        session=new,
        kdf_params=credentials.kdf_params,
        keys=key_bundle(session, account_id),
        mfa_enabled=mfa_enabled,
        is_member=bool(load_memberships(session, account_id)),
        device_token=seen.token,
        notice=(
            new_device(subject.email, label=seen.label, at=now, account_id=account_id)
            if seen.is_new
            else None
        ),
    )


def _clear_failures(session: Session, config: AccountsConfig, subject: Subject) -> None:
    """A success clears the failures it is counted with: a known device's own, or the address's
    (a success on the owner's device leaves an attacker's lock of the address in place)."""
    if subject.device_key is not None:
        throttling.clear(session, subject.device_key)
    else:
        throttling.clear(session, email_throttle_key(config, subject.email))


def account_email(session: Session, account_id: UUID) -> str:
    """The address an account signs in with; accounts without one cannot prove a password, so
    they get an address that matches none (and fail like an unknown one)."""
    email = session.scalar(select(Account.email).where(Account.account_id == account_id))
    return email or f"{account_id}@accounts.invalid"


def do_reauthenticate(
    session: Session,
    *,
    now: datetime,
    resolved: ResolvedSession,
    subject: Subject,
    totp: str | None,
    recovery_code: str | None,
    client_ip: str,
    config: AccountsConfig,
) -> datetime:
    """After :func:`check_proof` of the session's own account: second factor, then the session
    may make sensitive changes for five minutes. Returns when that window started."""
    recorder = failure_recorder(
        config,
        now=now,
        email=subject.email,
        client_ip=client_ip,
        account_id=subject.account_id,
        device_key=subject.device_key,
    )
    check_second_factor(
        session,
        now=now,
        account_id=subject.account_id,
        totp=totp,
        recovery_code=recovery_code,
        config=config,
        on_failure=recorder,
    )
    _clear_failures(session, config, subject)
    mark_reauthenticated(session, token_hash=resolved.token_hash, now=now)
    _audit(session, now, resolved.principal, AuditAction.REAUTHENTICATED, subject.account_id)
    return now


def do_log_out(session: Session, *, now: datetime, resolved: ResolvedSession) -> None:
    """End this session (the account's others stay open)."""
    end_session(session, token_hash=resolved.token_hash)
    record(
        session,
        at=now,
        action=AuditAction.LOGGED_OUT,
        principal=resolved.principal,
        object_kind="account",
        object_id=resolved.account_id,
    )


def do_log_out_elsewhere(session: Session, *, now: datetime, resolved: ResolvedSession) -> int:
    """End every other session of the account, whatever its kind (browsers, API clients, tokens
    issued by the CLI): after a lost device or a shared computer, nothing else stays signed in.
    This one stays. Returns how many ended."""
    ended = end_other_sessions(session, account_id=resolved.account_id, keep=resolved.token_hash)
    record(
        session,
        at=now,
        action=AuditAction.LOGGED_OUT_ELSEWHERE,
        principal=resolved.principal,
        object_kind="account",
        object_id=resolved.account_id,
    )
    return ended
