"""The bulk practices, practitioners and agendas of the demo: planned in memory, then inserted."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from colloque.demo.people import random_person, title_for
from colloque.demo.places import Place, near, pick_place, street_address
from colloque.demo.plans import (
    AgendaPlan,
    holiday_overrides,
    pick_rules,
    pick_weekdays,
    random_overrides,
    visit_type_plans,
    weekly_schedule,
)
from colloque.demo.profiles import (
    SpecialtyProfile,
    pick_languages,
    pick_profile,
    pick_visit_templates,
)
from colloque.demo.tables import Row
from colloque.principal import Role
from colloque.scheduling.services import practitioner_name_key
from colloque.scheduling.specialties import Specialty
from colloque.text import search_key

EMAIL_DOMAIN = "demo.colloque.test"

#: Practitioners per practice, with how common each size is.
PRACTICE_SIZES = ((1, 35), (2, 25), (3, 18), (4, 10), (5, 7), (6, 5))
#: Share of practitioners who also work at a second practice of their city, on other days.
SECOND_PRACTICE_SHARE = 0.05

_KIND_OF_PRACTICE: dict[Specialty, str] = {
    Specialty.DENTISTRY: "Cabinet dentaire",
    Specialty.ORTHODONTICS: "Cabinet d'orthodontie",
    Specialty.PHYSIOTHERAPY: "Cabinet de kinésithérapie",
    Specialty.PAEDIATRICS: "Cabinet de pédiatrie",
    Specialty.MIDWIFERY: "Cabinet de sage-femme",
    Specialty.PSYCHOLOGY: "Cabinet de psychologie",
    Specialty.SPEECH_THERAPY: "Cabinet d'orthophonie",
    Specialty.PODIATRY: "Cabinet de podologie",
    Specialty.RADIOLOGY: "Centre d'imagerie médicale",
    Specialty.OPHTHALMOLOGY: "Centre ophtalmologique",
}
_NAME_SUFFIXES = (
    "du Parc",
    "des Lilas",
    "de la Gare",
    "Pasteur",
    "Saint-Michel",
    "du Centre",
    "Voltaire",
    "de la Mairie",
    "des Arcades",
    "Jean Jaurès",
    "Victor Hugo",
    "des Tilleuls",
    "du Marché",
    "Marie Curie",
    "République",
)


@dataclass(slots=True)
class Network:
    practices: list[Row] = field(default_factory=list)
    practitioners: list[Row] = field(default_factory=list)
    agendas: list[AgendaPlan] = field(default_factory=list)
    #: One secretary account per practice, with its membership.
    accounts: list[Row] = field(default_factory=list)
    members: list[Row] = field(default_factory=list)
    secretaries: dict[UUID, UUID] = field(default_factory=dict)


def plan_network(
    rng: random.Random,
    new_id: Callable[[], UUID],
    *,
    practitioners: int,
    now: datetime,
    today: date,
    window: tuple[date, date],
) -> Network:
    """Practices of one to six practitioners in cities weighted by population, until
    ``practitioners`` are placed; a few practitioners also work at a second practice."""
    network = Network()
    by_city: dict[str, list[tuple[UUID, Place]]] = {}
    sizes = [s for s, _ in PRACTICE_SIZES]
    size_weights = [w for _, w in PRACTICE_SIZES]
    remaining = practitioners
    while remaining > 0:
        size = min(remaining, rng.choices(sizes, weights=size_weights)[0])
        remaining -= size
        place = pick_place(rng)
        first = pick_profile(rng)
        profiles = [first] + [
            first if rng.random() < 0.6 else pick_profile(rng) for _ in range(size - 1)
        ]
        practice_id = new_id()
        opened = now - timedelta(days=rng.randint(30, 1500))
        people = [random_person(rng, age=rng.randint(30, 65)) for _ in profiles]
        name = _practice_name(rng, profiles, people[0].first_name, people[0].last_name, place)
        latitude, longitude = near(rng, place)
        network.practices.append(
            {
                "practice_id": practice_id,
                "name": name,
                "address": street_address(rng),
                "postcode": place.postcode,
                "city": place.city,
                "city_key": search_key(place.city),
                "latitude": latitude,
                "longitude": longitude,
                "timezone": place.timezone,
                "cancel_cutoff_minutes": rng.choice((240, 240, 240, 1440, 2880)),
                "anti_hoarding_days": 6,
                "hold_minutes": 30,
                "created_at": opened,
            }
        )
        _add_secretary(network, new_id, practice_id, name, opened)
        others = by_city.get(place.city, [])
        for profile, person in zip(profiles, people, strict=True):
            practitioner_id = new_id()
            title = title_for(profile.specialty)
            network.practitioners.append(
                {
                    "practitioner_id": practitioner_id,
                    "title": title,
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "name_key": practitioner_name_key(person.first_name, person.last_name),
                    "specialty": profile.specialty.value,
                    "languages": "," + ",".join(sorted(pick_languages(rng))) + ",",
                    "accepts_new_patients": rng.random() < 0.85,
                    "created_at": opened,
                }
            )
            weekdays = pick_weekdays(rng, profile)
            elsewhere: list[int] = []
            second = None
            if others and len(weekdays) >= 3 and rng.random() < SECOND_PRACTICE_SHARE:
                second = rng.choice(others)
                cut = len(weekdays) // 2
                weekdays, elsewhere = weekdays[:cut], weekdays[cut:]
            network.agendas.append(
                _agenda(
                    rng,
                    new_id,
                    profile,
                    practice_id,
                    practitioner_id,
                    place,
                    weekdays,
                    today,
                    window,
                    alone=second is None,
                )
            )
            if second is not None:
                network.agendas.append(
                    _agenda(
                        rng,
                        new_id,
                        profile,
                        second[0],
                        practitioner_id,
                        place,
                        elsewhere,
                        today,
                        window,
                        alone=False,
                    )
                )
        by_city.setdefault(place.city, []).append((practice_id, place))
    return network


def _agenda(
    rng: random.Random,
    new_id: Callable[[], UUID],
    profile: SpecialtyProfile,
    practice_id: UUID,
    practitioner_id: UUID,
    place: Place,
    weekdays: list[int],
    today: date,
    window: tuple[date, date],
    *,
    alone: bool,
) -> AgendaPlan:
    """``alone``: the practitioner works at no other practice, so an extra opening on a day off
    cannot clash with their other agenda."""
    visit_types = visit_type_plans(rng, pick_visit_templates(rng, profile), new_id)
    ranges, breaks = weekly_schedule(rng, weekdays, visit_types)
    plan = AgendaPlan(
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        specialty=profile.specialty,
        timezone=place.timezone,
        rules=pick_rules(rng, profile, min(v.duration for v in visit_types)),
        visit_types=visit_types,
        ranges=ranges,
        breaks=breaks,
        popularity=rng.uniform(0.4, 1.6),
    )
    plan.overrides = holiday_overrides(*window) + random_overrides(
        rng, plan, today, may_add_openings=alone
    )
    return plan


def _practice_name(
    rng: random.Random,
    profiles: list[SpecialtyProfile],
    first_name: str,
    last_name: str,
    place: Place,
) -> str:
    specialty = profiles[0].specialty
    kind = _KIND_OF_PRACTICE.get(specialty, "Cabinet médical")
    if len(profiles) == 1:
        if title_for(specialty):
            return f"{kind} du Dr {last_name}"
        return f"{kind} {first_name} {last_name}"
    suffix = rng.choice((*_NAME_SUFFIXES, f"de {place.city}"))
    if all(p.specialty is specialty for p in profiles):
        return f"{kind} {suffix}"
    return f"{rng.choice(('Maison de santé', 'Centre médical', 'Pôle santé'))} {suffix}"


def _add_secretary(
    network: Network, new_id: Callable[[], UUID], practice_id: UUID, name: str, at: datetime
) -> None:
    account_id = new_id()
    number = len(network.accounts) + 1
    network.accounts.append(
        {
            "account_id": account_id,
            "email": f"secretariat.{number}@{EMAIL_DOMAIN}",
            "display_name": f"Secrétariat, {name}"[:200],
            "is_operator": False,
            "disabled": False,
            "created_at": at,
        }
    )
    network.members.append(
        {
            "practice_id": practice_id,
            "account_id": account_id,
            "role": Role.SECRETARY.value,
            "practitioner_id": None,
        }
    )
    network.secretaries[practice_id] = account_id


def agenda_rows(
    plan: AgendaPlan, new_id: Callable[[], UUID], *, city_key: str
) -> dict[str, list[Row]]:
    """The rows of one agenda, by table."""
    practice_id, practitioner_id = plan.practice_id, plan.practitioner_id
    rows: dict[str, list[Row]] = {
        "practice_practitioners": [
            {
                "practice_id": practice_id,
                "practitioner_id": practitioner_id,
                "specialty": plan.specialty.value,
                "city_key": city_key,
                "slot_step_minutes": plan.rules.step,
                "min_notice_minutes": plan.rules.notice_minutes,
                "max_horizon_days": plan.rules.horizon_days,
                "buffer_after_minutes": plan.rules.buffer_minutes,
                "daily_cap": None,
                "slots_refreshed_at": None,
            }
        ],
        "visit_types": [
            {
                "practice_id": practice_id,
                "visit_type_id": v.visit_type_id,
                "practitioner_id": practitioner_id,
                "label": v.label,
                "duration_minutes": v.duration,
                "online_bookable": v.online_bookable,
                "patient_kind": v.patient_kind.value,
                "mode": v.mode.value,
                "active": True,
            }
            for v in plan.visit_types
        ],
        "opening_ranges": [],
        "opening_range_visit_types": [],
        "agenda_breaks": [
            {
                "practice_id": practice_id,
                "break_id": new_id(),
                "practitioner_id": practitioner_id,
                "weekday": b.weekday,
                "start_minute": b.start,
                "end_minute": b.end,
            }
            for b in plan.breaks
        ],
        "agenda_overrides": [],
        "agenda_override_visit_types": [],
    }
    for r in plan.ranges:
        opening_id = new_id()
        rows["opening_ranges"].append(
            {
                "practice_id": practice_id,
                "opening_id": opening_id,
                "practitioner_id": practitioner_id,
                "weekday": r.weekday,
                "start_minute": r.start,
                "end_minute": r.end,
            }
        )
        rows["opening_range_visit_types"].extend(
            {"practice_id": practice_id, "opening_id": opening_id, "visit_type_id": v}
            for v in r.visit_type_ids
        )
    for o in plan.overrides:
        override_id = new_id()
        rows["agenda_overrides"].append(
            {
                "practice_id": practice_id,
                "override_id": override_id,
                "practitioner_id": practitioner_id,
                "kind": o.kind.value,
                "first_day": o.first_day,
                "last_day": o.last_day,
                "start_minute": o.start,
                "end_minute": o.end,
            }
        )
        rows["agenda_override_visit_types"].extend(
            {"practice_id": practice_id, "override_id": override_id, "visit_type_id": v}
            for v in o.visit_type_ids
        )
    return rows


#: The order agenda tables are written in (foreign keys first).
AGENDA_TABLES = (
    "practice_practitioners",
    "visit_types",
    "opening_ranges",
    "opening_range_visit_types",
    "agenda_breaks",
    "agenda_overrides",
    "agenda_override_visit_types",
)
