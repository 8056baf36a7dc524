"""The home page and the search results, read through the search service the API uses.

The form's fields are parsed in search_form.py; a search near the patient's position comes from
the "near me" island (web/src/near-me.ts), which fills the form's coordinates and submits it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, ClockDep
from colloque.errors import InvalidInput
from colloque.scheduling.domain import VisitMode
from colloque.scheduling.specialties import SPECIALTY_LABELS
from colloque.search import services as search
from colloque.search.services import SortOrder
from colloque.text import search_key
from colloque.web.assets import Assets
from colloque.web.i18n import Language
from colloque.web.rendering import (
    BadRequest,
    LangParam,
    Page,
    full_name,
    page_for,
    practitioner_url,
    render,
    slot_text,
    specialty_label,
)
from colloque.web.search_form import (
    FIELDS,
    NEAR_RADIUS_KM,
    echo,
    language_choices,
    parse_search,
)

router = APIRouter(include_in_schema=False)

NEAR_ME_ENTRY = "src/near-me.ts"
#: Fields the service may name in a refusal that the form shows next to a control.
_FORM_FIELDS = frozenset(FIELDS) | {"page", "city", "postcode"}


def _specialties(language: Language) -> list[tuple[str, str]]:
    pairs = [(code.value, specialty_label(code, language)) for code in SPECIALTY_LABELS]
    return sorted(pairs, key=lambda pair: search_key(pair[1]))


def _form_context(page: Page, values: dict[str, str], invalid: str | None) -> dict[str, Any]:
    assets: Assets = page.request.app.state.web_assets
    return {
        "specialties": _specialties(page.language),
        "languages": language_choices(page.language),
        "form": values,
        "invalid": invalid,
        "radius_km": NEAR_RADIUS_KM,
        "island": assets.entry(NEAR_ME_ENTRY),
        "filters_open": any(
            values[key] for key in ("visit_type", "mode", "new_patients", "language")
        )
        or invalid in {"visit_type", "mode", "new_patients", "language"},
    }


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def home(request: Request, lang_cookie: LangParam = None) -> Response:
    page = page_for(request, lang_cookie)
    return render(page, "home.html", **_form_context(page, echo({}), None), invalid_reason=None)


@router.api_route("/search", methods=["GET", "HEAD"], response_class=HTMLResponse)
def searchpage_for(
    request: Request, db: DB, clock: ClockDep, lang_cookie: LangParam = None
) -> Response:
    page = page_for(request, lang_cookie)
    params = {key: value for key, value in request.query_params.items() if key != "lang"}
    try:
        parsed = parse_search(params)
    except BadRequest as bad:
        return _refused(page, echo(params), bad.field, bad.reason)
    query = parsed.query
    hits: list[dict[str, Any]] = []
    has_more = False
    if query is not None:
        try:
            with db.read() as session:
                result = search.search_practitioners(session, now=clock.now(), query=query)
                hits = [_hit(hit, page.language) for hit in result.hits]
                has_more = result.has_more
        except InvalidInput as invalid:
            field = invalid.field if invalid.field in _FORM_FIELDS else None
            return _refused(page, parsed.values, _shown_field(field))
    values = parsed.values
    return render(
        page,
        "search.html",
        same_page=_page_url(values, query.page) if query else _search_url(values),
        **_form_context(page, values, None),
        invalid_reason=None,
        hits=hits,
        query=query,
        by_distance=query is not None and query.sort is SortOrder.DISTANCE,
        forget_position_url=_forget_position_url(values),
        prev_url=_page_url(values, query.page - 1) if query and query.page > 1 else None,
        next_url=_page_url(values, query.page + 1) if query and has_more else None,
    )


def _shown_field(field: str | None) -> str:
    # The form has one place field; the service names the city or postcode it was read as.
    if field in ("city", "postcode"):
        return "where"
    return field or "query"


def _refused(page: Page, values: dict[str, str], field: str, reason: str | None = None) -> Response:
    return render(
        page,
        "search.html",
        400,
        **_form_context(page, values, field),
        invalid_reason=reason,
        hits=[],
        query=None,
        by_distance=False,
        forget_position_url=None,
        prev_url=None,
        next_url=None,
    )


def _search_url(values: dict[str, str], **changes: str) -> str:
    # Built from the parsed values, not the request's URL: the links carry the rounded position
    # and no parameter the form does not know. Relative, so that links stay on whatever origin
    # served the page, never an absolute URL built from Host.
    merged = {**values, **changes}
    return "/search?" + urlencode({key: value for key, value in merged.items() if value})


def _page_url(values: dict[str, str], number: int) -> str:
    return _search_url(values, page=str(number) if number > 1 else "")


def _forget_position_url(values: dict[str, str]) -> str | None:
    if not values["latitude"]:
        return None
    return _search_url(values, latitude="", longitude="", sort="")


def _hit(hit: search.SearchHit, language: Language) -> dict[str, Any]:
    zone = ZoneInfo(hit.practice.timezone)
    return {
        "name": full_name(hit.practitioner),
        "specialty": specialty_label(hit.practitioner.specialty, language),
        "practice": hit.practice,
        "url": practitioner_url(hit.practice.practice_id, hit.practitioner.practitioner_id),
        "distance": (
            None
            if hit.distance_km is None
            else format_decimal(hit.distance_km, format="#,##0.0", locale=language.value)
        ),
        "video": any(vt.mode == VisitMode.VIDEO.value for vt in hit.visit_types),
        "next_slots": [
            slot_text(offer.starts_at.astimezone(zone), language) for offer in hit.next_slots
        ],
    }
