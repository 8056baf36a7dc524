"""HTTP route of practitioner search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from colloque.api.deps import DB, ClockDep, SettingsDep
from colloque.api.routes.scheduling import PracticeOut, PractitionerOut, VisitTypeOut
from colloque.api.schemas import Out, Text
from colloque.scheduling.domain import VisitMode
from colloque.scheduling.specialties import Specialty
from colloque.search import services
from colloque.search.answers import AnswerCache, KeptAnswers
from colloque.search.kept import CellProof, answer_of_cell, keeps_answers
from colloque.search.services import SearchQuery, SortOrder
from colloque.storage.engine import Database

router = APIRouter(prefix="/api/v1", tags=["search"])


class SlotOfferOut(Out):
    starts_at: datetime
    visit_type_ids: list[UUID]


class SearchHitOut(Out):
    practice: PracticeOut
    practitioner: PractitionerOut
    earliest_slot: datetime | None
    distance_km: float | None
    next_slots: list[SlotOfferOut]
    visit_types: list[VisitTypeOut]


class SearchPageOut(Out):
    results: list[SearchHitOut]
    page: int
    page_size: int
    has_more: bool


def _answers(request: Request, settings: SettingsDep) -> AnswerCache:
    """The process's cache of recent answers, made at the first search."""
    cache: AnswerCache | None = getattr(request.app.state, "search_answers", None)
    if cache is None:
        cache = AnswerCache(settings.search_answer_seconds)
        request.app.state.search_answers = cache
    return cache


def _kept_answers(request: Request, settings: SettingsDep) -> KeptAnswers[CellProof] | None:
    """The process's answers kept while still exact, made at the first search; None when off."""
    if not settings.search_keep_answers:
        return None
    kept: KeptAnswers[CellProof] | None = getattr(request.app.state, "search_kept", None)
    if kept is None:
        kept = KeptAnswers()
        request.app.state.search_kept = kept
    return kept


@router.get(
    "/search",
    response_model=SearchPageOut,
    summary="Find practitioners, earliest availability first",
    description=(
        "Public. Practitioners matching the filters, ordered by their earliest free slot (or by "
        "distance); `latitude` and `longitude` go together. 422 for an invalid filter."
    ),
)
def search(
    db: DB,
    clock: ClockDep,
    answers: Annotated[AnswerCache, Depends(_answers)],
    kept: Annotated[KeptAnswers[CellProof] | None, Depends(_kept_answers)],
    specialty: Specialty | None = None,
    city: Annotated[Text | None, Query(max_length=100)] = None,
    postcode: Annotated[
        Text | None, Query(min_length=2, max_length=10, pattern=r"^[0-9A-Za-z]+$")
    ] = None,
    latitude: Annotated[float | None, Query(ge=-90, le=90)] = None,
    longitude: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=200)] = None,
    name: Annotated[Text | None, Query(min_length=2, max_length=100)] = None,
    mode: VisitMode | None = None,
    visit_type: Annotated[Text | None, Query(min_length=2, max_length=60)] = None,
    new_patients: bool | None = None,
    language: Annotated[
        Text | None, Query(min_length=2, max_length=2, pattern=r"^[a-zA-Z]{2}$")
    ] = None,
    sort: SortOrder = SortOrder.EARLIEST,
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    page_size: Annotated[int, Query(ge=1, le=50)] = 20,
) -> Response:
    query = SearchQuery(
        specialty=specialty,
        city=city,
        postcode=postcode,
        latitude=latitude,
        longitude=longitude,
        radius_km=radius_km,
        name=name,
        mode=mode,
        visit_type=visit_type,
        new_patients=new_patients,
        language=language,
        sort=sort,
        page=page,
        page_size=page_size,
    )
    if kept is not None and keeps_answers(query):
        body = _checked_answer(db, clock.now(), query, kept)
    else:
        body = answers.get_or_build(query, lambda: _answer(db, clock.now(), query))
    return Response(body, media_type="application/json")


def _checked_answer(
    db: Database, now: datetime, query: SearchQuery, kept: KeptAnswers[CellProof]
) -> bytes:
    # Each statement sees what has committed when it runs (on PostgreSQL, as in a read
    # transaction at READ COMMITTED); answer_of_cell reads what it checks first.
    with db.read_statements() as session:
        return answer_of_cell(session, now=now, query=query, kept=kept, render=_render)


def _answer(db: Database, now: datetime, query: SearchQuery) -> bytes:
    with db.read() as session:
        return _render(services.search_practitioners(session, now=now, query=query))


def _render(result: services.SearchPage) -> bytes:
    page = SearchPageOut(
        results=[
            SearchHitOut(
                practice=PracticeOut.model_validate(hit.practice),
                practitioner=PractitionerOut.of(hit.practitioner),
                earliest_slot=hit.earliest,
                distance_km=round(hit.distance_km, 2) if hit.distance_km is not None else None,
                next_slots=[
                    SlotOfferOut(starts_at=s.starts_at, visit_type_ids=list(s.visit_type_ids))
                    for s in hit.next_slots
                ],
                visit_types=[VisitTypeOut.model_validate(vt) for vt in hit.visit_types],
            )
            for hit in result.hits
        ],
        page=result.page,
        page_size=result.page_size,
        has_more=result.has_more,
    )
    return page.model_dump_json().encode()
