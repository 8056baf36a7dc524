"""Key reset: new keys for an account whose password and recovery code are both lost.

:func:`do_start_key_reset` mails a code to the address (to an address without a usable account it
mails nothing, and the answer is the same); :func:`do_verify_key_reset` checks the code, then the
second factor when TOTP is enrolled, and hands out a reset token, the account id, the next key
epoch and fresh KDF parameters; :func:`do_complete_key_reset` replaces the credentials and the key
bundle with what the client generated, ends every session and tells the owner by mail.

Everything sealed for the old keys stays sealed for them: only a practice can re-share it, once
a member has checked the patient's identity. docs/accounts.md has the rules, docs/crypto.md
section 3.1 what happens to keys.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from colloque.accounts import throttling
from colloque.accounts.config import AccountsConfig
from colloque.accounts.devices import DeviceClaim, recognise_device
from colloque.accounts.login import email_throttle_key, failure_recorder
from colloque.accounts.mailing import key_reset_code, keys_reset
from colloque.accounts.mfa import check_second_factor, totp_enabled
from colloque.accounts.models import (
    Account,
    Credentials,
    EmailChallenge,
    KeyBundleRow,
    RecoveryGrant,
)
from colloque.accounts.passwords import NewPassword, NewRecoveryCode, Reopened
from colloque.accounts.services import current_key_epoch
from colloque.accounts.sessions import (
    SessionKind,
    end_all_sessions,
    hash_token,
    load_memberships,
    open_session,
)
from colloque.accounts.signup import PublicKeys, challenge_with_code, check_code, count_mail
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import may_reset_keys_by_mail_alone
from colloque.crypto.errors import CryptoError
from colloque.crypto.keys import SealedKeysHeader, read_sealed_keys_header
from colloque.crypto.login import hash_auth_key
from colloque.crypto.statements import EndorsementKind, KeyEndorsement, verify_endorsement
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.errors import Forbidden, InvalidInput
from colloque.keydirectory.interfaces import LogSigner
from colloque.keydirectory.services import publish_bindings
from colloque.notifications.interfaces import MailMessage
from colloque.principal import Principal

PURPOSE = "key_reset"
RESET_TOKEN_LIFETIME = timedelta(minutes=30)
EXPIRED = "the key reset has expired; start again"


def do_start_key_reset(
    session: Session, *, now: datetime, email: str, client_ip: str, config: AccountsConfig
) -> tuple[UUID, MailMessage | None]:
    """Open a challenge for ``email`` (normalised, checked) and say what to mail, if anything.

    The same work and the same answer whether or not the address has an account: only its
    owner learns, by the mail, that it has one."""
    count_mail(session, now=now, email=email, client_ip=client_ip, config=config)
    # Only an account with keys has anything to reset (accounts made in-process may have none).
    account_id = session.scalar(
        select(Account.account_id)
        .join(KeyBundleRow, KeyBundleRow.account_id == Account.account_id)
        .where(Account.email == email, Account.disabled.is_(False))
    )
    challenge, code = challenge_with_code(
        session, now=now, purpose=PURPOSE, email=email, account_id=account_id, config=config
    )
    message = key_reset_code(email, code, account_id=account_id) if account_id is not None else None
    return challenge.challenge_id, message


@dataclass(frozen=True)
class KeyResetTicket:
    account_id: UUID
    token: str = field(repr=False)
    #: The epoch the new keys must carry: the current one plus one.
    epoch: int
    kdf_params: bytes
    recovery_kdf_params: bytes


def do_verify_key_reset(
    session: Session,
    *,
    now: datetime,
    reset_id: UUID,
    code: str,
    totp: str | None,
    mfa_recovery_code: str | None,
    client_ip: str,
    config: AccountsConfig,
) -> KeyResetTicket:
    """The mailed code, then the second factor: a TOTP code (or an MFA recovery code) when TOTP
    is enrolled. A practice member (or an operator) without TOTP is refused: mail alone never
    hands over an account that reaches practice data."""
    challenge = session.scalars(
        select(EmailChallenge)
        .where(EmailChallenge.challenge_id == reset_id, EmailChallenge.purpose == PURPOSE)
        .with_for_update()
    ).one_or_none()
    if challenge is not None:
        throttling.check(session, throttling.ip_key(config, "login", client_ip), now=now)
        throttling.check(session, email_throttle_key(config, challenge.email), now=now)
        # An address without an account got no code: no code can be right for it.
        if challenge.account_id is None or not _still_owned(session, challenge):
            challenge = None
    challenge = check_code(session, challenge, now=now, code=code, config=config)
    account_id = challenge.account_id
    assert account_id is not None  # checked above
    if totp_enabled(session, account_id):
        login_failure = failure_recorder(
            config, now=now, email=challenge.email, client_ip=client_ip, account_id=account_id
        )
        challenge_id = challenge.challenge_id

        def record_failure(session: Session) -> MailMessage | None:
            _count_attempt(session, challenge_id)
            return login_failure(session)

        check_second_factor(
            session,
            now=now,
            account_id=account_id,
            totp=totp,
            recovery_code=mfa_recovery_code,
            config=config,
            on_failure=record_failure,
        )
    elif not may_reset_keys_by_mail_alone(
        practice_member=bool(load_memberships(session, account_id)),
        operator=session.get_one(Account, account_id).is_operator,
    ):
        raise Forbidden(
            "a practice member or operator without two-factor authentication cannot reset their "
            "keys by mail; ask an administrator of your practice",
            field="totp",
        )
    token = "clqk_" + secrets.token_urlsafe(32)
    challenge.token_hash = hash_token(token)
    challenge.expires_at = now + RESET_TOKEN_LIFETIME
    return KeyResetTicket(
        account_id=account_id,
        token=token,
        epoch=current_key_epoch(session, account_id=account_id) + 1,
        kdf_params=config.new_params().to_bytes(),
        recovery_kdf_params=config.new_params().to_bytes(),
    )


def _still_owned(session: Session, challenge: EmailChallenge) -> bool:
    """The account still signs in with the address the code went to, and is not disabled."""
    found = session.execute(
        select(Account.email, Account.disabled).where(Account.account_id == challenge.account_id)
    ).one_or_none()
    return found is not None and found.email == challenge.email and not found.disabled


def _count_attempt(session: Session, challenge_id: UUID) -> None:
    session.execute(
        update(EmailChallenge)
        .where(EmailChallenge.challenge_id == challenge_id)
        .values(attempts=EmailChallenge.attempts + 1)
    )


def do_complete_key_reset(
    session: Session,
    *,
    now: datetime,
    token: str,
    password: NewPassword,
    recovery: NewRecoveryCode,
    public_keys: PublicKeys,
    endorsement: bytes,
    kind: SessionKind,
    config: AccountsConfig,
    log: LogSigner,
    device: DeviceClaim,
    place: str | None = None,
) -> Reopened:
    """Replace the credentials and the key bundle (token used once), end every session and
    pending recovery, open a session for the caller (seen from its device's software at
    ``place``, as a login's, and the device known from now on); with the notice for the owner.

    ``endorsement`` is the new epoch's reset endorsement (docs/crypto.md, section 5.12),
    published with the two bindings."""
    challenge = session.scalars(
        select(EmailChallenge)
        .where(
            EmailChallenge.token_hash == hash_token(token),
            EmailChallenge.purpose == PURPOSE,
            EmailChallenge.expires_at > now,
        )
        .with_for_update()
    ).one_or_none()
    if challenge is None or not _still_owned(session, challenge):
        raise InvalidInput(EXPIRED, field="reset_token")
    account_id = challenge.account_id
    assert account_id is not None  # a token is only handed out for an account
    keys = session.scalars(
        select(KeyBundleRow).where(KeyBundleRow.account_id == account_id).with_for_update()
    ).one()
    _check_new_keys(
        keys,
        account_id=account_id,
        public_keys=public_keys,
        password=password,
        recovery=recovery,
        config=config,
    )
    bindings = _new_bindings(account_id, public_keys)
    signed = _check_endorsement(endorsement, bindings)
    credentials = session.get_one(Credentials, account_id)
    credentials.kdf_params = password.kdf_params
    credentials.auth_key_hash = hash_auth_key(password.auth_key)
    credentials.recovery_kdf_params = recovery.kdf_params
    credentials.recovery_auth_key_hash = hash_auth_key(recovery.auth_key)
    credentials.recovery_created_at = now
    credentials.recovery_used_at = None
    credentials.password_changed_at = now
    keys.epoch = public_keys.epoch
    keys.encryption_public = public_keys.encryption_public
    keys.signing_public = public_keys.signing_public
    keys.sealed_by_password = password.sealed_by_password
    keys.sealed_by_recovery = recovery.sealed_by_recovery
    keys.updated_at = now
    # The old epoch's bindings stay in the append-only log: signatures made with the old signing
    # key still verify, and everyone sees that the keys changed, and that it was a reset.
    publish_bindings(session, bindings=[*bindings, signed], now=now, log=log)
    email = challenge.email
    session.delete(challenge)
    # Whatever else was pending for the old credentials ends with them.
    session.execute(delete(EmailChallenge).where(EmailChallenge.account_id == account_id))
    session.execute(delete(RecoveryGrant).where(RecoveryGrant.account_id == account_id))
    end_all_sessions(session, account_id=account_id)
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
        action=AuditAction.KEYS_RESET,
        principal=Principal(account_id=account_id),
        object_kind="account",
        object_id=account_id,
    )
    return Reopened(account_id, fresh, keys_reset(email, account_id=account_id), seen.token)


def _check_new_keys(
    keys: KeyBundleRow,
    *,
    account_id: UUID,
    public_keys: PublicKeys,
    password: NewPassword,
    recovery: NewRecoveryCode,
    config: AccountsConfig,
) -> None:
    """Refuse (naming the field) a bundle that is not the next epoch's, not new, or whose sealed
    copies disagree with it: the server checks clear headers only, never a private key."""
    if public_keys.epoch != keys.epoch + 1:
        raise InvalidInput(f"the new keys must have epoch {keys.epoch + 1}", field="epoch")
    if public_keys.encryption_public == keys.encryption_public:
        raise InvalidInput("the encryption key must be new", field="encryption_public")
    if public_keys.signing_public == keys.signing_public:
        raise InvalidInput("the signing key must be new", field="signing_public")
    config.check_params(password.kdf_params, field="kdf_params")
    config.check_params(recovery.kdf_params, field="recovery_kdf_params")
    expected = SealedKeysHeader(
        public_keys.epoch, public_keys.encryption_public, public_keys.signing_public
    )
    for sealed, by_recovery, name in (
        (password.sealed_by_password, False, "sealed_by_password"),
        (recovery.sealed_by_recovery, True, "sealed_by_recovery"),
    ):
        try:
            header = read_sealed_keys_header(sealed, user_id=account_id, by_recovery=by_recovery)
        except CryptoError:
            raise InvalidInput("not private keys sealed for this account", field=name) from None
        if header != expected:
            raise InvalidInput("the sealed keys do not match the new public keys", field=name)


def _new_bindings(account_id: UUID, public_keys: PublicKeys) -> tuple[KeyBinding, KeyBinding]:
    return (
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
    )


def _check_endorsement(leaf: bytes, bindings: tuple[KeyBinding, KeyBinding]) -> KeyEndorsement:
    """The reset endorsement, if it names exactly the new bindings and the new signing key made
    it: a client that skips it would leave an epoch every other client refuses."""
    encryption, signing = bindings
    try:
        endorsement = KeyEndorsement.from_leaf(leaf)
    except CryptoError:
        raise InvalidInput("not a key endorsement", field="endorsement") from None
    if endorsement.kind is not EndorsementKind.RESET:
        raise InvalidInput("a key reset needs a reset endorsement", field="endorsement")
    try:
        verify_endorsement(endorsement, encryption=encryption, signing=signing, signer=signing)
    except CryptoError:
        raise InvalidInput(
            "the endorsement is not for these keys or not signed by the new signing key",
            field="endorsement",
        ) from None
    return endorsement
