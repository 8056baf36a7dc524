"""Agendas as plain data, before they are written: the showcase applies a plan through the service
functions, the bulk part inserts it in batches, and the appointment filler reads it to place
appointments on the real grid.

Times of day are minutes after local midnight in the practice's time zone, as in the tables.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from colloque.demo.profiles import SpecialtyProfile, VisitTemplate
from colloque.scheduling.domain import OverrideKind, PatientKind, VisitMode
from colloque.scheduling.specialties import Specialty

IdFactory = Callable[[], UUID]

SATURDAY = 5


@dataclass(frozen=True, slots=True)
class VisitTypePlan:
    visit_type_id: UUID
    label: str
    duration: int
    patient_kind: PatientKind
    mode: VisitMode
    online_bookable: bool
    weight: float


@dataclass(frozen=True, slots=True)
class RangePlan:
    weekday: int
    start: int
    end: int
    visit_type_ids: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class BreakPlan:
    weekday: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class OverridePlan:
    kind: OverrideKind
    first_day: date
    last_day: date
    start: int | None = None
    end: int | None = None
    visit_type_ids: tuple[UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class RulesPlan:
    step: int = 15
    notice_minutes: int = 120
    horizon_days: int = 90
    buffer_minutes: int = 0


@dataclass(slots=True)
class AgendaPlan:
    """One practitioner at one practice."""

    practice_id: UUID
    practitioner_id: UUID
    specialty: Specialty
    timezone: str
    rules: RulesPlan
    visit_types: list[VisitTypePlan]
    ranges: list[RangePlan] = field(default_factory=list)
    breaks: list[BreakPlan] = field(default_factory=list)
    overrides: list[OverridePlan] = field(default_factory=list)
    #: Relative demand for this agenda: how full the appointment filler makes it.
    popularity: float = 1.0

    def weekly_open_minutes(self) -> int:
        total = 0
        for opening in self.ranges:
            total += opening.end - opening.start
            for pause in self.breaks:
                if pause.weekday == opening.weekday:
                    total -= max(0, min(pause.end, opening.end) - max(pause.start, opening.start))
        return total

    def mean_duration(self) -> float:
        weight = sum(v.weight for v in self.visit_types)
        return sum(v.duration * v.weight for v in self.visit_types) / weight


def visit_type_plans(
    rng: random.Random, templates: Sequence[VisitTemplate], new_id: IdFactory
) -> list[VisitTypePlan]:
    return [
        VisitTypePlan(
            visit_type_id=new_id(),
            label=t.label,
            duration=rng.choice(t.durations),
            patient_kind=t.patient_kind,
            mode=t.mode,
            online_bookable=t.online_bookable,
            weight=t.weight,
        )
        for t in templates
    ]


# --- weekly schedules ---------------------------------------------------------------------------

#: Weekday patterns (Monday is 0) with how common they are.
WEEK_PATTERNS: tuple[tuple[tuple[int, ...], float], ...] = (
    ((0, 1, 2, 3, 4), 50),
    ((0, 1, 3, 4), 15),
    ((0, 1, 2, 3), 8),
    ((1, 2, 3, 4), 8),
    ((0, 2, 4), 5),
    ((0, 1, 2), 4),
    ((2, 3, 4), 4),
    ((1, 3), 3),
)


def pick_weekdays(rng: random.Random, profile: SpecialtyProfile) -> list[int]:
    patterns = [p for p, _ in WEEK_PATTERNS]
    weights = [w for _, w in WEEK_PATTERNS]
    days = list(rng.choices(patterns, weights=weights)[0])
    if rng.random() < profile.saturday_share:
        days.append(SATURDAY)
    return days


def weekly_schedule(
    rng: random.Random, weekdays: Sequence[int], visit_types: Sequence[VisitTypePlan]
) -> tuple[list[RangePlan], list[BreakPlan]]:
    """Openings on ``weekdays`` with a lunch break; video visits in the late afternoon only.

    Half of the practitioners have one long range per day with a lunch break, the others a
    morning and an afternoon range. Some have a morning-only day. Saturdays are mornings.
    """
    everything = tuple(v.visit_type_id for v in visit_types)
    in_person = tuple(v.visit_type_id for v in visit_types if v.mode is VisitMode.IN_PERSON)
    has_video = len(in_person) < len(everything)
    morning = rng.choice((450, 480, 510, 510, 540))
    lunch_start, lunch_end = rng.choice(((720, 810), (750, 840), (780, 840), (720, 840)))
    day_end = rng.choice((1020, 1080, 1110, 1140, 1170))
    with_break = rng.random() < 0.5
    weekdays_only = [d for d in weekdays if d < SATURDAY]
    half_day = rng.choice(weekdays_only) if len(weekdays_only) > 2 and rng.random() < 0.25 else None
    ranges: list[RangePlan] = []
    breaks: list[BreakPlan] = []
    for day in weekdays:
        if day >= SATURDAY:
            ranges.append(RangePlan(day, 540, 720, in_person))
        elif day == half_day:
            ranges.append(RangePlan(day, morning, lunch_start, in_person))
        elif with_break:
            video_from = day_end - 60 if has_video else day_end
            ranges.append(RangePlan(day, morning, video_from, in_person))
            if has_video:
                ranges.append(RangePlan(day, video_from, day_end, everything))
            breaks.append(BreakPlan(day, lunch_start, lunch_end))
        else:
            ranges.append(RangePlan(day, morning, lunch_start, in_person))
            ranges.append(RangePlan(day, lunch_end, day_end, everything))
    return ranges, breaks


def pick_rules(rng: random.Random, profile: SpecialtyProfile, shortest: int) -> RulesPlan:
    steps = [s for s in profile.steps if s <= shortest] or [min(profile.steps)]
    return RulesPlan(
        step=rng.choice(steps),
        notice_minutes=rng.choice((60, 120, 120, 240, 720, 1440)),
        horizon_days=rng.choice((30, 45, 60, 90, 90, 120)),
        buffer_minutes=5 if rng.random() < 0.1 else 0,
    )


# --- holidays and absences ----------------------------------------------------------------------


def easter_sunday(year: int) -> date:
    """Gregorian Easter (the anonymous algorithm, "Meeus/Jones/Butcher")."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def french_public_holidays(year: int) -> list[date]:
    easter = easter_sunday(year)
    return sorted(
        [
            date(year, 1, 1),
            easter + timedelta(days=1),
            date(year, 5, 1),
            date(year, 5, 8),
            easter + timedelta(days=39),
            easter + timedelta(days=50),
            date(year, 7, 14),
            date(year, 8, 15),
            date(year, 11, 1),
            date(year, 11, 11),
            date(year, 12, 25),
        ]
    )


def public_holidays_between(first: date, last: date) -> list[date]:
    return [
        day
        for year in range(first.year, last.year + 1)
        for day in french_public_holidays(year)
        if first <= day <= last
    ]


def holiday_overrides(first: date, last: date) -> list[OverridePlan]:
    return [
        OverridePlan(OverrideKind.HOLIDAY, day, day) for day in public_holidays_between(first, last)
    ]


def random_overrides(
    rng: random.Random, plan: AgendaPlan, today: date, *, may_add_openings: bool
) -> list[OverridePlan]:
    """A holiday week for some, an afternoon off for a few, an extra opening for a few."""
    overrides: list[OverridePlan] = []
    if rng.random() < 0.15:
        first = today + timedelta(days=rng.randint(-55, 50))
        overrides.append(
            OverridePlan(OverrideKind.ABSENCE, first, first + timedelta(days=rng.randint(2, 9)))
        )
    if rng.random() < 0.05:
        day = today + timedelta(days=rng.randint(-30, 30))
        overrides.append(OverridePlan(OverrideKind.ABSENCE, day, day, 840, 1200))
    if may_add_openings and rng.random() < 0.05:
        open_days = {r.weekday for r in plan.ranges}
        day = today + timedelta(days=rng.randint(3, 28))
        if day.weekday() not in open_days:
            in_person = tuple(
                v.visit_type_id for v in plan.visit_types if v.mode is VisitMode.IN_PERSON
            )
            overrides.append(
                OverridePlan(OverrideKind.EXTRA_OPENING, day, day, 540, 750, in_person)
            )
    return overrides
