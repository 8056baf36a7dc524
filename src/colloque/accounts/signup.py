"""Sign-up with a mailed code, and changing the address an account signs in with.

Sign-up: :func:`do_start_signup` mails a 6-digit code valid 10 minutes (to an address that already
has an account it mails a notice instead, and the answer is the same); :func:`do_verify_signup`
checks it (5 tries) and hands out a sign-up token, the new account's id and fresh KDF parameters;
:func:`do_complete_signup` stores what the client derived and sealed, and opens a session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from colloque.accounts import throttling
from colloque.accounts.config import AccountsConfig
from colloque.accounts.interfaces import Refusal
from colloque.accounts.mailing import email_change_code, email_changed, signup_code, signup_existing
from colloque.accounts.models import Account, Credentials, EmailChallenge, KeyBundleRow
from colloque.accounts.passwords import NewPassword, NewRecoveryCode
from colloque.accounts.sessions import (
    NewSession,
    ResolvedSession,
    SessionKind,
    hash_token,
    open_session,
    require_recent_reauth,
)
from colloque.audit.services import AuditAction, record
from colloque.crypto.login import hash_auth_key
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.errors import InvalidInput
from colloque.ids import new_id
from colloque.keydirectory.interfaces import LogSigner
from colloque.keydirectory.services import publish_bindings
from colloque.notifications.interfaces import MailMessage
from colloque.patients.services import OwnDetails, do_create_own_record
from colloque.principal import Principal

CODE_LIFETIME = timedelta(minutes=10)
CODE_ATTEMPTS = 5
SIGNUP_TOKEN_LIFETIME = timedelta(minutes=30)
WRONG_CODE = "the code is wrong or has expired"


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def count_mail(
    session: Session, *, now: datetime, email: str, client_ip: str, config: AccountsConfig
) -> None:
    """At most 5 codes an hour to one address, 20 from one IP address."""
    ip_key = throttling.ip_key(config, "codes", client_ip)
    email_key = "codes:email:" + config.email_key(email)
    throttling.check(session, ip_key, now=now)
    throttling.check(session, email_key, now=now)
    throttling.count(session, ip_key, now=now, limit=throttling.CODES_PER_IP)
    throttling.count(session, email_key, now=now, limit=throttling.CODES_PER_EMAIL)


def challenge_with_code(
    session: Session,
    *,
    now: datetime,
    purpose: str,
    email: str,
    account_id: UUID | None,
    config: AccountsConfig,
) -> tuple[EmailChallenge, str]:
    code = _new_code()
    challenge_id = new_id()
    challenge = EmailChallenge(
        challenge_id=challenge_id,
        purpose=purpose,
        email=email,
        account_id=account_id,
        code_hash=config.code_hash(challenge_id, code),
        attempts=0,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    session.add(challenge)
    return challenge, code


def check_code(
    session: Session,
    challenge: EmailChallenge | None,
    *,
    now: datetime,
    code: str,
    config: AccountsConfig,
) -> EmailChallenge:
    """The challenge, if the code is right, in time and within its tries; else a counted Refusal."""
    if (
        challenge is not None
        and challenge.token_hash is None
        and challenge.expires_at > now
        and challenge.attempts < CODE_ATTEMPTS
        and secrets.compare_digest(
            config.code_hash(challenge.challenge_id, "".join(code.split())), challenge.code_hash
        )
    ):
        return challenge
    challenge_id = challenge.challenge_id if challenge is not None else None

    def count_attempt(session: Session) -> None:
        session.execute(
            update(EmailChallenge)
            .where(EmailChallenge.challenge_id == challenge_id)
            .values(attempts=EmailChallenge.attempts + 1)
        )

    raise Refusal(InvalidInput(WRONG_CODE, field="code"), count_attempt)


def do_start_signup(
    session: Session, *, now: datetime, email: str, client_ip: str, config: AccountsConfig
) -> tuple[UUID, MailMessage]:
    """Open a challenge for ``email`` (normalised, checked) and say what to mail to it."""
    count_mail(session, now=now, email=email, client_ip=client_ip, config=config)
    challenge, code = challenge_with_code(
        session, now=now, purpose="signup", email=email, account_id=None, config=config
    )
    taken = session.scalar(select(Account.account_id).where(Account.email == email))
    message = (
        signup_existing(email, account_id=taken) if taken is not None else signup_code(email, code)
    )
    return challenge.challenge_id, message


@dataclass(frozen=True)
class SignupTicket:
    account_id: UUID
    token: str = field(repr=False)
    kdf_params: bytes
    recovery_kdf_params: bytes


def do_verify_signup(
    session: Session, *, now: datetime, challenge_id: UUID, code: str, config: AccountsConfig
) -> SignupTicket:
    challenge = session.scalars(
        select(EmailChallenge)
        .where(EmailChallenge.challenge_id == challenge_id, EmailChallenge.purpose == "signup")
        .with_for_update()
    ).one_or_none()
    challenge = check_code(session, challenge, now=now, code=code, config=config)
    token = "clqs_" + secrets.token_urlsafe(32)
    account_id = new_id()
    challenge.token_hash = hash_token(token)
    challenge.new_account_id = account_id
    challenge.expires_at = now + SIGNUP_TOKEN_LIFETIME
    return SignupTicket(
        account_id=account_id,
        token=token,
        kdf_params=config.new_params().to_bytes(),
        recovery_kdf_params=config.new_params().to_bytes(),
    )


@dataclass(frozen=True)
class PublicKeys:
    encryption_public: bytes
    signing_public: bytes
    epoch: int = 1


def do_complete_signup(
    session: Session,
    *,
    now: datetime,
    token: str,
    display_name: str,
    password: NewPassword,
    recovery: NewRecoveryCode,
    public_keys: PublicKeys,
    kind: SessionKind,
    config: AccountsConfig,
    log: LogSigner,
    own: OwnDetails = OwnDetails(),
    label: str | None = None,
    place: str | None = None,
) -> tuple[Account, NewSession]:
    """Create the account with what the client derived and sealed, and its holder's own patient
    record (``own``: names and birth date, each optional), and open its first session (seen
    from ``label``'s software at ``place``, as its owner's sessions list shows it)."""
    challenge = session.scalars(
        select(EmailChallenge)
        .where(
            EmailChallenge.token_hash == hash_token(token),
            EmailChallenge.purpose == "signup",
            EmailChallenge.expires_at > now,
        )
        .with_for_update()
    ).one_or_none()
    if challenge is None:
        raise InvalidInput("the sign-up has expired; start again", field="signup_token")
    assert challenge.new_account_id is not None  # set with the token
    config.check_params(password.kdf_params, field="kdf_params")
    config.check_params(recovery.kdf_params, field="recovery_kdf_params")
    account = create_account_with_credentials(
        session,
        now=now,
        account_id=challenge.new_account_id,
        email=challenge.email,
        display_name=display_name,
        password=password,
        recovery=recovery,
        public_keys=public_keys,
        log=log,
        own=own,
    )
    session.delete(challenge)
    fresh = open_session(
        session,
        now=now,
        account_id=account.account_id,
        kind=kind,
        mfa_verified=False,
        label=label,
        place=place,
    )
    return account, fresh


def create_account_with_credentials(
    session: Session,
    *,
    now: datetime,
    account_id: UUID,
    email: str,
    display_name: str,
    password: NewPassword,
    recovery: NewRecoveryCode,
    public_keys: PublicKeys,
    log: LogSigner,
    own: OwnDetails = OwnDetails(),
) -> Account:
    """The rows of a new account (also used by the demo's in-process sign-up), with its two
    public keys published in the key directory and the holder's own patient record (names from
    ``own`` or else from the display name; the birth date from ``own``, else left to complete)."""
    if not display_name.strip():
        raise InvalidInput("display name is required", field="display_name")
    account = Account(
        account_id=account_id,
        email=email,
        display_name=display_name.strip(),
        is_operator=False,
        disabled=False,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        raise InvalidInput("email is not available", field="email") from None
    session.add(
        Credentials(
            account_id=account_id,
            kdf_params=password.kdf_params,
            auth_key_hash=hash_auth_key(password.auth_key),
            recovery_kdf_params=recovery.kdf_params,
            recovery_auth_key_hash=hash_auth_key(recovery.auth_key),
            password_changed_at=now,
            recovery_created_at=now,
        )
    )
    session.add(
        KeyBundleRow(
            account_id=account_id,
            epoch=public_keys.epoch,
            encryption_public=public_keys.encryption_public,
            signing_public=public_keys.signing_public,
            sealed_by_password=password.sealed_by_password,
            sealed_by_recovery=recovery.sealed_by_recovery,
            updated_at=now,
        )
    )
    publish_bindings(
        session,
        bindings=[
            KeyBinding(
                SubjectKind.USER,
                account_id,
                KeyPurpose.ENCRYPTION,
                public_keys.epoch,
                public_keys.encryption_public,
            ),
            KeyBinding(
                SubjectKind.USER,
                account_id,
                KeyPurpose.SIGNING,
                public_keys.epoch,
                public_keys.signing_public,
            ),
        ],
        now=now,
        log=log,
    )
    record(
        session,
        at=now,
        action=AuditAction.ACCOUNT_CREATED,
        principal=Principal(account_id=account_id),
        object_kind="account",
        object_id=account_id,
    )
    do_create_own_record(
        session, now=now, account_id=account_id, display_name=account.display_name, details=own
    )
    return account


def do_start_email_change(
    session: Session,
    *,
    now: datetime,
    resolved: ResolvedSession,
    new_email: str,
    client_ip: str,
    config: AccountsConfig,
) -> tuple[UUID, MailMessage]:
    """Mail a code to the new address (whether or not it is taken: that shows at confirmation)."""
    require_recent_reauth(resolved, now=now)
    count_mail(session, now=now, email=new_email, client_ip=client_ip, config=config)
    challenge, code = challenge_with_code(
        session,
        now=now,
        purpose="email_change",
        email=new_email,
        account_id=resolved.account_id,
        config=config,
    )
    return challenge.challenge_id, email_change_code(
        new_email, code, account_id=resolved.account_id
    )


def do_confirm_email_change(
    session: Session,
    *,
    now: datetime,
    resolved: ResolvedSession,
    challenge_id: UUID,
    code: str,
    config: AccountsConfig,
) -> MailMessage:
    """Switch to the confirmed address; returns the notice for the old one."""
    challenge = session.scalars(
        select(EmailChallenge)
        .where(
            EmailChallenge.challenge_id == challenge_id,
            EmailChallenge.purpose == "email_change",
            EmailChallenge.account_id == resolved.account_id,
        )
        .with_for_update()
    ).one_or_none()
    challenge = check_code(session, challenge, now=now, code=code, config=config)
    account = session.get_one(Account, resolved.account_id)
    old_email = account.email
    assert old_email is not None  # re-authenticated at the start, so it has an address
    try:
        with session.begin_nested():
            account.email = challenge.email
            session.flush()
    except IntegrityError:
        raise InvalidInput("email is not available", field="email") from None
    session.delete(challenge)
    record(
        session,
        at=now,
        action=AuditAction.EMAIL_CHANGED,
        principal=resolved.principal,
        object_kind="account",
        object_id=resolved.account_id,
    )
    return email_changed(old_email, account_id=resolved.account_id)
