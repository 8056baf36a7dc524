"""The desk's pages: booking by phone (``/practice/{id}/book``) and a patient's administrative
record at the practice (``/practice/{id}/patients/{patient_id}``).

Only members who may book open them; anybody else gets the practice section's answer
(practice_entry.py). The booking page is a shell: the visit type and the
reason are sealed in the browser (web/src/desk.ts), for the practice's key and the key of the
account that manages the patient, like a patient's own booking (docs/crypto.md 5.11).
"""

from __future__ import annotations

from base64 import urlsafe_b64encode
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, AnyPrincipal, ClockDep, SettingsDep
from colloque.authorization.policy import Action, PracticeTarget, authorize
from colloque.booking import access as reading
from colloque.booking.rules import Status
from colloque.crypto.documents import MAX_DOCUMENT_BYTES
from colloque.errors import NotFound
from colloque.principal import Principal
from colloque.scheduling import services as scheduling
from colloque.scheduling import timetable
from colloque.web.assets import Assets
from colloque.web.booking_page import key_directory_pin
from colloque.web.practice_entry import enter
from colloque.web.practice_section import PREFIX, section_links
from colloque.web.rendering import (
    LangParam,
    Page,
    error_page,
    full_name,
    json_for_html,
    render,
    slot_text,
)
from colloque.web.session import private

router = APIRouter(include_in_schema=False)

BOOK = Action.PRACTICE_APPOINTMENT_BOOK
BOOK_ENTRY = "src/desk.ts"
PATIENT_ENTRY = "src/desk-patient.ts"


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _instant(text: str | None) -> datetime | None:
    """A preselected start (the agenda's "new appointment"): an instant with its offset, else
    nothing (a malformed one is ignored rather than refused: the desk picks a time anyway)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def _record_access(principal: Principal, practice_id: UUID) -> dict[str, bool]:
    """What the patient page's record sections may open, as the policy decides for this member:
    notes and documents are clinical (practitioners), messages any staff (docs/authorization.md).
    The island only leaves out what the API would refuse anyway."""
    target = PracticeTarget(practice_id)

    def may(action: Action) -> bool:
        return bool(authorize(principal, action, target))

    return {
        "mayReadReasons": may(Action.PRACTICE_SEALED_WRAPS_READ),
        "mayReadClinical": may(Action.PRACTICE_CLINICAL_READ),
        "mayWriteClinical": may(Action.PRACTICE_CLINICAL_WRITE),
        "mayReadMessages": may(Action.PRACTICE_MESSAGE_READ),
        "maySendMessages": may(Action.PRACTICE_MESSAGE_SEND),
    }


def _not_found(request: Request, page: Page) -> Response:
    return private(request, error_page(page, 404, "error.not_found"))


@router.get(PREFIX + "/{practice_text}/book", response_class=HTMLResponse)
def desk_booking_page(
    request: Request,
    practice_text: str,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    entered = enter(request, principal, lang_cookie, practice_text, BOOK)
    if isinstance(entered, Response):
        return entered
    page, practice_id = entered.page, entered.practice_id
    with db.read() as session:
        practice = scheduling.get_practice(session, practice_id=practice_id)
        agendas = timetable.list_practice_agendas(
            session, practice_id=practice_id, online_only=False
        )
    wanted = _uuid(request.query_params.get("practitioner", ""))
    starts_at = _instant(request.query_params.get("starts_at"))
    zone = ZoneInfo(practice.timezone)
    data = {
        "lang": page.language.value,
        "practiceId": str(practice.practice_id),
        "practiceName": practice.name,
        "timezone": practice.timezone,
        "practitioners": [
            {
                "id": str(practitioner.practitioner_id),
                "name": full_name(practitioner),
                "visitTypes": [
                    {
                        "id": str(vt.visit_type_id),
                        "label": vt.label,
                        "durationMinutes": vt.duration_minutes,
                        "reminders": vt.reminders,
                    }
                    for vt in visit_types
                ],
            }
            for practitioner, visit_types in agendas
            if visit_types
        ],
        "practitionerId": str(wanted) if wanted is not None else None,
        "startsAt": None if starts_at is None else starts_at.astimezone(zone).isoformat(),
        # The practice's today, by the server's clock: where the free slots start.
        "today": clock.now().astimezone(zone).date().isoformat(),
        # A patient's page is this, then the patient's id.
        "patientsUrl": f"{PREFIX}/{practice.practice_id}/patients/",
        "pin": key_directory_pin(settings),
        "email": entered.signed_in.email,
    }
    assets: Assets = request.app.state.web_assets
    response = render(
        page,
        "desk_book.html",
        practice=practice,
        section_links=section_links(principal, practice.practice_id),
        island=assets.entry(BOOK_ENTRY),
        island_data=json_for_html(data),
    )
    return private(request, response)


@router.get(PREFIX + "/{practice_text}/patients/{patient_text}", response_class=HTMLResponse)
def desk_patient_page(
    request: Request,
    practice_text: str,
    patient_text: str,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    entered = enter(request, principal, lang_cookie, practice_text, BOOK)
    if isinstance(entered, Response):
        return entered
    page, practice_id = entered.page, entered.practice_id
    patient_id = _uuid(patient_text)
    if patient_id is None:
        return _not_found(request, page)
    now = clock.now()
    try:
        with db.write() as session:
            practice = scheduling.get_practice(session, practice_id=practice_id)
            # With their sealed reasons (the practice's wraps) for members who hold its key.
            patient_page = reading.read_registry_patient(
                session,
                now=now,
                principal=principal,
                practice_id=practice_id,
                patient_id=patient_id,
            )
            registered, views = patient_page.registered, patient_page.views
            agendas = timetable.list_practice_agendas(
                session, practice_id=practice_id, online_only=False
            )
            names = {
                practitioner.practitioner_id: full_name(practitioner)
                for practitioner, _types in agendas
            }
    except NotFound:
        return _not_found(request, page)
    zone = ZoneInfo(practice.timezone)
    upcoming: list[dict[str, Any]] = []
    past: list[dict[str, Any]] = []
    for appointment in (view.appointment for view in views):  # latest first
        row = {
            "when": slot_text(appointment.starts_at.astimezone(zone), page.language),
            "practitioner": names.get(appointment.practitioner_id, ""),
            "status": page.t(f"status.{appointment.status}"),
            "outside_hours": appointment.outside_hours,
        }
        ahead = appointment.starts_at >= now and appointment.status in (Status.BOOKED, Status.HELD)
        (upcoming if ahead else past).append(row)
    patient, contact = registered.patient, registered.contact
    reasons = [
        {
            "appointmentId": str(view.appointment.appointment_id),
            "when": slot_text(view.appointment.starts_at.astimezone(zone), page.language),
            "itemId": str(view.reason.item_id),
            "envelope": urlsafe_b64encode(view.reason.envelope).decode().rstrip("="),
            "wraps": [
                urlsafe_b64encode(wrap.wrap).decode().rstrip("=") for wrap in view.reason.wraps
            ],
        }
        for view in views
        if view.reason is not None
    ]
    data = {
        "lang": page.language.value,
        "practiceId": str(practice_id),
        "patientId": str(patient_id),
        "phone": contact.phone,
        "email": contact.email,
        "version": registered.version,
    }
    record = {
        "lang": page.language.value,
        "practiceId": str(practice_id),
        "practiceName": practice.name,
        "patientId": str(patient_id),
        "holderId": None if patient.holder_account_id is None else str(patient.holder_account_id),
        **_record_access(principal, practice_id),
        "reasons": reasons,
        # A sealed reason names its visit type by id: the labels it may name.
        "visitTypes": {
            str(visit_type.visit_type_id): visit_type.label
            for _practitioner, visit_types in agendas
            for visit_type in visit_types
        },
        "maxBytes": MAX_DOCUMENT_BYTES,
        "pin": key_directory_pin(settings),
        "email": entered.signed_in.email,
    }
    assets: Assets = request.app.state.web_assets
    response = render(
        page,
        "desk_patient.html",
        practice=practice,
        patient=patient,
        birth_date=None
        if patient.birth_date is None
        else format_date(patient.birth_date, format="long", locale=page.language.value),
        has_account=patient.holder_account_id is not None,
        contact=contact,
        upcoming=list(reversed(upcoming)),
        past=past,
        section_links=section_links(principal, practice_id),
        island=assets.entry(PATIENT_ENTRY),
        island_data=json_for_html(data),
        record_data=json_for_html(record),
    )
    return private(request, response)
