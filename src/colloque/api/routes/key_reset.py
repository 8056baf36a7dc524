"""HTTP routes of the key reset, for an account whose password and recovery code are both lost
(docs/accounts.md, "Key reset")."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from colloque.accounts.keyreset import (
    do_complete_key_reset,
    do_start_key_reset,
    do_verify_key_reset,
)
from colloque.accounts.passwords import NewPassword, NewRecoveryCode
from colloque.accounts.services import check_email
from colloque.accounts.sessions import SessionKind, place_of
from colloque.accounts.signup import CODE_LIFETIME, PublicKeys
from colloque.api.deps import DB, AccountsConfigDep, ClientIp, ClockDep, LogDep, Mail, SettingsDep
from colloque.api.routes.account_schemas import (
    EmailIn,
    KeyResetCompleteIn,
    KeyResetStartOut,
    KeyResetVerifyIn,
    KeyResetVerifyOut,
    SessionChoice,
    SignedUpOut,
)
from colloque.api.routes.account_web import (
    AccountsRoute,
    attempt,
    known_device,
    reopened_out,
)

router = APIRouter(prefix="/api/v1/auth/keys/reset", tags=["accounts"], route_class=AccountsRoute)


@router.post(
    "",
    response_model=KeyResetStartOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail a key-reset code",
)
def key_reset_start(
    body: EmailIn,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    mail: Mail,
    client_ip: ClientIp,
) -> KeyResetStartOut:
    """The same answer for an address without an account (which gets no mail)."""
    email = check_email(body.email)
    with database.write() as session:
        reset_id, message = do_start_key_reset(
            session, now=clock.now(), email=email, client_ip=client_ip, config=config
        )
        mail.queue(session, message)
    return KeyResetStartOut(
        reset_id=reset_id, expires_in_seconds=int(CODE_LIFETIME.total_seconds())
    )


@router.post(
    "/verify",
    response_model=KeyResetVerifyOut,
    summary="Check the mailed code and the second factor",
    description=(
        "Public. Checks the mailed code and, where the account has one, the second factor. 401 for "
        "a wrong second factor, 403 for a member without one."
    ),
    responses={
        401: {"description": "The second factor is not right"},
        403: {"description": "A practice member or operator without two-factor authentication"},
    },
)
def key_reset_verify(
    body: KeyResetVerifyIn,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    mail: Mail,
    client_ip: ClientIp,
) -> KeyResetVerifyOut:
    ticket = attempt(
        database,
        lambda session: do_verify_key_reset(
            session,
            now=clock.now(),
            reset_id=body.reset_id,
            code=body.code,
            totp=body.totp,
            mfa_recovery_code=body.recovery_code,
            client_ip=client_ip,
            config=config,
        ),
        mail,
    )
    return KeyResetVerifyOut(
        account_id=ticket.account_id,
        reset_token=ticket.token,
        epoch=ticket.epoch,
        kdf_params=ticket.kdf_params,
        recovery_kdf_params=ticket.recovery_kdf_params,
    )


@router.post(
    "/complete",
    response_model=SignedUpOut,
    summary="Replace the credentials and keys with new ones made on the device",
    description=(
        "Public, with the reset token. The new key bundle comes with its reset endorsement, signed "
        "by the new signing key (docs/crypto.md 5.12); 422 naming the field for a missing, "
        "malformed or wrongly signed one. The bindings and the endorsement enter the key "
        "directory in one append."
    ),
)
def key_reset_complete(
    body: KeyResetCompleteIn,
    request: Request,
    response: Response,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    settings: SettingsDep,
    mail: Mail,
    log: LogDep,
    client_ip: ClientIp,
) -> SignedUpOut:
    """Every session of the account ends; the caller gets a new one, shown with its software
    and place as a login's."""
    with database.write() as session:
        reopened = do_complete_key_reset(
            session,
            now=clock.now(),
            token=body.reset_token,
            password=NewPassword(body.auth_key, body.kdf_params, body.sealed_by_password),
            recovery=NewRecoveryCode(
                body.recovery_auth_key, body.recovery_kdf_params, body.sealed_by_recovery
            ),
            public_keys=PublicKeys(body.encryption_public, body.signing_public, body.epoch),
            endorsement=body.endorsement,
            kind=SessionKind.COOKIE if body.session is SessionChoice.COOKIE else SessionKind.BEARER,
            config=config,
            log=log,
            device=known_device(request),
            place=place_of(client_ip),
        )
        mail.queue(session, reopened.notice)
    return reopened_out(reopened, response, secure=settings.effective_cookie_secure)
