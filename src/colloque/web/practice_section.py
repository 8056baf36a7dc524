"""The practice section: the pages a practice's members work in (``/practice/{practice_id}/...``),
their shared navigation, and who may open them.

Every page of the section answers a signed-in member only; anybody else, signed in or not, gets
the same 404 page as a practice that does not exist, so that the section never tells a prober
which practices exist or who works where.
"""

from __future__ import annotations

from uuid import UUID

from colloque.authorization.policy import Action, PracticeTarget, authorize
from colloque.principal import Principal, Role

PREFIX = "/practice"


def agenda_url(practice_id: UUID) -> str:
    return f"{PREFIX}/{practice_id}/agenda"


def book_url(practice_id: UUID) -> str:
    return f"{PREFIX}/{practice_id}/book"


def patient_url(practice_id: UUID, patient_id: UUID) -> str:
    return f"{PREFIX}/{practice_id}/patients/{patient_id}"


def section_links(practice_id: UUID) -> list[tuple[str, str]]:
    """The section's navigation (path, catalogue key), in the order a member uses them."""
    return [
        (agenda_url(practice_id), "practice.nav.agenda"),
        (book_url(practice_id), "practice.nav.book"),
        (f"{PREFIX}/{practice_id}/settings", "practice.nav.settings"),
        (f"{PREFIX}/{practice_id}/time-off", "practice.nav.time_off"),
    ]


def may_open(principal: Principal, practice_id: UUID) -> bool:
    """A member of the practice who may see its agenda (with their second factor passed)."""
    return bool(authorize(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(practice_id)))


def member_agendas(principal: Principal) -> list[UUID]:
    """The practices whose agenda the header links to: real memberships, not operator grants."""
    return sorted(
        (
            practice_id
            for practice_id, membership in principal.memberships.items()
            if membership.role is not Role.OPERATOR and may_open(principal, practice_id)
        ),
        key=str,
    )
