"""Joining a practice: an admin invites an address with a role; whoever signs in with an account
of that address accepts it with the mailed token, once, within 7 days.

The token is the practice id and 256 random bits, base64url; only the SHA-256 of the whole token is
stored, under the practice (so that a practice's rows stay on its shard).

A practitioner invitation names an agenda of the practice, or is for somebody who already
practises at another practice on this Colloque (``practises_elsewhere``): their account accepting
it is their consent to an agenda here, which the practice could not otherwise make (through the
busy ledger it would take their time at the other practice). Whether an address belongs to such a
practitioner is not checked at invitation time: an admin must not learn it from a refusal.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accounts.mailing import invitation as invitation_mail
from colloque.accounts.models import Account, PracticeInvitation
from colloque.accounts.services import do_add_member
from colloque.accounts.sessions import hash_token
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, AgendaTarget, PracticeTarget, require
from colloque.errors import Conflict, Forbidden, InvalidInput, NotFound
from colloque.ids import new_id
from colloque.notifications.interfaces import MailMessage
from colloque.principal import MEMBER_ROLES, Principal, Role
from colloque.scheduling.models import PracticeMember, PracticePractitioner, Practitioner
from colloque.scheduling.services import add_agenda, get_practice
from colloque.text import normalise_email

INVITATION_LIFETIME = timedelta(days=7)
_SECRET_BYTES = 32


def _new_token(practice_id: UUID) -> str:
    raw = practice_id.bytes + secrets.token_bytes(_SECRET_BYTES)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _practice_of(token: str) -> UUID:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        raw = b""
    if len(raw) != 16 + _SECRET_BYTES:
        raise NotFound("invitation not found", field="token")
    return UUID(bytes=raw[:16])


def _audit(
    session: Session,
    now: datetime,
    principal: Principal,
    action: AuditAction,
    invitation: PracticeInvitation,
) -> None:
    record(
        session,
        at=now,
        action=action,
        principal=principal,
        practice_id=invitation.practice_id,
        object_kind="invitation",
        object_id=invitation.invitation_id,
    )


def do_invite(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    email: str,
    role: Role,
    practitioner_id: UUID | None,
    practises_elsewhere: bool = False,
) -> tuple[PracticeInvitation, MailMessage]:
    """Invite ``email`` (normalised, checked) to the practice; returns the invitation and the
    mail carrying its token (the token is nowhere else)."""
    require(
        principal, Action.PRACTICE_SETTINGS_MANAGE, PracticeTarget(practice_id), what="practice"
    )
    if role not in MEMBER_ROLES:
        raise InvalidInput("not a role a practice member can hold", field="role")
    if practises_elsewhere:
        if role is not Role.PRACTITIONER:
            raise InvalidInput(
                "only a practitioner can practise elsewhere", field="practises_elsewhere"
            )
        if practitioner_id is not None:
            raise InvalidInput(
                "a practitioner who practises elsewhere brings their own: name none here",
                field="practitioner_id",
            )
    elif (role is Role.PRACTITIONER) != (practitioner_id is not None):
        raise InvalidInput(
            "a practitioner id is needed for, and only for, the practitioner role "
            "(unless they practise elsewhere)",
            field="practitioner_id",
        )
    if (
        practitioner_id is not None
        and session.get(PracticePractitioner, (practice_id, practitioner_id)) is None
    ):
        raise InvalidInput("no such practitioner in this practice", field="practitioner_id")
    practice = get_practice(session, practice_id=practice_id)
    token = _new_token(practice_id)
    invitation = PracticeInvitation(
        practice_id=practice_id,
        invitation_id=new_id(),
        email=email,
        role=role.value,
        practitioner_id=practitioner_id,
        practises_elsewhere=practises_elsewhere,
        token_hash=hash_token(token),
        invited_by_account_id=principal.account_id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    _audit(session, now, principal, AuditAction.INVITATION_CREATED, invitation)
    message = invitation_mail(
        email,
        practice_name=practice.name,
        role=role.value,
        token=token,
        practises_elsewhere=practises_elsewhere,
    )
    return invitation, message


def list_invitations(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID
) -> list[PracticeInvitation]:
    """Pending invitations of a practice (admins only); the read is audited, naming each (they
    show the invitees' addresses)."""
    require(
        principal, Action.PRACTICE_SETTINGS_MANAGE, PracticeTarget(practice_id), what="practice"
    )
    found = list(
        session.scalars(
            select(PracticeInvitation)
            .where(
                PracticeInvitation.practice_id == practice_id,
                PracticeInvitation.accepted_at.is_(None),
                PracticeInvitation.revoked_at.is_(None),
                PracticeInvitation.expires_at > now,
            )
            .order_by(PracticeInvitation.created_at)
        )
    )
    record(
        session,
        at=now,
        action=AuditAction.INVITATIONS_LISTED,
        principal=principal,
        practice_id=practice_id,
        object_kind="invitation_list",
        object_id=None,
        objects=[(ObjectKind.INVITATION, invitation.invitation_id) for invitation in found],
    )
    return found


def do_revoke_invitation(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, invitation_id: UUID
) -> None:
    require(
        principal, Action.PRACTICE_SETTINGS_MANAGE, PracticeTarget(practice_id), what="practice"
    )
    invitation = session.get(PracticeInvitation, (practice_id, invitation_id))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
    ):
        raise NotFound("invitation not found")
    invitation.revoked_at = now
    _audit(session, now, principal, AuditAction.INVITATION_REVOKED, invitation)


def do_accept_invitation(
    session: Session, *, now: datetime, principal: Principal, token: str
) -> PracticeMember:
    """Join the practice with the mailed token, signed in with an account of the invited address.

    An invitation for somebody who practises elsewhere also makes their agenda here
    (:func:`_bring_own_agenda`)."""
    assert principal.account_id is not None
    practice_id = _practice_of(token)
    invitation = session.scalars(
        select(PracticeInvitation)
        .where(
            PracticeInvitation.practice_id == practice_id,
            PracticeInvitation.token_hash == hash_token(token),
        )
        .with_for_update()
    ).one_or_none()
    if invitation is None or invitation.revoked_at is not None:
        raise NotFound("invitation not found", field="token")
    if invitation.accepted_at is not None:
        raise InvalidInput("this invitation was already used", field="token")
    if invitation.expires_at <= now:
        raise InvalidInput("this invitation has expired", field="token")
    # The account's row is locked until the commit: two invitations to one practice accepted
    # at once by the same account then run one after the other, and the second finds the first's
    # membership (a 409), where it would otherwise fail on the membership's key.
    email = session.scalar(
        select(Account.email).where(Account.account_id == principal.account_id).with_for_update()
    )
    if normalise_email(email or "") != invitation.email:
        raise Forbidden(
            "this invitation was sent to another address: sign in with that account", field="token"
        )
    if session.get(PracticeMember, (practice_id, principal.account_id)) is not None:
        raise Conflict("you are already a member of this practice")
    practitioner_id = invitation.practitioner_id
    if invitation.practises_elsewhere:
        practitioner_id = _bring_own_agenda(session, now, principal, practice_id)
    member = do_add_member(
        session,
        practice_id=practice_id,
        account_id=principal.account_id,
        role=Role(invitation.role),
        practitioner_id=practitioner_id,
    )
    invitation.accepted_at = now
    invitation.accepted_by_account_id = principal.account_id
    _audit(session, now, principal, AuditAction.INVITATION_ACCEPTED, invitation)
    return member


def _bring_own_agenda(
    session: Session, now: datetime, principal: Principal, practice_id: UUID
) -> UUID:
    """The accepting account's practitioner (it is one at other practices: never at this one,
    which it is not a member of) gets an agenda here, with the default rules and no hours: the
    practice sets them, checked against the practitioner's hours elsewhere as any change is.
    Their profile (name, specialty, languages) is the one they have."""
    assert principal.account_id is not None
    held = session.execute(
        select(PracticeMember.practice_id, PracticeMember.practitioner_id).where(
            PracticeMember.account_id == principal.account_id,
            PracticeMember.role == Role.PRACTITIONER.value,
        )
    ).all()
    practitioner_ids: set[UUID | None] = {row.practitioner_id for row in held}
    if len(practitioner_ids) != 1:
        # None: nobody to bring. Several: which of them is meant is not for us to guess.
        raise InvalidInput(
            "this invitation is for a practitioner of another practice: accept it with the "
            "account you practise with there",
            field="token",
        )
    (practitioner_id,) = practitioner_ids
    assert practitioner_id is not None  # the members' practitioner_linked check
    # Bringing one's agenda blocks one's time at the practices one comes from: as a change of
    # one's own agenda there, it needs that membership's second factor.
    require(
        principal,
        Action.PRACTICE_AGENDA_BRING,
        AgendaTarget(practice_id=held[0].practice_id, practitioner_id=practitioner_id),
        what="practice",
    )
    if session.get(PracticePractitioner, (practice_id, practitioner_id)) is not None:
        raise Conflict("this practice already has an agenda of yours")
    add_agenda(
        session,
        practice=get_practice(session, practice_id=practice_id),
        practitioner=session.get_one(Practitioner, practitioner_id),
    )
    record(
        session,
        at=now,
        action=AuditAction.AGENDA_CHANGED,
        principal=principal,
        practice_id=practice_id,
        object_kind="practitioner",
        object_id=practitioner_id,
    )
    return practitioner_id
