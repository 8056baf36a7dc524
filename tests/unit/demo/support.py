"""Generating a small demo into a migrated SQLite file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from colloque.demo.generator import DemoSummary, generate_demo
from colloque.storage.engine import Database, sqlite_url_for
from colloque.storage.migrate import upgrade

#: A Monday morning in Paris, winter time; the window crosses the spring-forward change and
#: Easter Monday.
DEMO_NOW = datetime(2026, 3, 2, 9, 17, 23, tzinfo=UTC)
DEMO_SEED = 2026
PRACTITIONERS = 30
PATIENTS = 100
APPOINTMENTS = 2_000


@dataclass(frozen=True, slots=True)
class Demo:
    db: Database
    summary: DemoSummary
    progress: list[tuple[str, int, int]]


def make_demo(path: Path, *, seed: int = DEMO_SEED) -> Demo:
    url = sqlite_url_for(path)
    upgrade(url)
    db = Database(url)
    calls: list[tuple[str, int, int]] = []
    summary = generate_demo(
        db,
        seed=seed,
        practitioners=PRACTITIONERS,
        patients=PATIENTS,
        appointments=APPOINTMENTS,
        now=DEMO_NOW,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    return Demo(db=db, summary=summary, progress=calls)
