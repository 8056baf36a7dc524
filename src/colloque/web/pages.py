"""The public pages: home, search results, a practitioner's page.

They read through the same service functions as the JSON API (search, free slots), in one read
transaction each, and are complete without JavaScript. Their inputs are parsed here rather than
by FastAPI's validation, so that a bad query or an unknown id answers with a page in the
patient's language (400 or 404), never with the API's JSON problem or a 500.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from fastapi import APIRouter, Cookie, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from colloque.api.deps import DB, ClockDep
from colloque.api.routes.scheduling import MAX_SLOT_WINDOW_DAYS
from colloque.config import Environment as Deployment
from colloque.errors import InvalidInput, NotFound
from colloque.scheduling import services as scheduling
from colloque.scheduling import timetable
from colloque.scheduling.domain import Slot
from colloque.scheduling.models import Practice, Practitioner, VisitType
from colloque.scheduling.specialties import SPECIALTY_LABELS, Specialty
from colloque.search import availability
from colloque.search import services as search
from colloque.search.services import SearchQuery
from colloque.text import search_key
from colloque.web.assets import Assets
from colloque.web.i18n import Language, Translator, pick_language
from colloque.web.security import page_headers

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 10
MAX_PAGE = 500
#: The API's own limit: slots are looked up at most two years ahead.
MAX_WEEKS_AHEAD = 104
LANG_COOKIE = "lang"
STYLES_ENTRY = "src/pages.css"
SLOT_PICKER_ENTRY = "src/slot-picker.ts"
_POSTCODE = re.compile(r"[0-9][0-9A-Za-z]{1,9}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

_templates = Environment(
    loader=PackageLoader("colloque.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

LangParam = Annotated[str | None, Cookie(alias=LANG_COOKIE)]


class BadRequest(Exception):
    """A query a person could have typed wrong: answered with a 400 page naming the field."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _json_for_html(value: object) -> Markup:
    # Inside <script type="application/json"> the only danger is text closing the element early;
    # escaping <, > and & keeps it one JSON string whatever a label holds.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script element it goes in


@dataclass(frozen=True, slots=True)
class _Page:
    request: Request
    language: Language
    set_cookie: bool

    @property
    def t(self) -> Translator:
        return Translator(self.language)


def _page(request: Request, lang_cookie: str | None) -> _Page:
    asked = request.query_params.get("lang")
    language = pick_language(asked, lang_cookie)
    return _Page(request, language, set_cookie=asked == language.value and asked != lang_cookie)


def _render(page: _Page, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    request = page.request
    assets: Assets = request.app.state.web_assets
    other = Language.EN if page.language is Language.FR else Language.FR
    switch = request.url.include_query_params(lang=other.value)
    html = _templates.get_template(template).render(
        t=page.t,
        lang=page.language.value,
        other_lang=other.value,
        switch_url=f"{switch.path}?{switch.query}",
        styles=assets.entry(STYLES_ENTRY).styles,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    production = request.app.state.settings.environment is Deployment.PRODUCTION
    page_headers(response.headers, production=production)
    if page.set_cookie:
        response.set_cookie(
            LANG_COOKIE,
            page.language.value,
            max_age=365 * 86_400,
            samesite="lax",
            httponly=True,
            secure=production,
        )
    return response


def _error(page: _Page, status: int, key: str) -> HTMLResponse:
    return _render(page, "error.html", status, status_code=status, message_key=key)


def _specialty_label(code: str, language: Language) -> str:
    english, french = SPECIALTY_LABELS[Specialty(code)]
    return english if language is Language.EN else french


def _specialties(language: Language) -> list[tuple[str, str]]:
    pairs = [(code.value, _specialty_label(code, language)) for code in SPECIALTY_LABELS]
    return sorted(pairs, key=lambda pair: search_key(pair[1]))


def _full_name(practitioner: Practitioner) -> str:
    return " ".join(
        part
        for part in (practitioner.title, practitioner.first_name, practitioner.last_name)
        if part
    )


def _practitioner_url(practice_id: UUID, practitioner_id: UUID) -> str:
    return f"/practitioners/{practice_id}/{practitioner_id}"


def _clean(value: str | None, field: str, *, longest: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > longest or any(unicodedata.category(c) == "Cc" for c in value):
        raise BadRequest(field)
    if not search_key(value):
        raise BadRequest(field)
    return value


# --- home and search ------------------------------------------------------------------------


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def home(request: Request, lang_cookie: LangParam = None) -> Response:
    page = _page(request, lang_cookie)
    return _render(
        page,
        "home.html",
        specialties=_specialties(page.language),
        form={"specialty": "", "where": "", "name": ""},
        invalid=None,
    )


def _search_query(params: dict[str, str]) -> SearchQuery | None:
    """The search a form asked for, or None when it names nothing to look for."""
    specialty_text = params.get("specialty", "").strip()
    specialty: Specialty | None = None
    if specialty_text:
        try:
            specialty = Specialty(specialty_text)
        except ValueError:
            raise BadRequest("specialty") from None
    where = _clean(params.get("where"), "where", longest=100)
    name = _clean(params.get("name"), "name", longest=100)
    if name is not None and len(name) < 2:
        raise BadRequest("name")
    page_text = params.get("page", "1").strip() or "1"
    if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
        raise BadRequest("page")
    if specialty is None and where is None and name is None:
        return None
    postcode = where if where is not None and _POSTCODE.fullmatch(where) else None
    return SearchQuery(
        specialty=specialty,
        city=where if postcode is None else None,
        postcode=postcode,
        name=name,
        page=int(page_text),
        page_size=PAGE_SIZE,
    )


@router.api_route("/search", methods=["GET", "HEAD"], response_class=HTMLResponse)
def search_page(
    request: Request, db: DB, clock: ClockDep, lang_cookie: LangParam = None
) -> Response:
    page = _page(request, lang_cookie)
    params = {key: value for key, value in request.query_params.items() if key != "lang"}
    form = {key: params.get(key, "") for key in ("specialty", "where", "name")}
    try:
        query = _search_query(params)
    except BadRequest as bad:
        return _render(
            page,
            "search.html",
            400,
            specialties=_specialties(page.language),
            form=form,
            invalid=bad.field,
            hits=[],
            query=None,
            prev_url=None,
            next_url=None,
        )
    hits: list[dict[str, Any]] = []
    has_more = False
    if query is not None:
        try:
            with db.read() as session:
                result = search.search_practitioners(session, now=clock.now(), query=query)
                hits = [_hit(hit, page.language) for hit in result.hits]
                has_more = result.has_more
        except InvalidInput:
            return _error(page, 400, "error.bad_query")

    def page_url(number: int) -> str:
        return str(request.url.include_query_params(page=number).remove_query_params("lang"))

    return _render(
        page,
        "search.html",
        specialties=_specialties(page.language),
        form=form,
        invalid=None,
        hits=hits,
        query=query,
        prev_url=_relative(page_url(query.page - 1)) if query and query.page > 1 else None,
        next_url=_relative(page_url(query.page + 1)) if query and has_more else None,
    )


def _relative(url: str) -> str:
    # Links stay on whatever origin served the page: never an absolute URL built from Host.
    path_and_query = url.split("://", 1)[-1]
    return path_and_query[path_and_query.index("/") :]


def _hit(hit: search.SearchHit, language: Language) -> dict[str, Any]:
    zone = ZoneInfo(hit.practice.timezone)
    return {
        "name": _full_name(hit.practitioner),
        "specialty": _specialty_label(hit.practitioner.specialty, language),
        "practice": hit.practice,
        "url": _practitioner_url(hit.practice.practice_id, hit.practitioner.practitioner_id),
        "next_slots": [
            _slot_text(offer.starts_at.astimezone(zone), language) for offer in hit.next_slots
        ],
    }


def _slot_text(moment: datetime, language: Language) -> dict[str, str]:
    return {
        "iso": moment.isoformat(),
        "day": format_date(moment.date(), format="EEE d MMM", locale=language.value),
        "time": format_time(moment, format="HH:mm", locale=language.value),
    }


# --- a practitioner's page ------------------------------------------------------------------


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
def practitioner_page(
    request: Request,
    practice_text: str,
    practitioner_text: str,
    db: DB,
    clock: ClockDep,
    lang_cookie: LangParam = None,
) -> Response:
    page = _page(request, lang_cookie)
    practice_id, practitioner_id = _uuid(practice_text), _uuid(practitioner_text)
    if practice_id is None or practitioner_id is None:
        return _error(page, 404, "error.not_found")
    now = clock.now()
    try:
        with db.read() as session:
            practice = scheduling.get_practice(session, practice_id=practice_id)
            agendas = timetable.list_practice_agendas(session, practice_id=practice_id)
            found = next(
                ((p, vts) for p, vts in agendas if p.practitioner_id == practitioner_id), None
            )
            if found is None:
                return _error(page, 404, "error.not_found")
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
        return _error(page, 404, "error.not_found")
    except BadRequest:
        return _error(page, 400, "error.bad_query")
    except InvalidInput:
        return _error(page, 400, "error.bad_query")
    return _render(
        page,
        "practitioner.html",
        **_practitioner_context(
            page, practice, practitioner, visit_types, chosen, week, this_monday, slots
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
    page: _Page,
    practice: Practice,
    practitioner: Practitioner,
    visit_types: list[VisitType],
    chosen: VisitType | None,
    week: date,
    this_monday: date,
    slots: list[Slot],
) -> dict[str, Any]:
    language = page.language
    zone = ZoneInfo(practice.timezone)
    days: dict[date, list[dict[str, str]]] = {week + timedelta(days=n): [] for n in range(7)}
    for slot in slots:
        local = slot.start.astimezone(zone)
        days.setdefault(local.date(), []).append(_slot_text(local, language))
    base = _practitioner_url(practice.practice_id, practitioner.practitioner_id)

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
        "lastWeek": last_monday.isoformat(),
        "slots": [slot.start.astimezone(zone).isoformat() for slot in slots],
    }
    return {
        "practice": practice,
        "name": _full_name(practitioner),
        "specialty": _specialty_label(practitioner.specialty, language),
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
        "island_data": _json_for_html(island),
        "island": assets.entry(SLOT_PICKER_ENTRY),
    }
