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
#: The list of the practices a member works at (practices_page.py).
PRACTICES_PATH = PREFIX


def agenda_url(practice_id: UUID) -> str:
    return f"{PREFIX}/{practice_id}/agenda"


def book_url(practice_id: UUID) -> str:
    return f"{PREFIX}/{practice_id}/book"


def patient_url(practice_id: UUID, patient_id: UUID) -> str:
    return f"{PREFIX}/{practice_id}/patients/{patient_id}"


def settings_url(practice_id: UUID) -> str:
    return f"{PREFIX}/{practice_id}/settings"


def time_off_url(practice_id: UUID) -> str:
    return f"{PREFIX}/{practice_id}/time-off"


def members_url(practice_id: UUID) -> str:
    return f"{PREFIX}/{practice_id}/members"


def outbox_url(practice_id: UUID) -> str:
    """The messages the mass-change breaker holds (admins): the link its alert mail gives."""
    return f"{PREFIX}/{practice_id}/outbox"


def audit_url(practice_id: UUID) -> str:
    """The practice's audit log (admins)."""
    return f"{PREFIX}/{practice_id}/audit"


#: The navigation's catalogue keys, in the order a member uses the pages.
LINK_KEYS = (
    "practice.nav.agenda",
    "practice.nav.book",
    "practice.nav.settings",
    "practice.nav.time_off",
    "practice.nav.members",
    "practice.nav.outbox",
    "practice.nav.audit",
)


def section_links(principal: Principal, practice_id: UUID) -> list[tuple[str, str]]:
    """The section's navigation (path, catalogue key): the desk and time off only for members
    who may book (not an operator reading under a grant), the members page for its staff, the
    held messages and the audit log for its admins."""
    books = may(principal, Action.PRACTICE_APPOINTMENT_BOOK, practice_id)
    staff = may(principal, Action.PRACTICE_KEYS_VIEW, practice_id)
    admin = may(principal, Action.PRACTICE_OUTBOX_VIEW, practice_id)
    auditor = may(principal, Action.PRACTICE_AUDIT_VIEW, practice_id)
    links = [
        (agenda_url(practice_id), LINK_KEYS[0]),
        (book_url(practice_id), LINK_KEYS[1]) if books else None,
        (settings_url(practice_id), LINK_KEYS[2]),
        (time_off_url(practice_id), LINK_KEYS[3]) if books else None,
        (members_url(practice_id), LINK_KEYS[4]) if staff else None,
        (outbox_url(practice_id), LINK_KEYS[5]) if admin else None,
        (audit_url(practice_id), LINK_KEYS[6]) if auditor else None,
    ]
    return [link for link in links if link is not None]


def may(principal: Principal, action: Action, practice_id: UUID) -> bool:
    """Whether the policy lets ``principal`` do ``action`` in the practice (for what a page shows)."""
    return bool(authorize(principal, action, PracticeTarget(practice_id)))


def may_open(principal: Principal, practice_id: UUID) -> bool:
    """A member of the practice who may see its agenda (with their second factor passed)."""
    return may(principal, Action.PRACTICE_AGENDA_VIEW, practice_id)


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
