"""A world whose practitioner, secretary and patient holder have keys, a practice key group and
its practitioners' group (the practitioner's: notes are sealed to it)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from colloque.clock import SettableClock
from colloque.crypto.groups import GroupKey
from colloque.crypto.keys import UserKeys
from colloque.storage.engine import Database
from tests.factories import World, build_world, register_at_practice
from tests.functional.records.helpers import give_keys, make_group


@dataclass
class Keyed:
    world: World
    doctor: UserKeys
    secretary: UserKeys
    holder: UserKeys
    stranger: UserKeys
    group: GroupKey
    clinical: GroupKey


@pytest.fixture
def keyed(db: Database, clock: SettableClock) -> Keyed:
    world = build_world(db, clock)
    for patient_id in (world.holder_patient_id, world.child_patient_id):
        register_at_practice(db, clock, world, patient_id)
    doctor = give_keys(db, clock, world.doctor.account_id)
    secretary = give_keys(db, clock, world.secretary.account_id)
    group = make_group(db, clock, world.practice_id, [doctor, secretary])
    return Keyed(
        world=world,
        doctor=doctor,
        secretary=secretary,
        holder=give_keys(db, clock, world.holder.account_id),
        stranger=give_keys(db, clock, world.stranger.account_id),
        group=group,
        clinical=make_group(db, clock, world.practice_id, [doctor], clinical=True),
    )
