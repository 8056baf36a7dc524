"""Bulk patients: account holders, and the relatives about a third of them manage."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from itertools import accumulate
from uuid import UUID

from colloque.demo.filler import PatientPool
from colloque.demo.network import EMAIL_DOMAIN
from colloque.demo.people import LAST_NAMES, Sex, random_first_name, random_person
from colloque.demo.tables import Row
from colloque.patients.services import Relationship
from colloque.text import search_key

#: Ages of account holders: (youngest, oldest, relative weight).
HOLDER_AGES = ((18, 29, 18), (30, 44, 27), (45, 59, 25), (60, 74, 20), (75, 95, 10))
RELATIVES_SHARE = 0.3


@dataclass(slots=True)
class PatientBatch:
    accounts: list[Row]
    patients: list[Row]


def birth_date(rng: random.Random, today: date, age: int) -> date:
    """A birth date giving ``age`` full years today."""
    latest = _years_before(today, age)
    earliest = _years_before(today, age + 1) + timedelta(days=1)
    return earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# Names come from short lists: their keys are worked out once, not per patient.
@cache
def _slug(text: str) -> str:
    return search_key(text).replace(" ", "-")


@cache
def _name_key(first_name: str, last_name: str) -> str:
    return search_key(f"{first_name} {last_name}")


#: ``cum_weights`` rather than ``weights``: the same draw, without summing again per call.
_RELATIVES_COUNT_CUMULATIVE = tuple(accumulate((55, 30, 15)))


def patient_batches(
    rng: random.Random,
    new_id: Callable[[], UUID],
    *,
    holders: int,
    now: datetime,
    batch_size: int,
    pool: PatientPool,
) -> Iterator[PatientBatch]:
    """Yield ``holders`` accounts with their patients, ``batch_size`` accounts at a time, and
    record every patient in ``pool`` for the appointment filler."""
    today = now.date()
    bands = [(low, high) for low, high, _ in HOLDER_AGES]
    band_weights = list(accumulate(w for _, _, w in HOLDER_AGES))
    batch = PatientBatch([], [])
    for number in range(1, holders + 1):
        low, high = rng.choices(bands, cum_weights=band_weights)[0]
        age = rng.randint(low, high)
        person = random_person(rng, age=age)
        account_id = new_id()
        created_at = now - timedelta(seconds=rng.randint(3_600, 730 * 86_400))
        batch.accounts.append(
            {
                "account_id": account_id,
                "email": f"{_slug(person.first_name)}.{_slug(person.last_name)}.{number}@{EMAIL_DOMAIN}",
                "display_name": f"{person.first_name} {person.last_name}",
                "is_operator": False,
                "disabled": False,
                "created_at": created_at,
            }
        )
        members = [(Relationship.SELF, person.first_name, person.last_name, person.sex, age)]
        if rng.random() < RELATIVES_SHARE:
            members.extend(_relatives(rng, person.last_name, age))
        for relationship, first_name, last_name, sex, member_age in members:
            index = len(pool.ids)
            patient_id = new_id()
            pool.ids.append(patient_id)
            pool.holders.append(account_id)
            if member_age < 18:
                pool.children.append(index)
            elif sex is Sex.FEMALE:
                pool.women.append(index)
            batch.patients.append(
                {
                    "patient_id": patient_id,
                    "holder_account_id": account_id,
                    "relationship": relationship.value,
                    "first_name": first_name,
                    "last_name": last_name,
                    "name_key": _name_key(first_name, last_name),
                    "birth_date": birth_date(rng, today, member_age),
                    "created_at": created_at,
                }
            )
        if len(batch.accounts) >= batch_size:
            yield batch
            batch = PatientBatch([], [])
    if batch.accounts:
        yield batch


def _relatives(
    rng: random.Random, last_name: str, holder_age: int
) -> list[tuple[Relationship, str, str, Sex, int]]:
    relatives: list[tuple[Relationship, str, str, Sex, int]] = []
    has_partner = False
    for _ in range(rng.choices((1, 2, 3), cum_weights=_RELATIVES_COUNT_CUMULATIVE)[0]):
        draw = rng.random()
        sex = Sex.FEMALE if rng.random() < 0.5 else Sex.MALE
        name = last_name
        if draw < 0.6 and holder_age >= 20:
            relationship, age = Relationship.CHILD, rng.randint(0, min(17, holder_age - 18))
        elif draw < 0.8 and holder_age <= 70:
            relationship, age = Relationship.PARENT, min(100, holder_age + rng.randint(22, 38))
        elif not has_partner:
            has_partner = True
            relationship, age = Relationship.PARTNER, max(18, holder_age + rng.randint(-6, 6))
            if rng.random() < 0.4:
                name = rng.choice(LAST_NAMES)
        else:
            continue
        first_name = random_first_name(rng, sex, age=age)
        relatives.append((relationship, first_name, name, sex, age))
    return relatives
