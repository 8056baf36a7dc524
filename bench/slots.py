"""Time the slot engine on a realistic agenda: `uv run python bench/slots.py`.

A GP open Monday to Friday 08:30-12:30 and 13:30-18:30 (on Wednesday one 08:30-18:30 range with a
lunch break instead), Saturday 09:00-12:30, a 15-minute grid, three visit types, and about one
appointment for every two slots over the next three months (deterministic: fixed random seed). The
window starts four weeks before the Paris spring-forward change, so the slow path is exercised too.
"""

from __future__ import annotations

import random
import statistics
import sys
import time as clock
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from colloque.scheduling.domain import (
    Agenda,
    BookingRules,
    Busy,
    DateOverride,
    OverrideKind,
    VisitTypeSpec,
    WeeklyBreak,
    WeeklyRange,
)
from colloque.scheduling.slots import check_slot, free_slots

PARIS = ZoneInfo("Europe/Paris")
CONSULTATION = VisitTypeSpec(UUID(int=1), timedelta(minutes=15))
LONG_CONSULTATION = VisitTypeSpec(UUID(int=2), timedelta(minutes=30))
VIDEO = VisitTypeSpec(UUID(int=3), timedelta(minutes=20))
VISIT_TYPES = (CONSULTATION, LONG_CONSULTATION, VIDEO)
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # Monday 07:00 in Paris
WINDOW = timedelta(days=91)


def build_agenda() -> Agenda:
    everything = frozenset(v.id for v in VISIT_TYPES)
    in_person = frozenset({CONSULTATION.id, LONG_CONSULTATION.id})
    weekly: list[WeeklyRange] = []
    for weekday in (0, 1, 3, 4):
        weekly.append(WeeklyRange(weekday, time(8, 30), time(12, 30), in_person))
        weekly.append(WeeklyRange(weekday, time(13, 30), time(18, 30), everything))
    weekly.append(WeeklyRange(2, time(8, 30), time(18, 30), everything))
    weekly.append(WeeklyRange(5, time(9), time(12, 30), in_person))
    start = NOW.astimezone(PARIS).date()
    return Agenda(
        timezone=PARIS,
        weekly=tuple(weekly),
        breaks=(WeeklyBreak(2, time(12, 30), time(13, 30)),),
        overrides=(
            DateOverride(
                OverrideKind.HOLIDAY, start + timedelta(days=42), start + timedelta(days=42)
            ),
            DateOverride(
                OverrideKind.ABSENCE,
                start + timedelta(days=50),
                start + timedelta(days=54),
            ),
            DateOverride(
                OverrideKind.ABSENCE,
                start + timedelta(days=15),
                start + timedelta(days=15),
                time(15),
                time(18, 30),
            ),
        ),
        rules=BookingRules(slot_step=timedelta(minutes=15), max_horizon=timedelta(days=92)),
    )


def book_half(agenda: Agenda) -> list[Busy]:
    """Book appointments over the window until about half the grid slots are taken."""
    chooser = random.Random(20260302)
    free = free_slots(
        agenda, CONSULTATION, window_start=NOW, window_end=NOW + WINDOW, now=NOW, busy=[]
    )
    busy: list[Busy] = []
    taken_until = datetime.min.replace(tzinfo=UTC)
    for slot in free:
        if slot.start < taken_until or chooser.random() >= 0.4:
            continue
        visit = chooser.choice(VISIT_TYPES)
        until = slot.start + visit.duration
        busy.append(Busy(start=slot.start, until=until))
        taken_until = until
    chooser.shuffle(busy)  # the engine must not rely on the caller's order
    return busy


def measure(call: Callable[[], object], repetitions: int) -> tuple[float, float, float]:
    """Median, 95th percentile and minimum, in microseconds per call."""
    call()  # warm up
    samples = []
    for _ in range(repetitions):
        began = clock.perf_counter_ns()
        call()
        samples.append((clock.perf_counter_ns() - began) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], samples[0]


def main() -> None:
    agenda = build_agenda()
    busy = book_half(agenda)
    empty_slots = len(
        free_slots(
            agenda, CONSULTATION, window_start=NOW, window_end=NOW + WINDOW, now=NOW, busy=[]
        )
    )
    free_count = len(
        free_slots(
            agenda, CONSULTATION, window_start=NOW, window_end=NOW + WINDOW, now=NOW, busy=busy
        )
    )
    weeks = WINDOW / timedelta(weeks=1)
    print(f"Python {sys.version.split()[0]}; {len(agenda.weekly)} weekly ranges; 91-day window")
    print(f"{len(busy)} appointments; free 15-min slots: {free_count} of {empty_slots}\n")

    def window(visit: VisitTypeSpec, limit: int | None) -> Callable[[], object]:
        def call() -> object:
            return free_slots(
                agenda,
                visit,
                window_start=NOW,
                window_end=NOW + WINDOW,
                now=NOW,
                busy=busy,
                limit=limit,
            )

        return call

    def check() -> object:
        start = datetime(2026, 4, 14, 10, 15, tzinfo=PARIS)
        return check_slot(agenda, LONG_CONSULTATION, start=start, now=NOW, busy=busy)

    cases = [
        ("free_slots 15 min, 3 months", window(CONSULTATION, None), 300, True),
        ("free_slots 30 min, 3 months", window(LONG_CONSULTATION, None), 300, True),
        ("free_slots 15 min, limit=8", window(CONSULTATION, 8), 3000, False),
        ("free_slots 30 min, limit=8", window(LONG_CONSULTATION, 8), 3000, False),
        ("check_slot", check, 3000, False),
    ]
    print(f"{'case':<30} {'median µs':>10} {'p95 µs':>10} {'min µs':>10} {'median/week':>12}")
    for name, call, repetitions, whole_window in cases:
        median, p95, fastest = measure(call, repetitions)
        per_week = f"{median / weeks:12.1f}" if whole_window else ""
        print(f"{name:<30} {median:10.1f} {p95:10.1f} {fastest:10.1f} {per_week}")


if __name__ == "__main__":
    main()
