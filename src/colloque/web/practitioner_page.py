"""A practitioner's page: address, languages, visit types, and the free slots week by week,
read through the same slot listing as the API, and complete without JavaScript; the slot picker
(web/src/slot-picker.ts) mounts over its slots and takes its first data from the page.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from colloque.api.deps import DB, ClockDep
from colloque.api.routes.scheduling import MAX_SLOT_WINDOW_DAYS
from colloque.errors import InvalidInput, NotFound
from colloque.scheduling import services as scheduling
from colloque.scheduling import timetable
from colloque.scheduling.domain import Slot
from colloque.scheduling.models import Practice, Practitioner, VisitType
from colloque.search import availability
from colloque.web.assets import Assets
from colloque.web.i18n import Language
from colloque.web.rendering import (
    BadRequest,
    LangParam,
    Page,
    error_page,
    full_name,
    json_for_html,
    page_for,
    practitioner_url,
    render,
    slot_text,
    specialty_label,
)

router = APIRouter(include_in_schema=False)

#: The API's own limit: slots are looked up at most two years ahead.
MAX_WEEKS_AHEAD = 104
SLOT_PICKER_ENTRY = "src/slot-picker.ts"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _week(text: str | None, this_monday: date) -> date:
    if text is None or not text.strip():
        return this_monday
    if not _DAY.fullmatch(text.strip()):
        raise BadRequest("week")
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest("week") from None
    monday = day - timedelta(days=day.weekday())
    if monday > this_monday + timedelta(weeks=MAX_WEEKS_AHEAD):
        raise BadRequest("week")
    return max(monday, this_monday)


def _visit_type(text: str | None, visit_types: list[VisitType]) -> VisitType | None:
    if text is None or not text.strip():
        return visit_types[0] if visit_types else None
    wanted = _uuid(text.strip())
    chosen = next((vt for vt in visit_types if vt.visit_type_id == wanted), None)
    if chosen is None:
        raise BadRequest("visit_type")
    return chosen


def _language_names(codes: list[str], language: Language) -> list[str]:
    names = Locale.parse(language.value).languages
    return [names.get(code, code) for code in codes]


@router.api_route(
    "/practitioners/{practice_text}/{practitioner_text}",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
)
def practitionerpage_for(
    request: Request,
    practice_text: str,
    practitioner_text: str,
    db: DB,
    clock: ClockDep,
    lang_cookie: LangParam = None,
) -> Response:
    page = page_for(request, lang_cookie)
    practice_id, practitioner_id = _uuid(practice_text), _uuid(practitioner_text)
    if practice_id is None or practitioner_id is None:
        return error_page(page, 404, "error.not_found")
    now = clock.now()
    try:
        with db.read() as session:
            practice = scheduling.get_practice(session, practice_id=practice_id)
            agendas = timetable.list_practice_agendas(session, practice_id=practice_id)
            found = next(
                ((p, vts) for p, vts in agendas if p.practitioner_id == practitioner_id), None
            )
            if found is None:
                return error_page(page, 404, "error.not_found")
            practitioner, visit_types = found
            zone = ZoneInfo(practice.timezone)
            today = now.astimezone(zone).date()
            this_monday = today - timedelta(days=today.weekday())
            week = _week(request.query_params.get("week"), this_monday)
            chosen = _visit_type(request.query_params.get("visit_type"), visit_types)
            slots = []
            if chosen is not None:
                slots = _week_slots(session, now, practice_id, practitioner_id, chosen, week)
                if not slots and not request.query_params.get("week"):
                    # Late in a week, or with a busy agenda, this week may be empty: open the
                    # page on the first week that has a free slot rather than on an empty grid.
                    later = _first_free_week(
                        session, now, practice_id, practitioner_id, chosen, zone
                    )
                    if later is not None and later != week:
                        week = later
                        slots = _week_slots(
                            session, now, practice_id, practitioner_id, chosen, week
                        )
    except NotFound:
        return error_page(page, 404, "error.not_found")
    except BadRequest:
        return error_page(page, 400, "error.bad_query")
    except InvalidInput:
        return error_page(page, 400, "error.bad_query")
    return render(
        page,
        "practitioner.html",
        **_practitioner_context(
            page, practice, practitioner, visit_types, chosen, week, today, slots
        ),
    )


def _week_slots(
    session: Session,
    now: datetime,
    practice_id: UUID,
    practitioner_id: UUID,
    visit_type: VisitType,
    week: date,
) -> list[Slot]:
    return availability.list_free_slots(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        visit_type_id=visit_type.visit_type_id,
        duration_minutes=None,
        start=week,
        days=7,
    )


def _first_free_week(
    session: Session,
    now: datetime,
    practice_id: UUID,
    practitioner_id: UUID,
    visit_type: VisitType,
    zone: ZoneInfo,
) -> date | None:
    """The Monday of the week of the first free slot within the API's longest window."""
    ahead = availability.list_free_slots(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        visit_type_id=visit_type.visit_type_id,
        duration_minutes=None,
        start=None,
        days=MAX_SLOT_WINDOW_DAYS,
    )
    if not ahead:
        return None
    day = ahead[0].start.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def _practitioner_context(
    page: Page,
    practice: Practice,
    practitioner: Practitioner,
    visit_types: list[VisitType],
    chosen: VisitType | None,
    week: date,
    today: date,
    slots: list[Slot],
) -> dict[str, Any]:
    language = page.language
    this_monday = today - timedelta(days=today.weekday())
    zone = ZoneInfo(practice.timezone)
    days: dict[date, list[dict[str, str]]] = {week + timedelta(days=n): [] for n in range(7)}
    for slot in slots:
        local = slot.start.astimezone(zone)
        days.setdefault(local.date(), []).append(slot_text(local, language))
    base = practitioner_url(practice.practice_id, practitioner.practitioner_id)

    def week_url(monday: date) -> str:
        chosen_part = f"visit_type={chosen.visit_type_id}&" if chosen is not None else ""
        return f"{base}?{chosen_part}week={monday.isoformat()}"

    last_monday = this_monday + timedelta(weeks=MAX_WEEKS_AHEAD)
    assets: Assets = page.request.app.state.web_assets
    island = {
        "lang": language.value,
        "practiceId": str(practice.practice_id),
        "practitionerId": str(practitioner.practitioner_id),
        "timezone": practice.timezone,
        "visitTypes": [
            {
                "id": str(vt.visit_type_id),
                "label": vt.label,
                "durationMinutes": vt.duration_minutes,
            }
            for vt in visit_types
        ],
        "visitTypeId": str(chosen.visit_type_id) if chosen is not None else None,
        "week": week.isoformat(),
        "firstWeek": this_monday.isoformat(),
        # The practice's day by the server's clock: where the waitlist form's days start.
        "today": today.isoformat(),
        "lastWeek": last_monday.isoformat(),
        "slots": [slot.start.astimezone(zone).isoformat() for slot in slots],
    }
    return {
        "practice": practice,
        "name": full_name(practitioner),
        "specialty": specialty_label(practitioner.specialty, language),
        "languages": _language_names(
            [code for code in practitioner.languages.split(",") if code], language
        ),
        "accepts_new_patients": practitioner.accepts_new_patients,
        "map_url": (
            "https://www.openstreetmap.org/"
            f"?mlat={practice.latitude:.5f}&mlon={practice.longitude:.5f}"
            f"#map=17/{practice.latitude:.5f}/{practice.longitude:.5f}"
        ),
        "visit_types": visit_types,
        "chosen": chosen,
        "week": week,
        "week_label": format_date(week, format="long", locale=language.value),
        "days": [
            {
                "label": format_date(day, format="EEEE d MMMM", locale=language.value),
                "slots": day_slots,
            }
            for day, day_slots in sorted(days.items())
        ],
        "prev_url": week_url(week - timedelta(weeks=1)) if week > this_monday else None,
        "next_url": week_url(week + timedelta(weeks=1)) if week < last_monday else None,
        "base_url": base,
        "book_url": f"/book/{practice.practice_id}/{practitioner.practitioner_id}",
        "island_data": json_for_html(island),
        "island": assets.entry(SLOT_PICKER_ENTRY),
    }
