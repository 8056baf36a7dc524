"""Building the search cache of every demo agenda with the real refresher, in batches.

One process: :func:`colloque.search.cache.refresh_agendas` loads a batch in a few statements, and
at 10,496 agendas worker processes (each importing the application first) were no faster on this
2-core machine (docs/benchmarks.md, set-up).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from colloque.search.cache import refresh_agendas
from colloque.storage.engine import Database

AgendaKey = tuple[UUID, UUID]

#: Agendas refreshed per transaction.
AGENDAS_PER_TRANSACTION = 100


def refresh_search_cache(
    db: Database,
    keys: Sequence[AgendaKey],
    *,
    now: datetime,
    report: Callable[[int, int], None],
) -> None:
    """Refresh the cached next slots of every agenda in ``keys``; ``report(done, total)``."""
    total = len(keys)
    report(0, total)
    for offset in range(0, total, AGENDAS_PER_TRANSACTION):
        chunk = keys[offset : offset + AGENDAS_PER_TRANSACTION]
        with db.write() as session:
            refresh_agendas(session, now=now, keys=chunk)
        report(offset + len(chunk), total)
