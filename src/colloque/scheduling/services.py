"""Use cases of practices, their practitioners and agenda rules (the timetable itself: timetable.py).

Service functions take the session and keyword-only arguments, check authorization with the one
policy, make one change with its audit event, and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import InvalidInput, NotFound
from colloque.ids import new_id
from colloque.principal import Principal, Role
from colloque.scheduling.models import (
    Practice,
    PracticeMember,
    PracticePractitioner,
    Practitioner,
    SearchCell,
)
from colloque.scheduling.specialties import LANGUAGES, Specialty
from colloque.scheduling.versions import check_version, version_of
from colloque.storage.upsert import insert_on_conflict
from colloque.text import search_key

POSTCODE = re.compile(r"^[0-9A-Z][0-9A-Z \-]{2,9}$")


def check_timezone(name: str) -> ZoneInfo:
    if name not in _timezones():
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed zones always load
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone") from exc


@functools.cache
def _timezones() -> frozenset[str]:
    """The zone names of the IANA database as the tzdata package lists them: not the system's
    files, which add names such as ``localtime`` (whatever zone the server is set to)."""
    listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    # tzdata's "Factory" zone names no place: it stands for "the time zone was never set".
    return frozenset(listed.split()) - {"Factory"}


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


@dataclass(frozen=True, slots=True)
class MemberPractice:
    practice: Practice
    role: Role


def member_practices(session: Session, *, principal: Principal) -> list[MemberPractice]:
    """The practices the principal is a member of (never an operator's grants), by name."""
    roles = {
        practice_id: membership.role
        for practice_id, membership in principal.memberships.items()
        if membership.role is not Role.OPERATOR
    }
    if not roles:
        return []
    practices = session.scalars(
        select(Practice).where(Practice.practice_id.in_(roles)).order_by(Practice.name)
    )
    return [MemberPractice(practice, roles[practice.practice_id]) for practice in practices]


def get_practice(session: Session, *, practice_id: UUID, for_update: bool = False) -> Practice:
    practice = session.get(Practice, practice_id, with_for_update=for_update)
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
    expected_version: str | None = None,
) -> Practice:
    """``expected_version``: the settings' version the change was based on (the API always
    sends it; versions.py); a caller inside the transaction may leave it out."""
    require(
        principal, Action.PRACTICE_SETTINGS_MANAGE, PracticeTarget(practice_id), what="practice"
    )
    practice = get_practice(session, practice_id=practice_id, for_update=True)
    if expected_version is not None:
        check_version(settings_version(practice), expected_version, what="practice settings")
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


def settings_version(practice: Practice) -> str:
    return version_of(
        practice.cancel_cutoff_minutes, practice.anti_hoarding_days, practice.hold_minutes
    )


def rules_version(row: PracticePractitioner) -> str:
    return version_of(
        row.slot_step_minutes,
        row.min_notice_minutes,
        row.max_horizon_days,
        row.buffer_after_minutes,
        row.daily_cap,
    )


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
    add_agenda(session, practice=practice, practitioner=practitioner, rules=rules)
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


def practitioner_name_key(first_name: str, last_name: str) -> str:
    return f"{search_key(first_name)} {search_key(last_name)} | {search_key(last_name)} {search_key(first_name)}"


def add_agenda(
    session: Session,
    *,
    practice: Practice,
    practitioner: Practitioner,
    rules: AgendaRulesInput | None = None,
) -> PracticePractitioner:
    """The practitioner's agenda at the practice, with these rules (the defaults otherwise) and
    no hours yet; its specialty is the practitioner's, its city the practice's.

    Not a use case: it neither asks the policy nor audits. Its callers do both, each with the
    right its own way in gives: an admin adding a new practitioner (:func:`do_add_practitioner`),
    or a practitioner of another practice accepting an invitation here
    (``accounts.invitations.do_accept_invitation``), since no practice may open an agenda, and
    through the busy ledger take time, of someone who works elsewhere without their consent.
    """
    rules = rules or AgendaRulesInput()
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
    search_cells_changed(session, [(agenda.specialty, agenda.city_key)])
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
    session: Session, *, practice_id: UUID, practitioner_id: UUID, for_update: bool = False
) -> PracticePractitioner:
    row = session.get(
        PracticePractitioner, (practice_id, practitioner_id), with_for_update=for_update
    )
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
    expected_version: str | None = None,
) -> PracticePractitioner:
    """``expected_version`` as for :func:`do_update_practice_settings`."""
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    row = get_agenda_row(
        session, practice_id=practice_id, practitioner_id=practitioner_id, for_update=True
    )
    if expected_version is not None:
        check_version(rules_version(row), expected_version, what="agenda rules")
    _check_rules(rules)
    row.slot_step_minutes = rules.slot_step_minutes
    row.min_notice_minutes = rules.min_notice_minutes
    row.max_horizon_days = rules.max_horizon_days
    row.buffer_after_minutes = rules.buffer_after_minutes
    row.daily_cap = rules.daily_cap
    definition_changed(session, row)
    audit_agenda(session, now, principal, practice_id, practitioner_id)
    return row


def audit_agenda(
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


def definition_changed(session: Session, row: PracticePractitioner) -> None:
    """The agenda's definition changed: caches of it (in processes, in search, search answers
    kept) are now stale."""
    row.agenda_version += 1
    row.slots_refreshed_at = None
    search_cells_changed(session, [(row.specialty, row.city_key)])


def _practice_definition_changed(session: Session, practice_id: UUID) -> None:
    cells = session.execute(
        update(PracticePractitioner)
        .where(PracticePractitioner.practice_id == practice_id)
        .values(agenda_version=PracticePractitioner.agenda_version + 1, slots_refreshed_at=None)
        .returning(PracticePractitioner.specialty, PracticePractitioner.city_key)
    ).all()
    search_cells_changed(session, [(specialty, city_key) for specialty, city_key in cells])


def search_cells_changed(session: Session, cells: Iterable[tuple[str, str]]) -> None:
    """What a search of these (specialty, city key) cells shows may have changed other than by a
    booking: bump their revisions, so that no process serves a kept answer of them again. Cells
    are taken in one order, so two transactions bumping the same ones cannot deadlock."""
    rows = [
        {"specialty": specialty, "city_key": city_key, "revision": 1}
        for specialty, city_key in sorted(set(cells))
    ]
    if not rows:
        return
    session.execute(
        insert_on_conflict(session, SearchCell)
        .values(rows)
        .on_conflict_do_update(
            index_elements=[SearchCell.specialty, SearchCell.city_key],
            set_={"revision": SearchCell.revision + 1},
        )
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
