"""HTTP routes of practice invitations: admins invite, the invitee accepts."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from colloque.accounts.invitations import (
    do_accept_invitation,
    do_invite,
    do_revoke_invitation,
    list_invitations,
)
from colloque.accounts.models import PracticeInvitation
from colloque.accounts.services import check_email
from colloque.api.deps import DB, ClockDep, CurrentPrincipal, Mail
from colloque.api.routes.account_schemas import AcceptIn, InvitationIn, InvitationOut, MembershipOut
from colloque.api.routes.account_web import AccountsRoute
from colloque.principal import Role

router = APIRouter(prefix="/api/v1", tags=["accounts"], route_class=AccountsRoute)


def _out(invitation: PracticeInvitation) -> InvitationOut:
    return InvitationOut(
        invitation_id=invitation.invitation_id,
        practice_id=invitation.practice_id,
        email=invitation.email,
        role=Role(invitation.role),
        practitioner_id=invitation.practitioner_id,
        practises_elsewhere=invitation.practises_elsewhere,
        expires_at=invitation.expires_at,
    )


@router.post(
    "/practices/{practice_id}/invitations",
    response_model=InvitationOut,
    status_code=status.HTTP_201_CREATED,
    summary="Invite someone to join the practice (admins)",
    description=(
        "Practice admins invite an address with a role. A practitioner invitation names a "
        "practitioner of this practice (`practitioner_id`), or is for somebody who already "
        "practises at another practice on this Colloque (`practises_elsewhere`): their "
        "acceptance is their consent to an agenda here. 403 for a lower role; 422 naming the "
        "field for a role a member cannot hold, a practitioner id missing, unknown or not "
        "wanted, and `practises_elsewhere` with another role."
    ),
)
def invite(
    practice_id: UUID,
    body: InvitationIn,
    principal: CurrentPrincipal,
    database: DB,
    clock: ClockDep,
    mail: Mail,
) -> InvitationOut:
    # The token is mailed to the address and appears nowhere else.
    email = check_email(body.email)
    with database.write() as session:
        invitation, message = do_invite(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            email=email,
            role=body.role,
            practitioner_id=body.practitioner_id,
            practises_elsewhere=body.practises_elsewhere,
        )
        out = _out(invitation)
        mail.queue(session, message)
    return out


@router.get(
    "/practices/{practice_id}/invitations",
    response_model=list[InvitationOut],
    summary="Pending invitations (admins)",
    description="Practice admins list the invitations not yet accepted. 403 for a lower role.",
)
def pending_invitations(
    practice_id: UUID, principal: CurrentPrincipal, database: DB, clock: ClockDep
) -> list[InvitationOut]:
    with database.write() as session:
        return [
            _out(i)
            for i in list_invitations(
                session, now=clock.now(), principal=principal, practice_id=practice_id
            )
        ]


@router.delete(
    "/practices/{practice_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a pending invitation (admins)",
    description=(
        "Practice admins revoke a pending invitation. 403 for a lower role, 404 when it is not "
        "there."
    ),
)
def revoke_invitation(
    practice_id: UUID,
    invitation_id: UUID,
    principal: CurrentPrincipal,
    database: DB,
    clock: ClockDep,
) -> None:
    with database.write() as session:
        do_revoke_invitation(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            invitation_id=invitation_id,
        )


@router.post(
    "/invitations/accept",
    response_model=MembershipOut,
    summary="Join a practice with the mailed token",
    description=(
        "Signed in with an account of the invited address. An invitation for a practitioner who "
        "practises elsewhere must be accepted with the account that is a practitioner member of "
        "another practice (422 naming `token` otherwise, for an account that is no practitioner "
        "or that acts as several), from a session that passed its second factor there (403 "
        "otherwise); it makes that practitioner's agenda at this practice, with no hours yet. "
        "Set up MFA next: until then, no practice action is allowed."
    ),
    responses={
        404: {"description": "No pending invitation has this token"},
        409: {
            "description": (
                "You are already a member of this practice, or it already has your agenda"
            )
        },
    },
)
def accept_invitation(
    body: AcceptIn, principal: CurrentPrincipal, database: DB, clock: ClockDep
) -> MembershipOut:
    with database.write() as session:
        member = do_accept_invitation(
            session, now=clock.now(), principal=principal, token=body.token
        )
        return MembershipOut(
            practice_id=member.practice_id,
            role=Role(member.role),
            practitioner_id=member.practitioner_id,
        )
