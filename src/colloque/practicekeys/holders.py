"""Who holds the practitioners' key (docs/crypto.md 5.4.1), for every member of the practice's
staff: the members page shows, beside each practitioner, whether their device received the current
epoch's key or waits for a colleague's device to share it.

Only the practitioners' group's own actions (``PRACTICE_CLINICAL_KEYS_VIEW``) serve its members'
keys and wraps; this serves one flag per practitioner, and nothing a member of the practice's
staff could not work out already: who is a practitioner is in the signed membership chain every
member reads, the current epoch and the practitioners it was wrapped for are in the epoch's
statement the key directory serves them, and a wrap is useless to anyone but its practitioner.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.crypto.statements import Role
from colloque.practicekeys.groups import CLINICAL
from colloque.practicekeys.memberships import ROLE_NAMES
from colloque.practicekeys.models import PracticeKeyWrap
from colloque.practicekeys.services import current_epoch
from colloque.principal import Principal
from colloque.scheduling.models import PracticeMember


@dataclass(frozen=True)
class Holder:
    account_id: UUID
    #: Whether the practitioner has a wrap of the current epoch's key (False without a group).
    wrapped: bool


@dataclass(frozen=True)
class ClinicalHolders:
    #: ``None`` before a practitioner's device made the group.
    epoch: int | None
    #: Every practitioner of the practice, by account id.
    holders: list[Holder]


def list_clinical_holders(
    session: Session, *, principal: Principal, practice_id: UUID
) -> ClinicalHolders:
    require(
        principal,
        Action.PRACTICE_CLINICAL_HOLDERS_VIEW,
        PracticeTarget(practice_id),
        what="practice",
    )
    practitioners = session.scalars(
        select(PracticeMember.account_id)
        .where(
            PracticeMember.practice_id == practice_id,
            PracticeMember.role == ROLE_NAMES[Role.PRACTITIONER],
        )
        .order_by(PracticeMember.account_id)
    ).all()
    epoch = current_epoch(session, practice_id=practice_id, group=CLINICAL)
    wrapped: set[UUID] = set()
    if epoch is not None:
        wrapped = set(
            session.scalars(
                select(PracticeKeyWrap.account_id).where(
                    PracticeKeyWrap.practice_id == practice_id,
                    PracticeKeyWrap.clinical.is_(True),
                    PracticeKeyWrap.epoch == epoch,
                )
            )
        )
    return ClinicalHolders(epoch, [Holder(a, a in wrapped) for a in practitioners])
