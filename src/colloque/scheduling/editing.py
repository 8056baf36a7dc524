"""Reading and editing what an agenda is made of: visit types, booking rules, practice settings.

Members read them (the policy's agenda view); edits follow the create routes' actions. Every
object carries a version (versions.py) and every edit or delete names the version it was based
on, so that an edit made on a stale read is refused instead of silently overwriting another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import InvalidInput, NotFound
from colloque.principal import Principal
from colloque.scheduling.domain import PatientKind, VisitMode
from colloque.scheduling.models import Practice, PracticePractitioner, VisitType
from colloque.scheduling.services import (
    audit_agenda,
    definition_changed,
    get_agenda_row,
    get_practice,
)
from colloque.scheduling.timetable import list_visit_types
from colloque.scheduling.versions import check_version, version_of


def visit_type_version(visit_type: VisitType) -> str:
    return version_of(
        visit_type.label,
        visit_type.duration_minutes,
        visit_type.online_bookable,
        visit_type.patient_kind,
        visit_type.mode,
        visit_type.active,
        visit_type.reminders,
    )


def _may_view(principal: Principal, practice_id: UUID, what: str) -> None:
    require(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(practice_id), what=what)


def get_practice_settings(session: Session, *, principal: Principal, practice_id: UUID) -> Practice:
    _may_view(principal, practice_id, "practice")
    return get_practice(session, practice_id=practice_id)


def get_agenda_rules(
    session: Session, *, principal: Principal, practice_id: UUID, practitioner_id: UUID
) -> PracticePractitioner:
    _may_view(principal, practice_id, "practice")
    return get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)


def list_agenda_visit_types(
    session: Session, *, principal: Principal, practice_id: UUID, practitioner_id: UUID
) -> list[VisitType]:
    """Every visit type of the agenda, offered online or not; retired ones are gone."""
    _may_view(principal, practice_id, "practice")
    get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    return list_visit_types(session, practice_id=practice_id, practitioner_id=practitioner_id)


def _visit_type(
    session: Session, practice_id: UUID, visit_type_id: UUID, *, for_update: bool = False
) -> VisitType:
    query = select(VisitType).where(
        VisitType.practice_id == practice_id,
        VisitType.visit_type_id == visit_type_id,
        VisitType.active.is_(True),
    )
    if for_update:
        # So that two edits based on one version cannot both pass the version check.
        query = query.with_for_update()
    visit_type = session.scalar(query)
    if visit_type is None:
        raise NotFound("visit type not found")
    return visit_type


def get_visit_type(
    session: Session, *, principal: Principal, practice_id: UUID, visit_type_id: UUID
) -> VisitType:
    _may_view(principal, practice_id, "visit type")
    return _visit_type(session, practice_id, visit_type_id)


@dataclass(frozen=True, slots=True)
class VisitTypeChanges:
    """The fields to change; None leaves a field as it is."""

    label: str | None = None
    duration_minutes: int | None = None
    online_bookable: bool | None = None
    patient_kind: PatientKind | None = None
    mode: VisitMode | None = None
    reminders: bool | None = None


def do_edit_visit_type(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    visit_type_id: UUID,
    expected_version: str,
    changes: VisitTypeChanges,
) -> VisitType:
    require(
        principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="visit type"
    )
    visit_type = _visit_type(session, practice_id, visit_type_id, for_update=True)
    check_version(visit_type_version(visit_type), expected_version, what="visit type")
    if changes.label is not None:
        if not changes.label.strip():
            raise InvalidInput("label is required", field="label")
        visit_type.label = changes.label.strip()
    if changes.duration_minutes is not None:
        if not 5 <= changes.duration_minutes <= 480:
            raise InvalidInput("duration must be 5 to 480 minutes", field="duration_minutes")
        visit_type.duration_minutes = changes.duration_minutes
    if changes.online_bookable is not None:
        visit_type.online_bookable = changes.online_bookable
    if changes.reminders is not None:
        visit_type.reminders = changes.reminders
    if changes.patient_kind is not None:
        visit_type.patient_kind = changes.patient_kind.value
    if changes.mode is not None:
        visit_type.mode = changes.mode.value
    _changed(session, now, principal, visit_type)
    return visit_type


def do_retire_visit_type(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    visit_type_id: UUID,
    expected_version: str,
) -> VisitType:
    """Retire, never delete: appointments no longer name their visit type on the server (it is
    sealed with the visit reason), so the server cannot tell whether one was booked with it; a
    retired type leaves the agenda's openings and search at once and keeps its row."""
    require(
        principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="visit type"
    )
    visit_type = _visit_type(session, practice_id, visit_type_id, for_update=True)
    check_version(visit_type_version(visit_type), expected_version, what="visit type")
    visit_type.active = False
    _changed(session, now, principal, visit_type)
    return visit_type


def _changed(session: Session, now: datetime, principal: Principal, visit_type: VisitType) -> None:
    definition_changed(
        session,
        get_agenda_row(
            session, practice_id=visit_type.practice_id, practitioner_id=visit_type.practitioner_id
        ),
    )
    audit_agenda(session, now, principal, visit_type.practice_id, visit_type.practitioner_id)
