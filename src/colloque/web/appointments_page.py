""" "My appointments": the signed-in holder's appointments and their relatives', upcoming and past,
each in its practice's time zone, with cancel and reschedule (a component over the API) and an
.ics file to add it to a calendar.

The visit reason and visit type are sealed for the patient's keys: this page never has them. It
marks where each sealed one goes; the browser fills them in once the holder unlocks their keys
(the crypto worker opens each, checking its author), with the labels of the practices' visit
types and the key directory pin given here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.api.deps import DB, AnyPrincipal, ClockDep
from colloque.booking import access as reading
from colloque.booking.rules import Status
from colloque.booking.waitlist.services import find_my_waitlist, waitlist_refs
from colloque.errors import NotFound
from colloque.scheduling.models import Practice, Practitioner, VisitType
from colloque.web import calendar_file
from colloque.web.assets import Assets
from colloque.web.booking_page import key_directory_pin
from colloque.web.rendering import LangParam, Page, error_page, full_name, json_for_html, page_for
from colloque.web.rendering import render as render_page
from colloque.web.session import has_account, login_redirect, private, signed_in
from colloque.web.waitlist_section import island_entries, island_offers, waitlist_section

router = APIRouter(include_in_schema=False)

PATH = "/me/appointments"
ENTRY = "src/appointments.ts"
#: ?done= after a change made by the component, for the message the reloaded page shows.
DONE = frozenset({"cancelled", "moved", "accepted", "declined", "left"})


@dataclass(frozen=True, slots=True)
class _Place:
    practice: Practice
    practitioner: Practitioner


def _places(
    session: Session, views: list[reading.AppointmentView]
) -> dict[tuple[UUID, UUID], _Place]:
    """Each (practice, practitioner) of the appointments, in two queries whatever their number."""
    if not views:
        return {}
    pairs = {(v.appointment.practice_id, v.appointment.practitioner_id) for v in views}
    practices = {
        p.practice_id: p
        for p in session.scalars(
            select(Practice).where(Practice.practice_id.in_({pair[0] for pair in pairs}))
        )
    }
    practitioners = {
        p.practitioner_id: p
        for p in session.scalars(
            select(Practitioner).where(
                Practitioner.practitioner_id.in_({pair[1] for pair in pairs})
            )
        )
    }
    return {pair: _Place(practices[pair[0]], practitioners[pair[1]]) for pair in pairs}


def _visit_type_labels(session: Session, practices: set[UUID]) -> dict[str, str]:
    """Every visit type label of these practices, by id, archived and desk-only ones included (a
    reason sealed years ago, or by the desk, names one): what a sealed visit type id reads as."""
    if not practices:
        return {}
    found = session.execute(
        select(VisitType.visit_type_id, VisitType.label).where(VisitType.practice_id.in_(practices))
    )
    return {str(visit_type_id): label for visit_type_id, label in found}


def _key(view: reading.AppointmentView) -> tuple[UUID, UUID]:
    return view.appointment.practice_id, view.appointment.practitioner_id


def _item(
    page: Page, view: reading.AppointmentView, place: _Place, now: datetime
) -> dict[str, Any]:
    appointment, practice = view.appointment, place.practice
    language = page.language
    zone = ZoneInfo(practice.timezone)
    starts = appointment.starts_at.astimezone(zone)
    ends = appointment.ends_at.astimezone(zone)
    cutoff = appointment.starts_at - timedelta(minutes=practice.cancel_cutoff_minutes)
    booked = appointment.status == Status.BOOKED
    upcoming = appointment.starts_at > now and appointment.status in (Status.BOOKED, Status.HELD)
    patient = view.patient
    return {
        "id": str(appointment.appointment_id),
        "practice_id": str(practice.practice_id),
        "practitioner_id": str(place.practitioner.practitioner_id),
        "upcoming": upcoming,
        "practitioner": full_name(place.practitioner),
        "practice": practice,
        "day": format_date(starts.date(), format="full", locale=language.value),
        "time": format_time(starts, format="HH:mm", locale=language.value),
        "end_time": format_time(ends, format="HH:mm", locale=language.value),
        "iso": starts.isoformat(),
        "zone": get_timezone_location(zone, locale=language.value),
        "status": appointment.status,
        "for_whom": f"{patient.first_name} {patient.last_name}".strip(),
        "for_self": patient.relationship == "self",
        "changeable": booked and upcoming and now < cutoff,
        "too_late": booked and upcoming and now >= cutoff,
        "cutoff_hours": f"{practice.cancel_cutoff_minutes / 60:g}",
        "deadline": format_datetime(
            cutoff.astimezone(zone), format="EEEE d MMMM, HH:mm", locale=language.value
        ),
        "ics_url": calendar_file.url(practice.practice_id, appointment.appointment_id),
        "duration_minutes": (appointment.ends_at - appointment.starts_at) // timedelta(minutes=1),
        "timezone": practice.timezone,
        "sealed": view.reason is not None,
    }


@router.get(PATH, response_class=HTMLResponse)
def my_appointments_page(
    request: Request,
    db: DB,
    clock: ClockDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    who = signed_in(request)
    if who is None or not has_account(principal):
        return login_redirect(request)
    page = page_for(request, lang_cookie)
    now = clock.now()
    with db.write() as session:  # the listing is audited
        # One event names the appointments and the waitlist the page shows.
        waiting = find_my_waitlist(session, principal=principal)
        views = reading.list_my_appointments(
            session, now=now, principal=principal, also=waitlist_refs(waiting)
        )
        places = _places(session, views)
        items = [_item(page, v, places[_key(v)], now) for v in views]
        sealed_at = {v.appointment.practice_id for v in views if v.reason is not None}
        labels = _visit_type_labels(session, sealed_at)
        offers, entries = waitlist_section(session, found=waiting, language=page.language)
    upcoming = [item for item in items if item["upcoming"]]
    # The most recent first: last week's visit matters more than one from three years ago.
    past = [item for item in reversed(items) if not item["upcoming"]]
    done = request.query_params.get("done")
    assets: Assets = request.app.state.web_assets
    island = {
        "lang": page.language.value,
        "appointments": [
            {
                "id": item["id"],
                "practiceId": item["practice_id"],
                "practitionerId": item["practitioner_id"],
                "durationMinutes": item["duration_minutes"],
                "startsAt": item["iso"],
                "timezone": item["timezone"],
                "today": now.astimezone(ZoneInfo(item["timezone"])).date().isoformat(),
            }
            for item in upcoming
            if item["changeable"]
        ],
        "sealed": [
            {"id": item["id"], "practiceId": item["practice_id"]}
            for item in items
            if item["sealed"]
        ],
        "visitTypes": labels,
        "offers": island_offers(offers),
        "entries": island_entries(entries),
        "pin": key_directory_pin(request.app.state.settings),
        "email": who.email,
    }
    response = render_page(
        page,
        "appointments.html",
        upcoming=upcoming,
        past=past,
        offers=offers,
        entries=entries,
        done=done if done in DONE else None,
        any_sealed=any(item["sealed"] for item in items),
        island=assets.entry(ENTRY),
        island_data=json_for_html(island),
    )
    return private(request, response)


@router.get(PATH + "/{practice_text}/{appointment_text}.ics")
def calendar_download(
    request: Request,
    practice_text: str,
    appointment_text: str,
    db: DB,
    clock: ClockDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    if not has_account(principal):
        return login_redirect(request)
    page = page_for(request, lang_cookie)
    ids = _uuid(practice_text), _uuid(appointment_text)
    # A malformed id, an unknown one and someone else's all get the same page: telling them
    # apart would tell a prober which appointments exist.
    not_found = private(request, error_page(page, 404, "error.not_found"))
    if ids[0] is None or ids[1] is None:
        return not_found
    try:
        with db.write() as session:
            view = reading.get_appointment(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=ids[0],
                appointment_id=ids[1],
            )
            place = _places(session, [view])[_key(view)]
            body = calendar_file.event(
                view.appointment,
                practice=place.practice,
                practitioner=full_name(place.practitioner),
                language=page.language,
                host=request.url.hostname or "colloque",
            )
    except NotFound:
        return not_found
    response = Response(body, media_type="text/calendar; charset=utf-8")
    day = view.appointment.starts_at.astimezone(ZoneInfo(place.practice.timezone)).date()
    response.headers["Content-Disposition"] = (
        f'attachment; filename="colloque-{day.isoformat()}.ics"'
    )
    return private(request, response)


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
