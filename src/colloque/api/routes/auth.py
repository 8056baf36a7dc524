"""HTTP routes of sign-up, login, sessions, password change and recovery (docs/accounts.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.orm import Session

from colloque.accounts.devices import device_label
from colloque.accounts.login import (
    LoginResult,
    Subject,
    account_email,
    check_proof,
    do_log_in,
    do_log_out,
    do_log_out_elsewhere,
    do_reauthenticate,
)
from colloque.accounts.passwords import (
    NewPassword,
    NewRecoveryCode,
    do_begin_recovery,
    do_change_password,
    do_complete_recovery,
)
from colloque.accounts.prelogin import prelogin
from colloque.accounts.services import check_email
from colloque.accounts.sessions import REAUTH_WINDOW, SessionKind, place_of
from colloque.accounts.signup import (
    CODE_LIFETIME,
    PublicKeys,
    do_complete_signup,
    do_start_signup,
    do_verify_signup,
)
from colloque.api.deps import (
    DB,
    AccountsConfigDep,
    ClientIp,
    ClockDep,
    CostMixDep,
    CurrentSession,
    LogDep,
    Mail,
    SessionDep,
    SettingsDep,
)
from colloque.api.routes.account_schemas import (
    EmailIn,
    KeyBundleOut,
    LoggedOutElsewhereOut,
    LoginIn,
    LoginOut,
    MfaOut,
    NewParamsOut,
    PasswordChangeIn,
    PreloginOut,
    ReauthIn,
    ReauthOut,
    RecoveryCompleteIn,
    RecoveryStartIn,
    RecoveryStartOut,
    SessionChoice,
    SignedUpOut,
    SignupCompleteIn,
    SignupStartOut,
    SignupVerifyIn,
    SignupVerifyOut,
)
from colloque.api.routes.account_web import (
    AccountsRoute,
    attempt,
    clear_cookies,
    known_device,
    remember_device,
    reopened_out,
    session_out,
)
from colloque.patients.services import OwnDetails

router = APIRouter(prefix="/api/v1/auth", tags=["accounts"], route_class=AccountsRoute)


def _kind(choice: SessionChoice) -> SessionKind:
    return SessionKind.COOKIE if choice is SessionChoice.COOKIE else SessionKind.BEARER


@router.post("/prelogin", response_model=PreloginOut, summary="KDF parameters for an address")
def prelogin_route(
    body: EmailIn, database: DB, config: AccountsConfigDep, mix: CostMixDep, clock: ClockDep
) -> PreloginOut:
    """The same shape, stable, for an address without an account, with a cost drawn from the
    real accounts' mix: this reveals nothing."""
    with database.read() as session:
        answer = prelogin(session, email=body.email, config=config, mix=mix, now=clock.now())
    return PreloginOut(kdf_params=answer.kdf_params, recovery_kdf_params=answer.recovery_kdf_params)


@router.post(
    "/signup",
    response_model=SignupStartOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail a sign-up code",
    description=(
        "Public. Mails a sign-up code to the address; the answer is the same whether or not the "
        "address is taken. 429 after too many codes."
    ),
)
def signup_start(
    body: EmailIn,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    mail: Mail,
    client_ip: ClientIp,
) -> SignupStartOut:
    email = check_email(body.email)
    with database.write() as session:
        signup_id, message = do_start_signup(
            session, now=clock.now(), email=email, client_ip=client_ip, config=config
        )
        mail.queue(session, message)
    return SignupStartOut(
        signup_id=signup_id, expires_in_seconds=int(CODE_LIFETIME.total_seconds())
    )


@router.post(
    "/signup/verify",
    response_model=SignupVerifyOut,
    summary="Check the mailed code",
    description=(
        "Public. Checks the mailed code and returns a token to complete the sign-up with. 422 for a"
        " wrong or expired code."
    ),
)
def signup_verify(
    body: SignupVerifyIn, database: DB, clock: ClockDep, config: AccountsConfigDep, mail: Mail
) -> SignupVerifyOut:
    ticket = attempt(
        database,
        lambda session: do_verify_signup(
            session, now=clock.now(), challenge_id=body.signup_id, code=body.code, config=config
        ),
        mail,
    )
    return SignupVerifyOut(
        account_id=ticket.account_id,
        signup_token=ticket.token,
        kdf_params=ticket.kdf_params,
        recovery_kdf_params=ticket.recovery_kdf_params,
    )


@router.post(
    "/signup/complete",
    response_model=SignedUpOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create the account with the client's keys",
    description=(
        "Public. Creates the account with the keys made on the device and publishes its public keys"
        " in the key directory. 422 for a wrong token or keys."
    ),
    responses={409: {"description": "A key is already published for this account"}},
)
def signup_complete(
    body: SignupCompleteIn,
    request: Request,
    response: Response,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    settings: SettingsDep,
    log: LogDep,
) -> SignedUpOut:
    with database.write() as session:
        account, new = do_complete_signup(
            session,
            now=clock.now(),
            token=body.signup_token,
            display_name=body.display_name,
            password=NewPassword(body.auth_key, body.kdf_params, body.sealed_by_password),
            recovery=NewRecoveryCode(
                body.recovery_auth_key, body.recovery_kdf_params, body.sealed_by_recovery
            ),
            public_keys=PublicKeys(body.encryption_public, body.signing_public),
            kind=_kind(body.session),
            config=config,
            log=log,
            own=OwnDetails(body.first_name, body.last_name, body.birth_date),
            label=device_label(request.headers.get("user-agent")),
            place=place_of(request.client.host) if request.client is not None else None,
        )
    return SignedUpOut(
        account_id=account.account_id,
        session=session_out(new, response, secure=settings.effective_cookie_secure),
    )


@router.post(
    "/login",
    response_model=LoginOut,
    summary="Log in with an authentication key",
    responses={401: {"description": "Wrong credentials, or a second factor is needed"}},
)
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    settings: SettingsDep,
    mail: Mail,
    client_ip: ClientIp,
) -> LoginOut:
    """Wrong and unknown addresses get the same 401 in the same time; a locked address or a busy
    IP gets a 429 with Retry-After. An account with TOTP needs ``totp`` or ``recovery_code``."""
    now = clock.now()
    device = known_device(request)
    subject = attempt(
        database,
        lambda session: check_proof(
            session,
            now=now,
            email=body.email,
            proof=body.auth_key,
            client_ip=client_ip,
            config=config,
            device=device,
        ),
        mail,
        write=False,
    )

    def log_in(session: Session) -> LoginResult:
        result = do_log_in(
            session,
            now=now,
            subject=subject,
            auth_key=body.auth_key,
            totp=body.totp,
            recovery_code=body.recovery_code,
            kind=_kind(body.session),
            client_ip=client_ip,
            config=config,
            device=device,
        )
        mail.queue(session, result.notice)
        return result

    result = attempt(database, log_in, mail)
    remember_device(response, result.device_token, secure=settings.effective_cookie_secure)
    keys = result.keys
    return LoginOut(
        account_id=result.account_id,
        session=session_out(result.session, response, secure=settings.effective_cookie_secure),
        kdf_params=result.kdf_params,
        keys=KeyBundleOut(
            epoch=keys.epoch,
            encryption_public=keys.encryption_public,
            signing_public=keys.signing_public,
            sealed_by_password=keys.sealed_by_password,
            sealed_by_recovery=keys.sealed_by_recovery,
        ),
        mfa=MfaOut(enabled=result.mfa_enabled, required=result.is_member),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
def logout(resolved: SessionDep, database: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    """Ends the session if there is one, and clears the browser's cookies either way."""
    if resolved is not None:
        with database.write() as session:
            do_log_out(session, now=clock.now(), resolved=resolved)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_cookies(response, secure=settings.effective_cookie_secure)
    return response


@router.post(
    "/logout/others",
    response_model=LoggedOutElsewhereOut,
    summary="End every other session of this account",
    description=(
        "Ends every session of the account except the one making the request: other browsers, "
        "API clients' bearer tokens and tokens issued by the CLI. This session stays open; "
        "``POST /api/v1/auth/logout`` ends it."
    ),
)
def logout_others(resolved: CurrentSession, database: DB, clock: ClockDep) -> LoggedOutElsewhereOut:
    with database.write() as session:
        ended = do_log_out_elsewhere(session, now=clock.now(), resolved=resolved)
    return LoggedOutElsewhereOut(ended_sessions=ended)


@router.post("/reauth", response_model=ReauthOut, summary="Confirm the password in this session")
def reauth(
    body: ReauthIn,
    request: Request,
    resolved: CurrentSession,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    mail: Mail,
    client_ip: ClientIp,
) -> ReauthOut:
    """Allows changing the address, the MFA set-up or deleting the account for five minutes."""
    now = clock.now()

    def check(session: Session) -> Subject:
        email = account_email(session, resolved.account_id)
        return check_proof(
            session,
            now=now,
            email=email,
            proof=body.auth_key,
            client_ip=client_ip,
            config=config,
            device=known_device(request),
        )

    subject = attempt(database, check, mail, write=False)
    started = attempt(
        database,
        lambda session: do_reauthenticate(
            session,
            now=now,
            resolved=resolved,
            subject=subject,
            totp=body.totp,
            recovery_code=body.recovery_code,
            client_ip=client_ip,
            config=config,
        ),
        mail,
    )
    return ReauthOut(valid_until=started + REAUTH_WINDOW)


@router.post(
    "/password/params",
    response_model=NewParamsOut,
    summary="Fresh KDF parameters for a new password or recovery code",
    description=(
        "Signed-in accounts get fresh KDF parameters before changing their password or renewing "
        "their recovery code."
    ),
)
def new_password_params(_resolved: CurrentSession, config: AccountsConfigDep) -> NewParamsOut:
    return NewParamsOut(kdf_params=config.new_params().to_bytes())


@router.post("/password", response_model=SignedUpOut, summary="Change the password")
def change_password(
    body: PasswordChangeIn,
    request: Request,
    response: Response,
    resolved: CurrentSession,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    settings: SettingsDep,
    mail: Mail,
    client_ip: ClientIp,
) -> SignedUpOut:
    """Needs the old authentication key. Every session of the account ends; the caller gets a
    new one of the same kind."""
    now = clock.now()

    def check(session: Session) -> Subject:
        email = account_email(session, resolved.account_id)
        return check_proof(
            session,
            now=now,
            email=email,
            proof=body.old_auth_key,
            client_ip=client_ip,
            config=config,
            device=known_device(request),
        )

    subject = attempt(database, check, mail, write=False)
    with database.write() as session:
        new, message = do_change_password(
            session,
            now=now,
            resolved=resolved,
            subject=subject,
            new=NewPassword(body.new_auth_key, body.new_kdf_params, body.new_sealed_by_password),
            config=config,
        )
        mail.queue(session, message)
    return SignedUpOut(
        account_id=subject.account_id,
        session=session_out(new, response, secure=settings.effective_cookie_secure),
    )


@router.post(
    "/recovery",
    response_model=RecoveryStartOut,
    summary="Prove the recovery code",
    responses={401: {"description": "Wrong recovery code or second factor"}},
)
def recovery_start(
    body: RecoveryStartIn,
    request: Request,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    mail: Mail,
    client_ip: ClientIp,
) -> RecoveryStartOut:
    """For a forgotten password: the recovery authentication key (and the second factor, if set
    up) get the sealed keys back and 15 minutes to set a new password."""
    now = clock.now()
    subject = attempt(
        database,
        lambda session: check_proof(
            session,
            now=now,
            email=body.email,
            proof=body.recovery_auth_key,
            client_ip=client_ip,
            config=config,
            recovery=True,
            device=known_device(request),
        ),
        mail,
        write=False,
    )
    start = attempt(
        database,
        lambda session: do_begin_recovery(
            session,
            now=now,
            subject=subject,
            totp=body.totp,
            mfa_recovery_code=body.recovery_code,
            client_ip=client_ip,
            config=config,
        ),
        mail,
    )
    return RecoveryStartOut(
        recovery_token=start.token,
        account_id=start.account_id,
        sealed_by_recovery=start.sealed_by_recovery,
        kdf_params=start.kdf_params,
        recovery_kdf_params=start.recovery_kdf_params,
    )


@router.post(
    "/recovery/complete",
    response_model=SignedUpOut,
    summary="Set a new password after recovery",
    description=(
        "Public. Sets the new password's authentication key and sealed keys after a recovery. 401 "
        "when the recovery token has expired."
    ),
    responses={401: {"description": "The recovery token is not valid or has expired"}},
)
def recovery_complete(
    body: RecoveryCompleteIn,
    request: Request,
    response: Response,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    settings: SettingsDep,
    mail: Mail,
    client_ip: ClientIp,
) -> SignedUpOut:
    with database.write() as session:
        reopened = do_complete_recovery(
            session,
            now=clock.now(),
            token=body.recovery_token,
            password=NewPassword(
                body.new_auth_key, body.new_kdf_params, body.new_sealed_by_password
            ),
            recovery=NewRecoveryCode(
                body.new_recovery_auth_key,
                body.new_recovery_kdf_params,
                body.new_sealed_by_recovery,
            ),
            kind=_kind(body.session),
            config=config,
            device=known_device(request),
            place=place_of(client_ip),
        )
        mail.queue(session, reopened.notice)
    return reopened_out(reopened, response, secure=settings.effective_cookie_secure)
