"""HTTP routes of the signed-in account: who am I, address, MFA, deletion; and the routers of
the accounts domain, gathered for the app (``auth_views``, ``keyreset_views``,
``invitation_views``)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from colloque.accounts.mfa import (
    do_begin_totp,
    do_confirm_totp,
    do_disable_totp,
    do_renew_recovery_codes,
)
from colloque.accounts.passwords import (
    NewRecoveryCode,
    RecoveryCodeStatus,
    do_renew_recovery_code,
    recovery_code_status,
)
from colloque.accounts.services import check_email
from colloque.accounts.signup import CODE_LIFETIME, do_confirm_email_change, do_start_email_change
from colloque.api.deps import (
    DB,
    AccountsConfigDep,
    ClientIp,
    ClockDep,
    CurrentPrincipal,
    CurrentSession,
    Mail,
    SettingsDep,
)
from colloque.api.routes.account_schemas import (
    CodeIn,
    EmailChangeOut,
    EmailConfirmIn,
    EmailIn,
    MembershipOut,
    MeOut,
    RecoveryCodeIn,
    RecoveryCodesOut,
    RecoveryCodeStatusOut,
    RemindersIn,
    RemindersOut,
    TotpSetupOut,
)
from colloque.api.routes.account_web import AccountsRoute, attempt, clear_cookies
from colloque.api.routes.auth import router as auth_router
from colloque.api.routes.invitations import router as invitation_router
from colloque.api.routes.key_reset import router as key_reset_router
from colloque.delivery.preferences import account_reminders, do_set_account_reminders
from colloque.erasure.services import do_delete_account
from colloque.errors import NotFound

me_router = APIRouter(prefix="/api/v1", tags=["accounts"], route_class=AccountsRoute)


@me_router.get(
    "/me",
    response_model=MeOut,
    description="The signed-in account: id, memberships and MFA state.",
)
def me(principal: CurrentPrincipal) -> MeOut:
    assert principal.account_id is not None
    return MeOut(
        account_id=principal.account_id,
        memberships=[
            MembershipOut(practice_id=pid, role=m.role, practitioner_id=m.practitioner_id)
            for pid, m in principal.memberships.items()
        ],
        mfa_satisfied=principal.mfa_satisfied,
    )


@me_router.post(
    "/me/email",
    response_model=EmailChangeOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail a code to a new address (re-authenticate first)",
    description=(
        "Mails a code to the new address; needs a recent re-authentication (403 otherwise)."
    ),
)
def email_change_start(
    body: EmailIn,
    resolved: CurrentSession,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    mail: Mail,
    client_ip: ClientIp,
) -> EmailChangeOut:
    new_email = check_email(body.email)
    with database.write() as session:
        challenge_id, message = do_start_email_change(
            session,
            now=clock.now(),
            resolved=resolved,
            new_email=new_email,
            client_ip=client_ip,
            config=config,
        )
        mail.queue(session, message)
    return EmailChangeOut(
        challenge_id=challenge_id, expires_in_seconds=int(CODE_LIFETIME.total_seconds())
    )


@me_router.post(
    "/me/email/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Switch to the new address with its code",
    description=(
        "Switches to the new address with the mailed code. 422 for a wrong or expired code."
    ),
)
def email_change_confirm(
    body: EmailConfirmIn,
    resolved: CurrentSession,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    mail: Mail,
) -> None:
    attempt(
        database,
        lambda session: mail.queue(
            session,
            do_confirm_email_change(
                session,
                now=clock.now(),
                resolved=resolved,
                challenge_id=body.challenge_id,
                code=body.code,
                config=config,
            ),
        ),
        mail,
    )


@me_router.post(
    "/me/mfa/totp",
    response_model=TotpSetupOut,
    summary="Start setting up TOTP (re-authenticate first)",
    description=(
        "Starts TOTP setup and returns the secret; needs a recent re-authentication (403). 409 when"
        " TOTP is already on."
    ),
    responses={409: {"description": "TOTP is already set up"}},
)
def totp_begin(
    resolved: CurrentSession, database: DB, clock: ClockDep, config: AccountsConfigDep
) -> TotpSetupOut:
    with database.write() as session:
        setup = do_begin_totp(session, now=clock.now(), resolved=resolved, config=config)
    return TotpSetupOut(secret=setup.secret, uri=setup.uri)


@me_router.post(
    "/me/mfa/totp/confirm",
    response_model=RecoveryCodesOut,
    summary="Turn TOTP on with a first code; returns the recovery codes, once",
    description=(
        "Turns TOTP on with a first code and returns the recovery codes, once. 422 for a wrong "
        "code."
    ),
)
def totp_confirm(
    body: CodeIn,
    resolved: CurrentSession,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
) -> RecoveryCodesOut:
    with database.write() as session:
        codes = do_confirm_totp(
            session, now=clock.now(), resolved=resolved, code=body.code, config=config
        )
    return RecoveryCodesOut(recovery_codes=codes)


@me_router.delete(
    "/me/mfa/totp",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Turn TOTP off (patients only; re-authenticate first)",
    description=(
        "Patients turn TOTP off; practice members must keep it (403). Needs a recent re-"
        "authentication."
    ),
)
def totp_disable(resolved: CurrentSession, database: DB, clock: ClockDep, mail: Mail) -> None:
    with database.write() as session:
        message = do_disable_totp(session, now=clock.now(), resolved=resolved)
        mail.queue(session, message)


@me_router.post(
    "/me/mfa/recovery-codes",
    response_model=RecoveryCodesOut,
    summary="Replace the recovery codes (re-authenticate first)",
    description=(
        "Replaces the recovery codes and returns the new ones, once; needs a recent re-"
        "authentication (403)."
    ),
)
def recovery_codes_renew(
    resolved: CurrentSession, database: DB, clock: ClockDep
) -> RecoveryCodesOut:
    with database.write() as session:
        codes = do_renew_recovery_codes(session, now=clock.now(), resolved=resolved)
    return RecoveryCodesOut(recovery_codes=codes)


def _status_out(status: RecoveryCodeStatus) -> RecoveryCodeStatusOut:
    return RecoveryCodeStatusOut(created_at=status.created_at, used_at=status.used_at)


@me_router.get(
    "/me/recovery-code",
    response_model=RecoveryCodeStatusOut,
    summary="When the recovery code was made and last used",
    description=(
        "The status of the account's recovery code (never the code, which the server does not "
        "know). 404 for an account without credentials (made by the CLI)."
    ),
    responses={404: {"description": "The account has no credentials"}},
)
def recovery_code_get(principal: CurrentPrincipal, database: DB) -> RecoveryCodeStatusOut:
    assert principal.account_id is not None
    with database.read() as session:
        found = recovery_code_status(session, account_id=principal.account_id)
    if found is None:
        raise NotFound("recovery code not found")
    return _status_out(found)


@me_router.put(
    "/me/recovery-code",
    response_model=RecoveryCodeStatusOut,
    summary="Replace the recovery code (re-authenticate first)",
    description=(
        "Replaces the recovery code with one made on the device; the old code stops working at "
        "once and a recovery it started cannot complete. Needs a recent re-authentication (403). "
        "422 naming the field for parameters below the server's cost or a sealed copy that is not "
        "of the account's current keys."
    ),
)
def recovery_code_renew(
    body: RecoveryCodeIn,
    resolved: CurrentSession,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    mail: Mail,
) -> RecoveryCodeStatusOut:
    with database.write() as session:
        renewed, message = do_renew_recovery_code(
            session,
            now=clock.now(),
            resolved=resolved,
            recovery=NewRecoveryCode(
                body.recovery_auth_key, body.recovery_kdf_params, body.sealed_by_recovery
            ),
            config=config,
        )
        mail.queue(session, message)
    return _status_out(renewed)


@me_router.get(
    "/me/reminders",
    response_model=RemindersOut,
    summary="Whether the account receives reminders",
    description=(
        "Reminders before appointments, by email and SMS. A reminder's one-click unsubscribe "
        "link turns them off; confirmations, moves and cancellations are always sent."
    ),
)
def reminders_get(principal: CurrentPrincipal, database: DB) -> RemindersOut:
    with database.read() as session:
        return RemindersOut(enabled=account_reminders(session, principal=principal))


@me_router.put(
    "/me/reminders",
    response_model=RemindersOut,
    summary="Turn the account's reminders on or off",
    description="Recorded in the audit log, like the account's other changes.",
)
def reminders_set(
    body: RemindersIn, principal: CurrentPrincipal, database: DB, clock: ClockDep
) -> RemindersOut:
    with database.write() as session:
        enabled = do_set_account_reminders(
            session, now=clock.now(), principal=principal, enabled=body.enabled
        )
    return RemindersOut(enabled=enabled)


@me_router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete this account (re-authenticate first)",
    responses={409: {"description": "Practice members must be removed from their practices first"}},
)
def delete_account(
    resolved: CurrentSession,
    database: DB,
    clock: ClockDep,
    config: AccountsConfigDep,
    settings: SettingsDep,
    mail: Mail,
) -> Response:
    """Appointments already made stay with the practices, without the account; everything else
    personal goes."""
    with database.write() as session:
        message = do_delete_account(session, now=clock.now(), resolved=resolved, config=config)
        mail.queue(session, message)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_cookies(response, secure=settings.effective_cookie_secure)
    return response


router = APIRouter()
router.include_router(auth_router)
router.include_router(key_reset_router)
router.include_router(me_router)
router.include_router(invitation_router)
