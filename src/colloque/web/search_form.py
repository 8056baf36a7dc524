"""The search form's fields: read from the query string, checked one by one, echoed back.

Every field is parsed here rather than by FastAPI so that a wrong value answers with the form,
the field named and explained in the patient's language (a 400), never with the API's JSON or a
500. The form's one place field is a postcode when it starts with a digit, else a city.

Visit types are free text per practice, in the practice's own words and language ("Détartrage",
"Bilan kinésithérapique", "Consultation"), different for every specialty: the filter is a text
field matched as a part of the label (as the API does), not a list that would have to guess
every practice's wording. What patients most often need to know (video or not, open to new
patients) are fields of their own, which hold whatever a practice calls its visits.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from babel import Locale

from colloque.scheduling.domain import VisitMode
from colloque.scheduling.specialties import LANGUAGES, Specialty
from colloque.search.services import SearchQuery, SortOrder
from colloque.text import search_key
from colloque.web.i18n import Language
from colloque.web.rendering import BadRequest

PAGE_SIZE = 10
MAX_PAGE = 500
#: The radius of a search around a point, the search service's own default, said on the page.
NEAR_RADIUS_KM = 25
#: Two decimals of a degree is about 1 km: a position kept no finer than that says where someone
#: is searching from, not which building they are in. The island rounds before it submits; the
#: server rounds again so that the form and the paging links it writes stay as coarse.
COORDINATE_DECIMALS = 2
_POSTCODE = re.compile(r"[0-9][0-9A-Za-z]{1,9}")
_NUMBER = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,12})?")
_TRUE = frozenset({"1", "true", "on", "yes"})

#: The fields the form holds, in the order a reader meets them; also what a page echoes back.
FIELDS: Final = (
    "specialty",
    "where",
    "name",
    "visit_type",
    "mode",
    "new_patients",
    "language",
    "sort",
    "latitude",
    "longitude",
)


@dataclass(frozen=True, slots=True)
class ParsedSearch:
    """What the form asked for: the query, or None when it names nothing to look for yet."""

    query: SearchQuery | None
    #: The values to show back in the form (coordinates as rounded).
    values: dict[str, str]


def language_choices(language: Language) -> list[tuple[str, str]]:
    """The languages a practitioner may declare, named in the page's language, by name."""
    names = Locale.parse(language.value).languages
    pairs = [(code, _capitalised(names.get(code, code))) for code in LANGUAGES]
    return sorted(pairs, key=lambda pair: search_key(pair[1]))


def _capitalised(name: str) -> str:
    # French names languages in lower case ("allemand"); a list item starts with a capital.
    return name[:1].upper() + name[1:]


def _clean(value: str | None, field: str, *, longest: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > longest or any(unicodedata.category(c) == "Cc" for c in value):
        raise BadRequest(field)
    if not search_key(value):
        raise BadRequest(field)
    return value


def _coordinate(text: str | None, field: str, *, limit: float) -> float | None:
    if text is None or not text.strip():
        return None
    if not _NUMBER.fullmatch(text.strip()):
        raise BadRequest(field)
    value = float(text.strip())
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise BadRequest(field)
    return round(value, COORDINATE_DECIMALS)


def _flag(text: str | None, field: str) -> bool:
    if text is None or not text.strip():
        return False
    if text.strip().lower() not in _TRUE:
        raise BadRequest(field)
    return True


def _specialty(text: str | None) -> Specialty | None:
    if text is None or not text.strip():
        return None
    try:
        return Specialty(text.strip())
    except ValueError:
        raise BadRequest("specialty") from None


def _mode(text: str | None) -> VisitMode | None:
    # The form offers one choice, video; "in person" is every practice's default and not a
    # filter anyone asks for, so the page takes only what it offers.
    if text is None or not text.strip():
        return None
    if text.strip() != VisitMode.VIDEO.value:
        raise BadRequest("mode")
    return VisitMode.VIDEO


def _language(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    code = text.strip().lower()
    if code not in LANGUAGES:
        raise BadRequest("language")
    return code


def _sort(text: str | None) -> SortOrder:
    if text is None or not text.strip():
        return SortOrder.EARLIEST
    try:
        return SortOrder(text.strip())
    except ValueError:
        raise BadRequest("sort") from None


def _page(text: str | None) -> int:
    page_text = (text or "").strip() or "1"
    if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
        raise BadRequest("page")
    return int(page_text)


def echo(params: dict[str, str]) -> dict[str, str]:
    """The raw values to show back in a form that was refused, each as typed."""
    return {key: params.get(key, "") for key in FIELDS}


def parse_search(params: dict[str, str]) -> ParsedSearch:
    """The search the form asked for; :class:`BadRequest` names the first wrong field."""
    specialty = _specialty(params.get("specialty"))
    where = _clean(params.get("where"), "where", longest=100)
    name = _clean(params.get("name"), "name", longest=100)
    if name is not None and len(name) < 2:
        raise BadRequest("name")
    visit_type = _clean(params.get("visit_type"), "visit_type", longest=60)
    if visit_type is not None and len(visit_type) < 2:
        raise BadRequest("visit_type")
    mode = _mode(params.get("mode"))
    new_patients = _flag(params.get("new_patients"), "new_patients")
    language = _language(params.get("language"))
    latitude = _coordinate(params.get("latitude"), "latitude", limit=90)
    longitude = _coordinate(params.get("longitude"), "longitude", limit=180)
    if (latitude is None) != (longitude is None):
        raise BadRequest("latitude" if latitude is None else "longitude")
    sort = _sort(params.get("sort"))
    # Distance is measured from a point; a city or postcode names an area, not a point, and the
    # data holds no centre for it: without "near me" there is nothing to measure from.
    if sort is SortOrder.DISTANCE and latitude is None:
        raise BadRequest("sort", reason="needs_position")
    page = _page(params.get("page"))
    values = echo(params)
    values.update(
        latitude="" if latitude is None else f"{latitude:.{COORDINATE_DECIMALS}f}",
        longitude="" if longitude is None else f"{longitude:.{COORDINATE_DECIMALS}f}",
        sort=sort.value,
        mode=mode.value if mode is not None else "",
        new_patients="true" if new_patients else "",
        language=language or "",
    )
    if specialty is None and where is None and name is None and latitude is None:
        return ParsedSearch(None, values)
    postcode = where if where is not None and _POSTCODE.fullmatch(where) else None
    query = SearchQuery(
        specialty=specialty,
        city=where if postcode is None else None,
        postcode=postcode,
        latitude=latitude,
        longitude=longitude,
        name=name,
        mode=mode,
        visit_type=visit_type,
        new_patients=new_patients or None,
        language=language,
        sort=sort,
        page=page,
        page_size=PAGE_SIZE,
    )
    return ParsedSearch(query, values)
