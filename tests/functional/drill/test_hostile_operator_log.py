"""The hostile operator against the key directory (issue 10: attacks 1, 4 and 5).

The operator has the database, the server's secret and the log's signing key. Two witnesses run
as real processes on loopback; the server submits each checkpoint to them and requires both
cosignatures (threshold 2). The patient books through the Python client, which seals the reason
for the practice's key as the key directory proves it.

Each attack ends in a refusal before anything is sealed: by a client that remembers the last
checkpoint it verified (client state file, no witnesses needed), and by a fresh client that
requires the witnesses' cosignatures. A naive client (no state, no witnesses) falls for the
rollback (attack 4: the old key and its statement are genuine), so that refusal is known to be about
the log; attacks 1 and 5 swap in a key no admin signed, which even the naive client now refuses
(docs/crypto.md 5.12).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text

from colloque.api.app import create_app
from colloque.booking.models import Appointment
from colloque.client import ColloqueClient
from colloque.client.state import MemoryState
from colloque.clock import SettableClock
from colloque.crypto import _sodium, transparency
from colloque.crypto.errors import ProofInvalid
from colloque.crypto.transparency import Checkpoint, KeyBinding, KeyPurpose, SubjectKind
from colloque.keydirectory import services
from colloque.keydirectory.interfaces import WitnessConflict
from colloque.keydirectory.models import (
    KeyDirectoryCheckpoint,
    KeyDirectoryCosignature,
    KeyDirectoryLeaf,
)
from colloque.keydirectory.witnesses import HttpWitness, Witnessing
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Role
from colloque.records.models import SealedItemRow
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.keys.conftest import LOG, PASSWORD, SETTINGS, Keyed, add, keyed
from tests.witnesses import RunningWitness, running_witness

MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
REASON = "Suivi après la rupture du ligament croisé"
ATTACKER_KEY = _sodium.x25519_public_from_secret(bytes([0x66]) * 32)
#: The fresh clients' limit on cosignature age in the rollback drill (real seconds).
MAX_AGE = timedelta(seconds=3)


@dataclass
class Scene:
    db: Database
    clock: SettableClock
    http: TestClient
    witnessing: Witnessing
    witnesses: list[RunningWitness]
    world: World
    patient: Keyed
    patient_id: UUID
    state_path: Path
    #: The practice's admin on a device requiring both witnesses: makes and rotates the group.
    admin: ColloqueClient

    def client(self, state: Path | MemoryState, **pins: Any) -> ColloqueClient:
        """The patient on a device: logged in, the key directory pinned with ``pins``."""
        client = ColloqueClient(http=self.http, insecure_allow_weak_cost=True, state=state)
        client.log_in(self.patient.email, PASSWORD)
        client._token = self.patient.token
        client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key, **pins)
        return client

    def witnessed_client(self, **pins: Any) -> ColloqueClient:
        """A fresh device (empty state) that requires both witnesses."""
        keys = {w.name: w.public_key for w in self.witnesses}
        return self.client(MemoryState(), witnesses=keys, threshold=2, **pins)

    def remembering_client(self) -> ColloqueClient:
        """A new process on the patient's device: the state file from before, no witnesses."""
        return self.client(self.state_path)

    def naive_client(self) -> ColloqueClient:
        return self.client(MemoryState())

    def book(self, client: ColloqueClient, at: datetime) -> dict[str, Any]:
        out: dict[str, Any] = client.book(
            practice_id=self.world.practice_id,
            practitioner_id=self.world.practitioner_id,
            patient_id=self.patient_id,
            starts_at=at,
            visit_type_id=self.world.consultation_id,
            duration_minutes=20,
            reason=REASON,
        )
        return out

    def sealed_counts(self) -> tuple[int, int]:
        with self.db.read() as session:
            return (
                session.scalar(select(func.count()).select_from(Appointment)) or 0,
                session.scalar(select(func.count()).select_from(SealedItemRow)) or 0,
            )

    def refused(self, client: ColloqueClient) -> None:
        """The booking is refused on the device: nothing sealed, nothing sent."""
        before = self.sealed_counts()
        with pytest.raises(ProofInvalid):
            self.book(client, TUE_0900)
        assert self.sealed_counts() == before

    def practice_key(self) -> bytes:
        return self.naive_client().key_directory.practice_key(self.world.practice_id).public_key


@pytest.fixture
def witnesses(tmp_path: Path) -> Iterator[list[RunningWitness]]:
    logs = {LOG.origin: LOG.public_key}
    with (
        running_witness(tmp_path / "w1", "w1.colloque.test", logs) as one,
        running_witness(tmp_path / "w2", "w2.colloque.test", logs) as two,
    ):
        yield [one, two]


@pytest.fixture
def scene(
    db: Database, clock: SettableClock, witnesses: list[RunningWitness], tmp_path: Path
) -> Iterator[Scene]:
    settings = SETTINGS.model_copy(
        update={
            "key_directory_witnesses": ",".join(w.entry for w in witnesses),
            "key_directory_witness_threshold": 2,
            "key_directory_witness_refresh_seconds": 60.0,
        }
    )
    app = create_app(settings, database=db, clock=clock)
    world = build_world(db, clock)
    with TestClient(app) as http:
        witnessing: Witnessing = app.state.witnessing
        desk = keyed(db, clock, "desk")
        add(db, world.practice_id, desk, Role.ADMIN)  # only an admin makes the key group
        witnessing.catch_up()  # made in process, not by a request: what the retry would do
        # The desk's device requires both witnesses too, for the members' keys it wraps for.
        desk_client = desk.client(http)
        desk_client.pin_key_directory(
            origin=LOG.origin,
            log_public_key=LOG.public_key,
            witnesses={w.name: w.public_key for w in witnesses},
            threshold=2,
        )
        desk_client.practice_keys.create_group(world.practice_id)  # a POST: submitted
        patient = keyed(db, clock, "patient")
        with db.write() as session:
            patient_id = do_add_patient(
                session,
                now=clock.now(),
                principal=patient.principal(db),
                first_name="Inès",
                last_name="Genou",
                birth_date=date(1984, 2, 3),
                relationship=Relationship.SELF,
            ).patient_id
        witnessing.catch_up()
        scene = Scene(
            db, clock, http, witnessing, witnesses, world, patient, patient_id,
            tmp_path / "patient-state.json", desk_client,
        )  # fmt: skip
        # The honest run: the patient's device verifies and remembers; a witnessed device books.
        scene.remembering_client().key_directory.refresh()
        scene.book(scene.witnessed_client(), MON_0900)
        yield scene


#: A leaf row's columns but its index and time: bindings and signed statements alike.
Row = dict[str, Any]
_COLUMNS = ("subject_kind", "subject_id", "purpose", "epoch", "public_key", "leaf")


def _bindings(db: Database) -> list[Row]:
    with db.read() as session:
        rows = session.scalars(select(KeyDirectoryLeaf).order_by(KeyDirectoryLeaf.leaf_index))
        return [{column: getattr(row, column) for column in _COLUMNS} for row in rows]


def _row(binding: KeyBinding) -> Row:
    return {
        "subject_kind": binding.subject_kind.value,
        "subject_id": binding.subject_id,
        "purpose": binding.purpose.value,
        "epoch": binding.epoch,
        "public_key": binding.public_key,
        "leaf": binding.to_leaf(),
    }


def _operator_rewrites(db: Database, bindings: list[Row], now: datetime) -> str:
    """The operator's log: ``bindings`` in order, every checkpoint signed again with the log key,
    the append-only triggers bypassed, the server restarted (its leaf cache gone). Cosignatures of
    sizes the new log still has are kept: the operator serves whatever might help. Returns the
    new latest signed note."""
    with db.write() as session:
        if db.is_postgres:
            session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(
            delete(KeyDirectoryCosignature).where(KeyDirectoryCosignature.tree_size > len(bindings))
        )
        session.execute(delete(KeyDirectoryCheckpoint))
        session.execute(delete(KeyDirectoryLeaf))
        session.flush()
        compact: list[tuple[int, bytes]] = []
        note = ""
        for index, row in enumerate(bindings):
            leaf = row["leaf"]
            compact = transparency.compact_range_append(compact, transparency.leaf_hash(leaf))
            session.add(
                KeyDirectoryLeaf(
                    leaf_index=index,
                    leaf_hash=transparency.leaf_hash(leaf),
                    created_at=now,
                    **row,
                )
            )
            root = transparency.compact_range_root(compact)
            note = LOG.sign(Checkpoint(LOG.origin, index + 1, root))
            session.add(
                KeyDirectoryCheckpoint(
                    tree_size=index + 1, root_hash=root, signed_note=note, created_at=now
                )
            )
    with services._caches_lock:
        services._caches.clear()
    return note


def _no_witness_cosigns(scene: Scene, note: str, old_size: int, witnessed: int) -> None:
    """Every witness refuses the operator's checkpoint, from any size the server could claim:
    409, naming the size of the real log it cosigned last."""
    for running in scene.witnesses:
        member = HttpWitness(running.name, running.public_key, running.url)
        for old in (0, old_size):
            with pytest.raises(WitnessConflict) as refused:
                member.add_checkpoint(old_size=old, proof=[], signed_note=note)
            assert refused.value.size == witnessed


def _practice_binding(bindings: list[Row], practice_id: UUID) -> int:
    return next(
        i
        for i, b in enumerate(bindings)
        if (b["subject_kind"], b["subject_id"], b["purpose"])
        == (SubjectKind.GROUP.value, practice_id, KeyPurpose.ENCRYPTION.value)
    )


def test_attack_1_substituted_key_with_every_checkpoint_resigned(scene: Scene) -> None:
    honest = _bindings(scene.db)
    index = _practice_binding(honest, scene.world.practice_id)
    forged = list(honest)
    forged[index] = _row(
        KeyBinding(
            SubjectKind.GROUP, scene.world.practice_id, KeyPurpose.ENCRYPTION, 1, ATTACKER_KEY
        )
    )
    note = _operator_rewrites(scene.db, forged, scene.clock.now())
    # Even a client with no memory refuses now: no admin signed this key (docs/crypto.md 5.12).
    scene.refused(scene.naive_client())
    scene.refused(scene.remembering_client())
    scene.refused(scene.witnessed_client())
    _no_witness_cosigns(scene, note, len(forged), len(honest))


def test_attack_5_fork_a_second_log_of_the_same_size(scene: Scene) -> None:
    honest = _bindings(scene.db)
    # The other server's log: the same history but for its last leaf, which makes the attacker's
    # key the practice's newest; the same size, signed with the same log key.
    forked = [
        *honest[:-1],
        _row(
            KeyBinding(
                SubjectKind.GROUP, scene.world.practice_id, KeyPurpose.ENCRYPTION, 9, ATTACKER_KEY
            )
        ),
    ]
    note = _operator_rewrites(scene.db, forked, scene.clock.now())
    assert transparency.verify_checkpoint(
        note, origin=LOG.origin, log_public_key=LOG.public_key
    ).tree_size == len(honest)
    scene.refused(scene.naive_client())  # no statement for epoch 9
    scene.refused(scene.remembering_client())
    scene.refused(scene.witnessed_client())
    _no_witness_cosigns(scene, note, len(honest), len(honest))


def test_attack_4_rollback_after_removal_and_rotation(scene: Scene) -> None:
    # A member leaves; the practice rotates to a new key the leaver does not have.
    old_key = scene.practice_key()
    rotated = scene.admin.practice_keys.rotate(scene.world.practice_id).public_key
    scene.witnessing.catch_up()
    scene.remembering_client().key_directory.refresh()
    assert scene.practice_key() == rotated
    # Time passes; the server has its latest checkpoint cosigned again, as it does every refresh.
    time.sleep(MAX_AGE.total_seconds() + 1.5)
    scene.clock.advance(timedelta(minutes=5))
    assert scene.witnessing.catch_up() == 2
    fresh = scene.witnessed_client(witness_max_age=MAX_AGE)
    assert fresh.key_directory.practice_key(scene.world.practice_id).public_key == rotated

    # The operator deletes the last leaf and checkpoint, re-signs, and asks for cosignatures.
    rolled_back = _bindings(scene.db)[:-2]  # the new key and its group epoch statement
    note = _operator_rewrites(scene.db, rolled_back, scene.clock.now())
    assert scene.practice_key() == old_key  # the key the member who left still holds
    scene.clock.advance(timedelta(minutes=5))
    assert scene.witnessing.catch_up() == 0  # both witnesses are at the larger size
    scene.refused(scene.remembering_client())
    # A fresh device: the rolled-back checkpoint's cosignatures are genuine, but old.
    scene.refused(scene.witnessed_client(witness_max_age=MAX_AGE))
    _no_witness_cosigns(scene, note, len(rolled_back), len(rolled_back) + 2)
