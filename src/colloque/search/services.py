"""Finding practitioners, from the next-slots cache that makes it fast.

A search is three indexed queries whatever the country's size: the matching agendas with their
earliest cached slot (sorted and paged in SQL), their next few slots, and their visit types. It
never runs the slot engine; :mod:`colloque.search.cache` does, when an agenda changes or its
cache ages.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from colloque.errors import InvalidInput
from colloque.metrics import SEARCHES
from colloque.scheduling.domain import PatientKind, VisitMode
from colloque.scheduling.models import (
    NextSlot,
    Practice,
    PracticePractitioner,
    Practitioner,
    VisitType,
)
from colloque.scheduling.specialties import Specialty
from colloque.text import search_key

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LATITUDE = 111.2
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


# --- the query --------------------------------------------------------------------------------


class SortOrder(enum.StrEnum):
    EARLIEST = "earliest"
    DISTANCE = "distance"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    specialty: Specialty | None = None
    city: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    name: str | None = None
    mode: VisitMode | None = None
    visit_type: str | None = None
    new_patients: bool | None = None
    language: str | None = None
    sort: SortOrder = SortOrder.EARLIEST
    page: int = 1
    page_size: int = 20
    slots_per_result: int = 4


@dataclass(frozen=True, slots=True)
class SlotOffer:
    starts_at: datetime
    visit_type_ids: tuple[UUID, ...]


@dataclass(slots=True)
class SearchHit:
    practice: Practice
    practitioner: Practitioner
    earliest: datetime | None
    distance_km: float | None
    next_slots: list[SlotOffer] = field(default_factory=list)
    visit_types: list[VisitType] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    page: int
    page_size: int
    has_more: bool


def check_query(query: SearchQuery) -> None:
    # Names and cities match on their letters and digits (LIKE patterns are escaped): text with
    # none, such as "%%", would otherwise drop the filter and match every practitioner.
    if query.name is not None and not search_key(query.name):
        raise InvalidInput("name must hold letters or digits", field="name")
    if query.city is not None and not search_key(query.city):
        raise InvalidInput("city must hold letters or digits", field="city")
    has_point = query.latitude is not None or query.longitude is not None
    if has_point and (query.latitude is None or query.longitude is None):
        raise InvalidInput("give both latitude and longitude", field="longitude")
    if query.radius_km is not None and not has_point:
        raise InvalidInput("a radius needs a point (latitude and longitude)", field="radius_km")
    if query.sort is SortOrder.DISTANCE and not has_point:
        raise InvalidInput("sorting by distance needs a point", field="sort")
    if not (query.specialty or query.city or query.postcode or has_point or query.name):
        raise InvalidInput("give a specialty, a place or a name to search for", field="specialty")
    if not 1 <= query.page <= 500:
        raise InvalidInput("page must be 1 to 500", field="page")
    if not 1 <= query.page_size <= 50:
        raise InvalidInput("page_size must be 1 to 50", field="page_size")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _visit_type_filter(query: SearchQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        VisitType.active.is_(True),
        VisitType.online_bookable.is_(True),
    ]
    if query.mode is not None:
        conditions.append(VisitType.mode == query.mode.value)
    if query.new_patients:
        conditions.append(
            VisitType.patient_kind.in_((PatientKind.NEW_ONLY.value, PatientKind.ANY.value))
        )
    if query.visit_type:
        conditions.append(
            func.lower(VisitType.label).contains(query.visit_type.strip().lower(), autoescape=True)
        )
    return conditions


def _is_plain(query: SearchQuery) -> bool:
    """Specialty and city, earliest first, nothing else: the common search, with a fast path."""
    return (
        query.specialty is not None
        and bool(query.city)
        and query.sort is SortOrder.EARLIEST
        and not (query.postcode or query.name or query.language or query.visit_type)
        and query.latitude is None
        and query.longitude is None
        and query.mode is None
        and not query.new_patients
    )


def _rank_by_time(session: Session, *, now: datetime, query: SearchQuery) -> list[Ranked] | None:
    """Walk the (specialty, city, start) index of cached slots in time order.

    The first slot met of each agenda is its earliest. Enough agendas are found in a short window
    whenever the page is made of agendas with free slots; the answer is then exact, because every
    agenda left out has its earliest slot after the window's last one. Otherwise (a page past the
    agendas with free slots, ties at the window's edge) the caller ranks all candidates.
    """
    assert query.specialty is not None
    assert query.city
    offset = (query.page - 1) * query.page_size
    need = offset + query.page_size + 1
    window = min(need * 12, 3_000)
    rows = session.execute(
        select(NextSlot.practice_id, NextSlot.practitioner_id, NextSlot.starts_at)
        .where(
            NextSlot.specialty == query.specialty.value,
            NextSlot.city_key == search_key(query.city),
            NextSlot.bookable_until >= now,
        )
        .order_by(NextSlot.starts_at)
        .limit(window)
    ).all()
    earliest: dict[tuple[UUID, UUID], datetime] = {}
    for practice_id, practitioner_id, starts_at in rows:
        earliest.setdefault((practice_id, practitioner_id), starts_at)
    ranked = sorted(earliest.items(), key=lambda item: (item[1], item[0][1]))
    if len(ranked) < need or (len(rows) == window and ranked[need - 1][1] >= rows[-1][2]):
        return None
    return [
        Ranked(practice_id=p, practitioner_id=r, earliest=first, distance_km=None)
        for (p, r), first in ranked[offset:need]
    ]


def search_practitioners(session: Session, *, now: datetime, query: SearchQuery) -> SearchPage:
    check_query(query)
    SEARCHES.inc()
    if _is_plain(query):
        fast = _rank_by_time(session, now=now, query=query)
        if fast is not None:
            has_more = len(fast) > query.page_size
            page_hits = _load_hits(session, fast[: query.page_size])
            _attach_slots_and_types(session, now=now, hits=page_hits, query=query)
            return SearchPage(
                hits=page_hits, page=query.page, page_size=query.page_size, has_more=has_more
            )
    type_filter = _visit_type_filter(query)
    filtered_types = len(type_filter) > 2
    # Within one agenda the notice is constant, so the first slot by bookable_until is also the
    # earliest by start: one step down the (agenda, bookable_until) index, not an aggregate.
    earliest_query = (
        select(NextSlot.starts_at)
        .where(
            NextSlot.practice_id == PracticePractitioner.practice_id,
            NextSlot.practitioner_id == PracticePractitioner.practitioner_id,
            NextSlot.bookable_until >= now,
        )
        .order_by(NextSlot.bookable_until)
        .limit(1)
    )
    if filtered_types:
        earliest_query = earliest_query.join(
            VisitType,
            and_(
                VisitType.practice_id == NextSlot.practice_id,
                VisitType.visit_type_id == NextSlot.visit_type_id,
            ),
        ).where(*type_filter)
    earliest = earliest_query.correlate(PracticePractitioner).scalar_subquery().label("earliest")

    statement = select(
        PracticePractitioner.practice_id, PracticePractitioner.practitioner_id, earliest
    )
    # The agenda row carries specialty and city, so the common search touches no other table
    # until the page is known.
    if query.specialty is not None:
        statement = statement.where(PracticePractitioner.specialty == query.specialty.value)
    if query.city:
        statement = statement.where(PracticePractitioner.city_key == search_key(query.city))
    around = query.latitude is not None and query.longitude is not None
    if query.postcode or around:
        statement = statement.join(
            Practice, Practice.practice_id == PracticePractitioner.practice_id
        ).add_columns(Practice.latitude, Practice.longitude)
    if query.postcode:
        code = query.postcode.strip().upper()
        statement = statement.where(
            Practice.postcode == code
            if len(code) >= 5
            else Practice.postcode.startswith(code, autoescape=True)
        )
    if query.name or query.language or query.new_patients:
        statement = statement.join(
            Practitioner, Practitioner.practitioner_id == PracticePractitioner.practitioner_id
        )
    if query.name:
        for term in search_key(query.name).split():
            statement = statement.where(Practitioner.name_key.contains(term, autoescape=True))
    if query.language:
        statement = statement.where(
            Practitioner.languages.contains(f",{query.language.strip().lower()},", autoescape=True)
        )
    if query.new_patients:
        statement = statement.where(Practitioner.accepts_new_patients.is_(True))
    if filtered_types:
        statement = statement.where(
            exists(
                select(VisitType.visit_type_id).where(
                    VisitType.practice_id == PracticePractitioner.practice_id,
                    VisitType.practitioner_id == PracticePractitioner.practitioner_id,
                    *type_filter,
                )
            )
        )

    offset = (query.page - 1) * query.page_size
    ranked: list[Ranked]
    if around:
        ranked = _rank_around(session, statement, query)[offset : offset + query.page_size + 1]
    else:
        statement = (
            statement.order_by(earliest.asc().nulls_last(), PracticePractitioner.practitioner_id)
            .offset(offset)
            .limit(query.page_size + 1)
        )
        ranked = [
            Ranked(practice_id=row[0], practitioner_id=row[1], earliest=row[2], distance_km=None)
            for row in session.execute(statement)
        ]
    has_more = len(ranked) > query.page_size
    page_hits = _load_hits(session, ranked[: query.page_size])
    _attach_slots_and_types(session, now=now, hits=page_hits, query=query)
    return SearchPage(hits=page_hits, page=query.page, page_size=query.page_size, has_more=has_more)


@dataclass(frozen=True, slots=True)
class Ranked:
    practice_id: UUID
    practitioner_id: UUID
    earliest: datetime | None
    distance_km: float | None


def _load_hits(session: Session, ranked: list[Ranked]) -> list[SearchHit]:
    if not ranked:
        return []
    practices = {
        p.practice_id: p
        for p in session.scalars(
            select(Practice).where(Practice.practice_id.in_({r.practice_id for r in ranked}))
        )
    }
    practitioners = {
        p.practitioner_id: p
        for p in session.scalars(
            select(Practitioner).where(
                Practitioner.practitioner_id.in_({r.practitioner_id for r in ranked})
            )
        )
    }
    return [
        SearchHit(
            practice=practices[r.practice_id],
            practitioner=practitioners[r.practitioner_id],
            earliest=r.earliest,
            distance_km=r.distance_km,
        )
        for r in ranked
    ]


def _rank_around(
    session: Session, statement: Select[*tuple[Any, ...]], query: SearchQuery
) -> list[Ranked]:
    """Bounding box in SQL (indexed), exact great-circle distance and sorting in Python."""
    assert query.latitude is not None
    assert query.longitude is not None
    radius = query.radius_km if query.radius_km is not None else 25.0
    if not 0 < radius <= 200:
        raise InvalidInput("radius_km must be more than 0 and at most 200", field="radius_km")
    dlat = radius / KM_PER_DEGREE_LATITUDE
    dlon = radius / max(KM_PER_DEGREE_LATITUDE * math.cos(math.radians(query.latitude)), 1e-6)
    statement = statement.where(
        Practice.latitude.between(query.latitude - dlat, query.latitude + dlat),
        Practice.longitude.between(query.longitude - dlon, query.longitude + dlon),
    ).limit(5000)
    ranked: list[Ranked] = []
    for practice_id, practitioner_id, first, latitude, longitude in session.execute(statement):
        distance = haversine_km(query.latitude, query.longitude, latitude, longitude)
        if distance <= radius:
            ranked.append(
                Ranked(
                    practice_id=practice_id,
                    practitioner_id=practitioner_id,
                    earliest=first,
                    distance_km=distance,
                )
            )
    if query.sort is SortOrder.DISTANCE:
        ranked.sort(key=lambda r: (r.distance_km or 0.0, r.earliest or FAR_FUTURE))
    else:
        ranked.sort(
            key=lambda r: (r.earliest is None, r.earliest or FAR_FUTURE, r.distance_km or 0.0)
        )
    return ranked


def _attach_slots_and_types(
    session: Session, *, now: datetime, hits: list[SearchHit], query: SearchQuery
) -> None:
    if not hits:
        return
    keys = [(h.practice.practice_id, h.practitioner.practitioner_id) for h in hits]
    type_filter = _visit_type_filter(query)
    types_by_agenda: dict[tuple[UUID, UUID], list[VisitType]] = defaultdict(list)
    for visit_type in session.scalars(
        select(VisitType)
        .where(tuple_(VisitType.practice_id, VisitType.practitioner_id).in_(keys), *type_filter)
        .order_by(VisitType.duration_minutes, VisitType.label)
    ):
        types_by_agenda[(visit_type.practice_id, visit_type.practitioner_id)].append(visit_type)
    allowed_types = {vt.visit_type_id for types in types_by_agenda.values() for vt in types}
    slots_by_agenda: dict[tuple[UUID, UUID], dict[datetime, list[UUID]]] = defaultdict(dict)
    if allowed_types:
        # Only the first few start times of each agenda leave the database: a large cell's page
        # holds hundreds of cached slots, and turning them all into Python rows cost more than
        # the rest of the search.
        rank = (
            func.dense_rank()
            .over(
                partition_by=(NextSlot.practice_id, NextSlot.practitioner_id),
                order_by=NextSlot.starts_at,
            )
            .label("rank")
        )
        offered = (
            select(
                NextSlot.practice_id,
                NextSlot.practitioner_id,
                NextSlot.visit_type_id,
                NextSlot.starts_at,
                rank,
            )
            .where(
                tuple_(NextSlot.practice_id, NextSlot.practitioner_id).in_(keys),
                NextSlot.bookable_until >= now,
                NextSlot.visit_type_id.in_(allowed_types),
            )
            .subquery()
        )
        for practice_id, practitioner_id, visit_type_id, starts_at in session.execute(
            select(
                offered.c.practice_id,
                offered.c.practitioner_id,
                offered.c.visit_type_id,
                offered.c.starts_at,
            )
            .where(offered.c.rank <= query.slots_per_result)
            .order_by(offered.c.starts_at, offered.c.visit_type_id)
        ):
            slots_by_agenda[(practice_id, practitioner_id)].setdefault(starts_at, []).append(
                visit_type_id
            )
    for hit, key in zip(hits, keys, strict=True):
        hit.visit_types = types_by_agenda.get(key, [])
        starts = sorted(slots_by_agenda.get(key, {}).items())
        hit.next_slots = [SlotOffer(starts_at=s, visit_type_ids=tuple(ids)) for s, ids in starts]
