"""Use cases of agenda management, and loading an agenda for the slot engine.

Service functions take the session and keyword-only arguments, check authorization with the one
policy, make one change with its audit event, and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import InvalidInput, NotFound
from colloque.ids import new_id
from colloque.principal import Principal, Role
from colloque.scheduling.domain import (
    OverrideKind,
    PatientKind,
    VisitMode,
)
from colloque.scheduling.models import (
    AgendaBreak,
    AgendaOverride,
    OpeningRange,
    OpeningRangeVisitType,
    OverrideVisitType,
    Practice,
    PracticeMember,
    PracticePractitioner,
    Practitioner,
    VisitType,
)
from colloque.scheduling.specialties import LANGUAGES, Specialty
from colloque.text import search_key

POSTCODE = re.compile(r"^[0-9A-Z][0-9A-Z \-]{2,9}$")


def minute_to_time(minute: int) -> time:
    """Minutes after midnight to a time; 1440 (end of day) becomes 23:59:59.999999."""
    if minute >= 24 * 60:
        return time(23, 59, 59, 999999)
    return time(minute // 60, minute % 60)


def check_timezone(name: str) -> ZoneInfo:
    if name not in _timezones():
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed zones always load
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone") from exc


_TIMEZONES: frozenset[str] | None = None


def _timezones() -> frozenset[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = frozenset(available_timezones())
    return _TIMEZONES


# --- practices and practitioners -------------------------------------------------------------


def do_create_practice(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    name: str,
    address: str,
    postcode: str,
    city: str,
    latitude: float,
    longitude: float,
    timezone: str = "Europe/Paris",
    practice_id: UUID | None = None,
) -> Practice:
    """Register a practice; the account that registers it becomes its admin."""
    if principal.account_id is None:
        raise InvalidInput("a practice is registered by a signed-in account", field="principal")
    check_timezone(timezone)
    if not POSTCODE.match(postcode.upper()):
        raise InvalidInput("postcode is not valid", field="postcode")
    practice = Practice(
        practice_id=practice_id or new_id(),
        name=name.strip(),
        address=address.strip(),
        postcode=postcode.upper().strip(),
        city=city.strip(),
        city_key=search_key(city),
        latitude=latitude,
        longitude=longitude,
        timezone=timezone,
        cancel_cutoff_minutes=240,
        anti_hoarding_days=6,
        hold_minutes=30,
        created_at=now,
    )
    session.add(practice)
    session.flush()
    session.add(
        PracticeMember(
            practice_id=practice.practice_id, account_id=principal.account_id, role=Role.ADMIN
        )
    )
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_CHANGED,
        principal=principal,
        practice_id=practice.practice_id,
        object_kind="practice",
        object_id=practice.practice_id,
    )
    return practice


def get_practice(session: Session, *, practice_id: UUID) -> Practice:
    practice = session.get(Practice, practice_id)
    if practice is None:
        raise NotFound("practice not found")
    return practice


def do_update_practice_settings(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    cancel_cutoff_minutes: int | None = None,
    anti_hoarding_days: int | None = None,
    hold_minutes: int | None = None,
) -> Practice:
    require(
        principal, Action.PRACTICE_SETTINGS_MANAGE, PracticeTarget(practice_id), what="practice"
    )
    practice = get_practice(session, practice_id=practice_id)
    if cancel_cutoff_minutes is not None:
        practice.cancel_cutoff_minutes = cancel_cutoff_minutes
    if anti_hoarding_days is not None:
        practice.anti_hoarding_days = anti_hoarding_days
    if hold_minutes is not None:
        practice.hold_minutes = hold_minutes
    _practice_definition_changed(session, practice_id)
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_CHANGED,
        principal=principal,
        practice_id=practice_id,
        object_kind="practice",
        object_id=practice_id,
    )
    return practice


def check_languages(languages: Iterable[str]) -> list[str]:
    codes = sorted({code.strip().lower() for code in languages})
    unknown = [code for code in codes if code not in LANGUAGES]
    if unknown or not codes:
        raise InvalidInput("languages must be ISO 639-1 codes, at least one", field="languages")
    return codes


@dataclass(frozen=True, slots=True)
class AgendaRulesInput:
    slot_step_minutes: int = 15
    min_notice_minutes: int = 120
    max_horizon_days: int = 90
    buffer_after_minutes: int = 0
    daily_cap: int | None = None


def do_add_practitioner(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    first_name: str,
    last_name: str,
    specialty: Specialty,
    languages: Sequence[str] = ("fr",),
    accepts_new_patients: bool = True,
    title: str = "",
    rules: AgendaRulesInput | None = None,
    practitioner_id: UUID | None = None,
) -> Practitioner:
    """Create a practitioner and their agenda at this practice."""
    require(
        principal, Action.PRACTICE_SETTINGS_MANAGE, PracticeTarget(practice_id), what="practice"
    )
    practice = get_practice(session, practice_id=practice_id)
    codes = check_languages(languages)
    practitioner = Practitioner(
        practitioner_id=practitioner_id or new_id(),
        title=title.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        name_key=practitioner_name_key(first_name, last_name),
        specialty=specialty.value,
        languages="," + ",".join(codes) + ",",
        accepts_new_patients=accepts_new_patients,
        created_at=now,
    )
    session.add(practitioner)
    session.flush()
    _add_agenda(session, practice, practitioner, rules or AgendaRulesInput())
    record(
        session,
        at=now,
        action=AuditAction.AGENDA_CHANGED,
        principal=principal,
        practice_id=practice_id,
        object_kind="practitioner",
        object_id=practitioner.practitioner_id,
    )
    return practitioner


def do_link_practitioner(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    rules: AgendaRulesInput | None = None,
) -> PracticePractitioner:
    """Open an agenda at this practice for a practitioner who already works elsewhere."""
    require(
        principal, Action.PRACTICE_SETTINGS_MANAGE, PracticeTarget(practice_id), what="practice"
    )
    practice = get_practice(session, practice_id=practice_id)
    practitioner = session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise NotFound("practitioner not found")
    if session.get(PracticePractitioner, (practice_id, practitioner_id)) is not None:
        raise InvalidInput("this practitioner already works here", field="practitioner_id")
    agenda = _add_agenda(session, practice, practitioner, rules or AgendaRulesInput())
    # The practitioner's other agendas now share their time with this one.
    session.execute(
        update(PracticePractitioner)
        .where(
            PracticePractitioner.practitioner_id == practitioner_id,
            PracticePractitioner.practice_id != practice_id,
        )
        .values(agenda_version=PracticePractitioner.agenda_version + 1)
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
    return agenda


def practitioner_name_key(first_name: str, last_name: str) -> str:
    return f"{search_key(first_name)} {search_key(last_name)} | {search_key(last_name)} {search_key(first_name)}"


def _add_agenda(
    session: Session, practice: Practice, practitioner: Practitioner, rules: AgendaRulesInput
) -> PracticePractitioner:
    _check_rules(rules)
    agenda = PracticePractitioner(
        practice_id=practice.practice_id,
        practitioner_id=practitioner.practitioner_id,
        specialty=practitioner.specialty,
        city_key=practice.city_key,
        slot_step_minutes=rules.slot_step_minutes,
        min_notice_minutes=rules.min_notice_minutes,
        max_horizon_days=rules.max_horizon_days,
        buffer_after_minutes=rules.buffer_after_minutes,
        daily_cap=rules.daily_cap,
        slots_refreshed_at=None,
        agenda_version=1,
    )
    session.add(agenda)
    session.flush()
    return agenda


def _check_rules(rules: AgendaRulesInput) -> None:
    if not 5 <= rules.slot_step_minutes <= 240:
        raise InvalidInput("slot step must be 5 to 240 minutes", field="slot_step_minutes")
    if rules.min_notice_minutes < 0:
        raise InvalidInput("minimum notice cannot be negative", field="min_notice_minutes")
    if not 1 <= rules.max_horizon_days <= 730:
        raise InvalidInput("horizon must be 1 to 730 days", field="max_horizon_days")
    if not 0 <= rules.buffer_after_minutes <= 240:
        raise InvalidInput("buffer must be 0 to 240 minutes", field="buffer_after_minutes")
    if rules.daily_cap is not None and rules.daily_cap <= 0:
        raise InvalidInput("daily cap must be positive", field="daily_cap")


def get_agenda_row(
    session: Session, *, practice_id: UUID, practitioner_id: UUID
) -> PracticePractitioner:
    row = session.get(PracticePractitioner, (practice_id, practitioner_id))
    if row is None:
        raise NotFound("practitioner not found at this practice")
    return row


def do_update_agenda_rules(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    rules: AgendaRulesInput,
) -> PracticePractitioner:
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    row = get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    _check_rules(rules)
    row.slot_step_minutes = rules.slot_step_minutes
    row.min_notice_minutes = rules.min_notice_minutes
    row.max_horizon_days = rules.max_horizon_days
    row.buffer_after_minutes = rules.buffer_after_minutes
    row.daily_cap = rules.daily_cap
    _definition_changed(row)
    _audit_agenda(session, now, principal, practice_id, practitioner_id)
    return row


def _audit_agenda(
    session: Session, now: datetime, principal: Principal, practice_id: UUID, practitioner_id: UUID
) -> None:
    record(
        session,
        at=now,
        action=AuditAction.AGENDA_CHANGED,
        principal=principal,
        practice_id=practice_id,
        object_kind="agenda",
        object_id=practitioner_id,
    )


def _definition_changed(row: PracticePractitioner) -> None:
    """The agenda's definition changed: caches of it (in processes, in search) are now stale."""
    row.agenda_version += 1
    row.slots_refreshed_at = None


def _practice_definition_changed(session: Session, practice_id: UUID) -> None:
    session.execute(
        update(PracticePractitioner)
        .where(PracticePractitioner.practice_id == practice_id)
        .values(agenda_version=PracticePractitioner.agenda_version + 1, slots_refreshed_at=None)
    )


def mark_agenda_stale(session: Session, *, practice_id: UUID, practitioner_id: UUID) -> None:
    """The search cache of this agenda must be rebuilt (a slot was freed, a rule changed)."""
    session.execute(
        update(PracticePractitioner)
        .where(
            PracticePractitioner.practice_id == practice_id,
            PracticePractitioner.practitioner_id == practitioner_id,
        )
        .values(slots_refreshed_at=None)
    )


# --- visit types -----------------------------------------------------------------------------


def do_add_visit_type(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    label: str,
    duration_minutes: int,
    online_bookable: bool = True,
    patient_kind: PatientKind = PatientKind.ANY,
    mode: VisitMode = VisitMode.IN_PERSON,
    visit_type_id: UUID | None = None,
) -> VisitType:
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    row = get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    if not 5 <= duration_minutes <= 480:
        raise InvalidInput("duration must be 5 to 480 minutes", field="duration_minutes")
    if not label.strip():
        raise InvalidInput("label is required", field="label")
    visit_type = VisitType(
        practice_id=practice_id,
        visit_type_id=visit_type_id or new_id(),
        practitioner_id=practitioner_id,
        label=label.strip(),
        duration_minutes=duration_minutes,
        online_bookable=online_bookable,
        patient_kind=patient_kind.value,
        mode=mode.value,
        active=True,
    )
    session.add(visit_type)
    _definition_changed(row)
    _audit_agenda(session, now, principal, practice_id, practitioner_id)
    return visit_type


def get_visit_type(session: Session, *, practice_id: UUID, visit_type_id: UUID) -> VisitType:
    visit_type = session.get(VisitType, (practice_id, visit_type_id))
    if visit_type is None or not visit_type.active:
        raise NotFound("visit type not found", field="visit_type_id")
    return visit_type


def list_visit_types(
    session: Session, *, practice_id: UUID, practitioner_id: UUID
) -> list[VisitType]:
    return list(
        session.scalars(
            select(VisitType)
            .where(
                VisitType.practice_id == practice_id,
                VisitType.practitioner_id == practitioner_id,
                VisitType.active.is_(True),
            )
            .order_by(VisitType.duration_minutes, VisitType.label)
        )
    )


def list_practice_agendas(
    session: Session, *, practice_id: UUID
) -> list[tuple[Practitioner, list[VisitType]]]:
    """The practice's practitioners with their online visit types: two queries, whatever the size."""
    get_practice(session, practice_id=practice_id)
    practitioners = session.scalars(
        select(Practitioner)
        .join(
            PracticePractitioner,
            PracticePractitioner.practitioner_id == Practitioner.practitioner_id,
        )
        .where(PracticePractitioner.practice_id == practice_id)
        .order_by(Practitioner.last_name, Practitioner.first_name)
    ).all()
    types: dict[UUID, list[VisitType]] = defaultdict(list)
    for visit_type in session.scalars(
        select(VisitType)
        .where(
            VisitType.practice_id == practice_id,
            VisitType.active.is_(True),
            VisitType.online_bookable.is_(True),
        )
        .order_by(VisitType.duration_minutes, VisitType.label)
    ):
        types[visit_type.practitioner_id].append(visit_type)
    return [(p, types[p.practitioner_id]) for p in practitioners]


# --- weekly openings, breaks, overrides ---------------------------------------------------------


def _check_minutes(start_minute: int, end_minute: int) -> None:
    if not 0 <= start_minute < end_minute <= 24 * 60:
        raise InvalidInput("times must satisfy 00:00 <= start < end <= 24:00", field="start_minute")


def _check_visit_types(
    session: Session, practice_id: UUID, practitioner_id: UUID, visit_type_ids: Iterable[UUID]
) -> list[UUID]:
    ids = sorted(set(visit_type_ids))
    if not ids:
        raise InvalidInput("an opening needs at least one visit type", field="visit_type_ids")
    known = {
        vt.visit_type_id
        for vt in list_visit_types(
            session, practice_id=practice_id, practitioner_id=practitioner_id
        )
    }
    if not set(ids) <= known:
        raise InvalidInput("a visit type does not belong to this agenda", field="visit_type_ids")
    return ids


def do_add_opening_range(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    weekday: int,
    start_minute: int,
    end_minute: int,
    visit_type_ids: Iterable[UUID],
) -> OpeningRange:
    """Add a weekly opening. Refused if it overlaps another opening of the same practitioner on
    that weekday, here or at another practice: a person cannot be in two places at once."""
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    row = get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    if not 0 <= weekday <= 6:
        raise InvalidInput("weekday must be 0 (Monday) to 6 (Sunday)", field="weekday")
    _check_minutes(start_minute, end_minute)
    ids = _check_visit_types(session, practice_id, practitioner_id, visit_type_ids)
    clash = session.scalar(
        select(OpeningRange.opening_id).where(
            OpeningRange.practitioner_id == practitioner_id,
            OpeningRange.weekday == weekday,
            OpeningRange.start_minute < end_minute,
            OpeningRange.end_minute > start_minute,
        )
    )
    if clash is not None:
        raise InvalidInput(
            "this opening overlaps another opening of the practitioner", field="start_minute"
        )
    opening = OpeningRange(
        practice_id=practice_id,
        opening_id=new_id(),
        practitioner_id=practitioner_id,
        weekday=weekday,
        start_minute=start_minute,
        end_minute=end_minute,
    )
    session.add(opening)
    session.flush()
    session.add_all(
        OpeningRangeVisitType(
            practice_id=practice_id, opening_id=opening.opening_id, visit_type_id=vt
        )
        for vt in ids
    )
    _definition_changed(row)
    _audit_agenda(session, now, principal, practice_id, practitioner_id)
    return opening


def do_remove_opening_range(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, opening_id: UUID
) -> None:
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    opening = session.get(OpeningRange, (practice_id, opening_id))
    if opening is None:
        raise NotFound("opening not found")
    _definition_changed(
        get_agenda_row(session, practice_id=practice_id, practitioner_id=opening.practitioner_id)
    )
    _audit_agenda(session, now, principal, practice_id, opening.practitioner_id)
    session.delete(opening)


def do_add_break(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    weekday: int,
    start_minute: int,
    end_minute: int,
) -> AgendaBreak:
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    row = get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    if not 0 <= weekday <= 6:
        raise InvalidInput("weekday must be 0 (Monday) to 6 (Sunday)", field="weekday")
    _check_minutes(start_minute, end_minute)
    pause = AgendaBreak(
        practice_id=practice_id,
        break_id=new_id(),
        practitioner_id=practitioner_id,
        weekday=weekday,
        start_minute=start_minute,
        end_minute=end_minute,
    )
    session.add(pause)
    _definition_changed(row)
    _audit_agenda(session, now, principal, practice_id, practitioner_id)
    return pause


def do_add_override(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    kind: OverrideKind,
    first_day: date,
    last_day: date,
    start_minute: int | None = None,
    end_minute: int | None = None,
    visit_type_ids: Iterable[UUID] = (),
) -> AgendaOverride:
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    row = get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    if first_day > last_day:
        raise InvalidInput("first_day must not be after last_day", field="last_day")
    if (last_day - first_day).days > 366:
        raise InvalidInput("an override spans at most a year", field="last_day")
    if (start_minute is None) != (end_minute is None):
        raise InvalidInput("give both start and end times, or neither", field="end_minute")
    if start_minute is not None and end_minute is not None:
        _check_minutes(start_minute, end_minute)
    ids: list[UUID] = []
    if kind is OverrideKind.EXTRA_OPENING:
        if start_minute is None:
            raise InvalidInput("an extra opening needs start and end times", field="start_minute")
        ids = _check_visit_types(session, practice_id, practitioner_id, visit_type_ids)
    elif kind is OverrideKind.HOLIDAY and start_minute is not None:
        raise InvalidInput("a holiday closes whole days; give no times", field="start_minute")
    override = AgendaOverride(
        practice_id=practice_id,
        override_id=new_id(),
        practitioner_id=practitioner_id,
        kind=kind.value,
        first_day=first_day,
        last_day=last_day,
        start_minute=start_minute,
        end_minute=end_minute,
    )
    session.add(override)
    session.flush()
    session.add_all(
        OverrideVisitType(
            practice_id=practice_id, override_id=override.override_id, visit_type_id=vt
        )
        for vt in ids
    )
    _definition_changed(row)
    _audit_agenda(session, now, principal, practice_id, practitioner_id)
    return override


def list_practitioner_practices(session: Session, *, practitioner_id: UUID) -> list[UUID]:
    return list(
        session.scalars(
            select(PracticePractitioner.practice_id).where(
                PracticePractitioner.practitioner_id == practitioner_id
            )
        )
    )
