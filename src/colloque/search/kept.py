"""Search answers kept per (specialty, city) cell, served again only while still exact.

A search's page of a (specialty, city) cell changes only if the cell changes (an agenda added,
its cached slots rebuilt, its definition edited: each bumps the cell's revision, ``SearchCell``)
or a booking takes cached slots. A booking only takes slots away, so it can only move an agenda
later in the ranking: one that was not on the first page stays off it, and the first page changes
only if a slot it shows is gone. Time passing only takes slots away too. So a kept first page is
exactly what a search would answer now while the cell's revision is the same and every slot it
shows is still cached and bookable. (A cancellation frees time, but search shows it only once the
agenda's cache is rebuilt, which bumps the revision.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, func, select, text, tuple_
from sqlalchemy.orm import Session

from colloque.metrics import SEARCH_ANSWERS
from colloque.scheduling.models import NextSlot, SearchCell
from colloque.search.answers import KeptAnswers
from colloque.search.services import SearchPage, SearchQuery, check_query, search_practitioners
from colloque.text import search_key


@dataclass(frozen=True, slots=True)
class CellProof:
    """What a kept answer of a cell's first page was built from: the cell's revision, and the
    cached slots the page shows, as the check's parameters (built once)."""

    revision: int
    shown: int
    #: PostgreSQL: per agenda shown, its last start shown (the page shows every cached slot of
    #: its visit types up to it), and the visit types shown (each belongs to one agenda), as array
    #: literals: a few strings rather than hundreds of objects that every full collection of
    #: the process would walk, and that the driver would adapt one by one at every check.
    #: SQLite: the shown slots themselves.
    parameters: dict[str, object]


def keeps_answers(query: SearchQuery) -> bool:
    """The first page of a search within one (specialty, city) cell, whatever its other filters
    (they only narrow the cell): the answers a process may keep and check (:func:`check_kept`)."""
    return query.specialty is not None and bool(query.city) and query.page == 1


#: Built once: on a kept answer's path building a statement costs as much as running it.
_REVISION = (
    select(SearchCell.revision)
    .where(
        SearchCell.specialty == bindparam("specialty"),
        SearchCell.city_key == bindparam("city_key"),
    )
    .scalar_subquery()
)
_CELL_REVISION = select(_REVISION)
#: SQLite: the shown slots themselves, by primary key.
_REVISION_AND_SHOWN = select(
    _REVISION,
    select(func.count())
    .select_from(NextSlot)
    .where(
        tuple_(
            NextSlot.practice_id,
            NextSlot.practitioner_id,
            NextSlot.visit_type_id,
            NextSlot.starts_at,
        ).in_(bindparam("shown", expanding=True)),
        NextSlot.bookable_until >= bindparam("now"),
    )
    .scalar_subquery(),
)
#: PostgreSQL: the slots of the shown visit types up to each agenda's last start shown, which are
#: the shown slots while none is gone (only a rebuilt cache adds slots, and it bumps the revision).
#: Four arrays and one join, about 1 ms: the same check by 174 four-part keys took 10 ms (planning
#: a 174-way OR), by VALUES rows 5 ms.
_REVISION_AND_SHOWN_POSTGRESQL = text(
    """
    SELECT
        (SELECT revision FROM search_cells
          WHERE specialty = :specialty AND city_key = :city_key),
        (SELECT count(*)
           FROM next_slots AS slot
           JOIN unnest(
                    CAST(:practices AS uuid[]),
                    CAST(:practitioners AS uuid[]),
                    CAST(:last_starts AS timestamptz[])
                ) AS shown (practice_id, practitioner_id, last_start)
             ON slot.practice_id = shown.practice_id
            AND slot.practitioner_id = shown.practitioner_id
            AND slot.starts_at <= shown.last_start
          WHERE slot.visit_type_id = ANY(CAST(:visit_types AS uuid[]))
            AND slot.bookable_until >= :now)
    """
)


def check_kept(
    session: Session, *, now: datetime, query: SearchQuery, kept: CellProof | None
) -> tuple[int, bool]:
    """The cell's revision now, and whether ``kept``'s answer is still the exact answer (False
    without one). In one statement, read before any page is built: a change that lands after it
    makes the revision differ at the next check (a wasted answer, never a wrong one)."""
    assert query.specialty is not None
    assert query.city
    cell = {"specialty": query.specialty.value, "city_key": search_key(query.city)}
    if kept is None:
        return session.execute(_CELL_REVISION, cell).scalar() or 0, False
    statement = (
        _REVISION_AND_SHOWN_POSTGRESQL
        if session.get_bind().dialect.name == "postgresql"
        else _REVISION_AND_SHOWN
    )
    revision, still_cached = session.execute(statement, cell | kept.parameters | {"now": now}).one()
    revision = revision or 0
    return revision, revision == kept.revision and still_cached == kept.shown


def proof_of(revision: int, page: SearchPage, *, postgresql: bool) -> CellProof:
    shown = [
        (hit.practice.practice_id, hit.practitioner.practitioner_id, visit_type_id, offer.starts_at)
        for hit in page.hits
        for offer in hit.next_slots
        for visit_type_id in offer.visit_type_ids
    ]
    if not postgresql:
        return CellProof(revision=revision, shown=len(shown), parameters={"shown": shown})
    last_starts: dict[tuple[UUID, UUID], datetime] = {}
    for practice_id, practitioner_id, _, starts_at in shown:
        key = (practice_id, practitioner_id)
        last_starts[key] = max(starts_at, last_starts.get(key, starts_at))
    return CellProof(
        revision=revision,
        shown=len(shown),
        parameters={
            "practices": _array(str(p) for p, _ in last_starts),
            "practitioners": _array(str(r) for _, r in last_starts),
            "last_starts": _array(last.isoformat() for last in last_starts.values()),
            "visit_types": _array(sorted({str(slot[2]) for slot in shown})),
        },
    )


def _array(items: Iterable[str]) -> str:
    """A PostgreSQL array literal of uuids or ISO instants (no quoting needed: neither holds a
    comma, a brace, a quote or a space)."""
    return "{" + ",".join(items) + "}"


def answer_of_cell(
    session: Session,
    *,
    now: datetime,
    query: SearchQuery,
    kept: KeptAnswers[CellProof],
    render: Callable[[SearchPage], bytes],
) -> bytes:
    """The answer (``render``'s bytes) of a query :func:`keeps_answers`: the one kept, if its
    proof holds, else a page built now and kept with its proof."""
    check_query(query)
    found = kept.get(query)
    revision, holds = check_kept(
        session, now=now, query=query, kept=None if found is None else found[1]
    )
    if found is not None and holds:
        SEARCH_ANSWERS.labels(outcome="kept").inc()
        return found[0]
    SEARCH_ANSWERS.labels(outcome="new" if found is None else "stale").inc()
    page = search_practitioners(session, now=now, query=query)
    answer = render(page)
    postgresql = session.get_bind().dialect.name == "postgresql"
    kept.keep(query, answer, proof_of(revision, page, postgresql=postgresql))
    return answer
