"""The next-slots cache that search reads: each agenda's first free slots per online visit
type, rebuilt by the upkeep when the agenda changes or the cache ages, in batches.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, or_, select, tuple_, update
from sqlalchemy.orm import Session

from colloque.booking.queries import busy_of_practitioners
from colloque.errors import NotFound
from colloque.scheduling.loading import AgendaKey, load_agendas
from colloque.scheduling.models import NextSlot, PracticePractitioner
from colloque.scheduling.services import search_cells_changed
from colloque.scheduling.slots import free_slots
from colloque.storage.bulk import insert_rows

#: Cached free slots per online visit type of an agenda.
SLOTS_PER_VISIT_TYPE = 8
#: A cache older than this is rebuilt even if nothing changed (time passes, notice moves on).
CACHE_MAX_AGE = timedelta(hours=1)


def refresh_agenda(
    session: Session, *, now: datetime, practice_id: UUID, practitioner_id: UUID
) -> int:
    """Rebuild one agenda's cached next slots. Returns how many slots it now holds."""
    refreshed = refresh_agendas(session, now=now, keys=[(practice_id, practitioner_id)])
    if not refreshed:
        raise NotFound("practitioner not found at this practice")
    return refreshed[practice_id, practitioner_id]


def refresh_agendas(
    session: Session, *, now: datetime, keys: Collection[AgendaKey]
) -> dict[AgendaKey, int]:
    """Rebuild the cached next slots of several agendas, in the same few statements however many
    there are (the upkeep's hourly refresh, the demo's build); agendas that no longer exist are
    left out. Returns how many slots each now holds."""
    loaded = load_agendas(session, keys)
    if not loaded:
        return {}
    until = {
        key: now + agenda.agenda.rules.max_horizon + timedelta(days=1)
        for key, agenda in loaded.items()
    }
    busy = busy_of_practitioners(
        session,
        practice_ids={a.practitioner_id: a.practitioner_practice_ids for a in loaded.values()},
        start=now - timedelta(days=1),
        until=max(until.values()),
        now=now,
    )
    agendas = tuple_(NextSlot.practice_id, NextSlot.practitioner_id).in_(list(loaded))
    session.execute(delete(NextSlot).where(agendas))
    rows: list[dict[str, Any]] = []
    counts: dict[AgendaKey, int] = {}
    for key, agenda in loaded.items():
        before = len(rows)
        rules = agenda.agenda.rules
        for visit_type in agenda.visit_types.values():
            if not visit_type.online_bookable:
                continue
            for slot in free_slots(
                agenda.agenda,
                agenda.spec(visit_type.visit_type_id),
                window_start=now,
                window_end=until[key],
                now=now,
                busy=busy[agenda.practitioner_id],
                limit=SLOTS_PER_VISIT_TYPE,
            ):
                rows.append(
                    {
                        "practice_id": agenda.practice_id,
                        "practitioner_id": agenda.practitioner_id,
                        "visit_type_id": visit_type.visit_type_id,
                        "starts_at": slot.start,
                        "ends_at": slot.end,
                        "blocked_until": slot.end + rules.buffer_after,
                        "specialty": agenda.practitioner.specialty,
                        "city_key": agenda.practice.city_key,
                        "bookable_until": slot.start - rules.min_notice,
                    }
                )
        counts[key] = len(rows) - before
    # COPY on PostgreSQL: one statement per row cost more than the slot engine.
    insert_rows(session, NextSlot.metadata.tables[NextSlot.__tablename__], rows)
    session.execute(
        update(PracticePractitioner)
        .where(
            tuple_(PracticePractitioner.practice_id, PracticePractitioner.practitioner_id).in_(
                list(loaded)
            )
        )
        .values(slots_refreshed_at=now)
    )
    # Last: the cells' rows stay locked until the transaction ends.
    search_cells_changed(
        session, [(a.practitioner.specialty, a.practice.city_key) for a in loaded.values()]
    )
    return counts


def agendas_due(session: Session, *, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
    """Agendas whose cache is marked stale or older than :data:`CACHE_MAX_AGE`, stale first."""
    rows = session.execute(
        select(PracticePractitioner.practice_id, PracticePractitioner.practitioner_id)
        .where(
            or_(
                PracticePractitioner.slots_refreshed_at.is_(None),
                PracticePractitioner.slots_refreshed_at < now - CACHE_MAX_AGE,
            )
        )
        .order_by(
            PracticePractitioner.slots_refreshed_at.is_not(None),
            PracticePractitioner.slots_refreshed_at,
        )
        .limit(limit)
    )
    return [(practice_id, practitioner_id) for practice_id, practitioner_id in rows]
