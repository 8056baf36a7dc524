"""The showcase practice's three agendas, as data: a general practitioner, a dentist and a
physiotherapist with realistic visit types, weekly openings with lunch breaks, the public
holidays, an absence, an afternoon off and an extra opening."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

from colloque.demo.places import SHOWCASE_PLACE
from colloque.demo.plans import (
    AgendaPlan,
    BreakPlan,
    OverridePlan,
    RangePlan,
    RulesPlan,
    VisitTypePlan,
    holiday_overrides,
)
from colloque.demo.profiles import ANY, IN_PERSON, KNOWN, NEW, VIDEO
from colloque.scheduling.domain import OverrideKind, PatientKind, VisitMode
from colloque.scheduling.specialties import Specialty

#: Positions of the agendas in :func:`showcase_plans`.
GP, DENTIST, PHYSIO = 0, 1, 2


def showcase_plans(new_id: Callable[[], UUID], practice_id: UUID, today: date) -> list[AgendaPlan]:
    """The three agendas: weekly openings with lunch breaks, public holidays, an absence, an
    afternoon off and an extra opening."""

    def vt(
        label: str,
        minutes: int,
        kind: PatientKind = ANY,
        mode: VisitMode = IN_PERSON,
        *,
        online: bool = True,
        weight: float = 1.0,
    ) -> VisitTypePlan:
        return VisitTypePlan(new_id(), label, minutes, kind, mode, online, weight)

    gp_types = [
        vt("Consultation", 20, weight=8),
        vt("Première consultation", 30, NEW, weight=2),
        vt("Suivi", 15, KNOWN, weight=3),
        vt("Téléconsultation", 15, ANY, VIDEO, weight=2),
        vt("Urgence", 20, online=False, weight=0.5),
    ]
    consult, first, follow_up, video, urgent = (v.visit_type_id for v in gp_types)
    gp = AgendaPlan(
        practice_id=practice_id,
        practitioner_id=new_id(),
        specialty=Specialty.GENERAL_PRACTICE,
        timezone=SHOWCASE_PLACE.timezone,
        rules=RulesPlan(step=15, notice_minutes=120, horizon_days=90),
        visit_types=gp_types,
        popularity=4.0,
    )
    for day in (0, 1, 3, 4):
        gp.ranges.append(RangePlan(day, 510, 1050, (consult, first, follow_up, urgent)))
        gp.ranges.append(RangePlan(day, 1050, 1140, (consult, follow_up, video)))
        gp.breaks.append(BreakPlan(day, 750, 840))
    gp.ranges.append(RangePlan(2, 510, 750, (consult, first, follow_up, urgent)))
    gp.ranges.append(RangePlan(5, 540, 720, (consult, urgent)))

    dental_types = [
        vt("Consultation de contrôle", 30, weight=5),
        vt("Première consultation", 30, NEW, weight=2),
        vt("Détartrage", 30, weight=3),
        vt("Soins dentaires", 45, KNOWN, weight=3),
        vt("Urgence dentaire", 30, online=False, weight=0.5),
    ]
    dental_all = tuple(v.visit_type_id for v in dental_types)
    dentist = AgendaPlan(
        practice_id=practice_id,
        practitioner_id=new_id(),
        specialty=Specialty.DENTISTRY,
        timezone=SHOWCASE_PLACE.timezone,
        rules=RulesPlan(step=15, notice_minutes=240, horizon_days=120),
        visit_types=dental_types,
        popularity=4.0,
    )
    for day in (0, 1, 3, 4):
        dentist.ranges.append(RangePlan(day, 540, 780, dental_all))
        dentist.ranges.append(RangePlan(day, 840, 1140, dental_all))

    physio_types = [
        vt("Séance de kinésithérapie", 30, weight=8),
        vt("Bilan kinésithérapique", 45, NEW, weight=2),
        vt("Rééducation post-opératoire", 45, KNOWN, weight=2),
    ]
    physio_all = tuple(v.visit_type_id for v in physio_types)
    physio = AgendaPlan(
        practice_id=practice_id,
        practitioner_id=new_id(),
        specialty=Specialty.PHYSIOTHERAPY,
        timezone=SHOWCASE_PLACE.timezone,
        rules=RulesPlan(step=15, notice_minutes=60, horizon_days=60),
        visit_types=physio_types,
        popularity=4.0,
    )
    for day in range(5):
        physio.ranges.append(RangePlan(day, 480, 1200, physio_all))
        physio.breaks.append(BreakPlan(day, 720, 810))
    physio.ranges.append(RangePlan(5, 510, 750, physio_all[:1]))

    holidays = holiday_overrides(today - timedelta(days=61), today + timedelta(days=121))
    absence_start = _next_weekday(today + timedelta(days=21), 0)
    gp.overrides = [
        *holidays,
        OverridePlan(OverrideKind.ABSENCE, absence_start, absence_start + timedelta(days=4)),
        OverridePlan(
            OverrideKind.EXTRA_OPENING,
            _next_weekday(today + timedelta(days=5), 5),
            _next_weekday(today + timedelta(days=5), 5),
            810,
            1020,
            (consult, video),
        ),
    ]
    afternoon_off = _next_weekday(today + timedelta(days=6), 1)
    dentist.overrides = [
        *holidays,
        OverridePlan(OverrideKind.ABSENCE, afternoon_off, afternoon_off, 840, 1140),
    ]
    physio.overrides = list(holidays)
    return [gp, dentist, physio]


def _next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)
