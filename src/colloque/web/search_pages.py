"""The home page and the search results, read through the search service the API uses.

The form's one place field is a postcode when it starts with a digit, else a city.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, ClockDep
from colloque.errors import InvalidInput
from colloque.scheduling.specialties import SPECIALTY_LABELS, Specialty
from colloque.search import services as search
from colloque.search.services import SearchQuery
from colloque.text import search_key
from colloque.web.i18n import Language
from colloque.web.rendering import (
    BadRequest,
    LangParam,
    error_page,
    full_name,
    page_for,
    practitioner_url,
    render,
    slot_text,
    specialty_label,
)

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 10
MAX_PAGE = 500
_POSTCODE = re.compile(r"[0-9][0-9A-Za-z]{1,9}")


def _specialties(language: Language) -> list[tuple[str, str]]:
    pairs = [(code.value, specialty_label(code, language)) for code in SPECIALTY_LABELS]
    return sorted(pairs, key=lambda pair: search_key(pair[1]))


def _clean(value: str | None, field: str, *, longest: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > longest or any(unicodedata.category(c) == "Cc" for c in value):
        raise BadRequest(field)
    if not search_key(value):
        raise BadRequest(field)
    return value


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def home(request: Request, lang_cookie: LangParam = None) -> Response:
    page = page_for(request, lang_cookie)
    return render(
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
def searchpage_for(
    request: Request, db: DB, clock: ClockDep, lang_cookie: LangParam = None
) -> Response:
    page = page_for(request, lang_cookie)
    params = {key: value for key, value in request.query_params.items() if key != "lang"}
    form = {key: params.get(key, "") for key in ("specialty", "where", "name")}
    try:
        query = _search_query(params)
    except BadRequest as bad:
        return render(
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
            return error_page(page, 400, "error.bad_query")

    def page_url(number: int) -> str:
        return str(request.url.include_query_params(page=number).remove_query_params("lang"))

    return render(
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
        "name": full_name(hit.practitioner),
        "specialty": specialty_label(hit.practitioner.specialty, language),
        "practice": hit.practice,
        "url": practitioner_url(hit.practice.practice_id, hit.practitioner.practitioner_id),
        "next_slots": [
            slot_text(offer.starts_at.astimezone(zone), language) for offer in hit.next_slots
        ],
    }
