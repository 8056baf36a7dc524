"""The server's witnessing on both databases: submissions after commits, 409s adopted, witnesses
down and back, cosignatures checked before they are kept, and what the API serves at k of n.

The witnesses here are the real witness service in process (colloque.witness), behind the
``Witness`` protocol; tests/functional/drill and tests/functional/witness run them as processes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.crypto import transparency, witness
from colloque.crypto.errors import ProofInvalid
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.keydirectory import services
from colloque.keydirectory.interfaces import Witness, WitnessConflict, WitnessUnavailable
from colloque.keydirectory.models import KeyDirectoryCosignature
from colloque.keydirectory.witnesses import (
    RESTING,
    HttpWitness,
    Witnessing,
    WitnessRetry,
    submission_body,
)
from colloque.settingvalues import WitnessEntry, parse_witnesses
from colloque.storage.engine import Database
from colloque.witness.keys import WitnessKey
from colloque.witness.services import Refused
from colloque.witness.services import Witness as WitnessService
from colloque.witness.storage import Store
from tests.functional.keys.conftest import LOG, SETTINGS, keyed
from tests.witnesses import running_witness


class InProcessWitness:
    """The witness service behind the server's ``Witness`` protocol, with a switch to take it down."""

    def __init__(self, data_dir: Path, name: str, clock: SettableClock) -> None:
        self.service = WitnessService(
            key=WitnessKey(name, bytes([len(name)]) * 32),
            logs={LOG.origin: LOG.public_key},
            store=Store(data_dir),
            clock=clock,
        )
        self.down = False
        self.calls: list[int] = []

    @property
    def name(self) -> str:
        return self.service.key.name

    @property
    def public_key(self) -> bytes:
        return self.service.key.public_key

    def add_checkpoint(self, *, old_size: int, proof: Sequence[bytes], signed_note: str) -> str:
        self.calls.append(old_size)
        if self.down:
            raise WitnessUnavailable(f"{self.name}: down")
        body = submission_body(old_size=old_size, proof=proof, signed_note=signed_note)
        try:
            return self.service.add_checkpoint(body)
        except Refused as refused:
            if refused.size is not None:
                raise WitnessConflict(refused.size) from None
            raise WitnessUnavailable(str(refused)) from None


def _witnesses(tmp_path: Path, clock: SettableClock) -> list[InProcessWitness]:
    return [InProcessWitness(tmp_path / n, f"{n}.test", clock) for n in ("one", "two")]


def _witnessing(
    db: Database, clock: SettableClock, members: Sequence[Witness], threshold: int = 2
) -> Witnessing:
    return Witnessing(
        database=db,
        log=LOG,
        clock=clock,
        witnesses=members,
        threshold=threshold,
        refresh=timedelta(minutes=10),
    )


def _publish(db: Database, clock: SettableClock, epoch: int) -> None:
    binding = KeyBinding(
        SubjectKind.GROUP,
        transparency_subject,
        KeyPurpose.ENCRYPTION,
        epoch,
        bytes([epoch]) * 32,
    )
    with db.write() as session:
        services.publish_bindings(session, bindings=[binding], now=clock.now(), log=LOG)


transparency_subject = __import__("uuid").UUID("c0000000-0000-4000-8000-0000000000aa")


def _verify(note: str, members: Sequence[Witness], threshold: int = 2) -> int:
    return witness.verify_witnessed_checkpoint(
        note,
        origin=LOG.origin,
        log_public_key=LOG.public_key,
        witnesses={m.name: m.public_key for m in members},
        threshold=threshold,
    ).tree_size


def test_catch_up_submits_the_latest_and_serves_k_of_n(
    db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    members = _witnesses(tmp_path, clock)
    witnessing = _witnessing(db, clock, members)
    assert witnessing.catch_up() == 0  # an empty log: nothing to cosign
    with db.read() as session:
        assert witnessing.witnessed_head(session) is None
    _publish(db, clock, 1)
    assert witnessing.catch_up() == 2
    assert witnessing.catch_up() == 0  # up to date: one read, no submission
    _publish(db, clock, 2)
    _publish(db, clock, 3)
    assert witnessing.catch_up() == 2
    assert [m.calls for m in members] == [[0, 1], [0, 1]]  # proofs from what each cosigned
    with db.read() as session:
        head = witnessing.witnessed_head(session)
    assert head is not None
    assert head.tree_size == 3
    assert _verify(head.signed_note, members) == 3


def test_a_witness_down_is_caught_up_later_and_the_api_waits_for_k(
    db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    members = _witnesses(tmp_path, clock)
    witnessing = _witnessing(db, clock, members)
    _publish(db, clock, 1)
    witnessing.catch_up()
    members[1].down = True
    _publish(db, clock, 2)
    assert witnessing.catch_up() == 1
    with db.read() as session:
        head = witnessing.witnessed_head(session)
    assert head is not None
    assert head.tree_size == 1  # size 2 has one cosignature of the two required
    with db.read() as session:
        partial = witnessing.cosigned_note(session, 2)
    assert _verify(partial, members, threshold=1) == 2
    with pytest.raises(ProofInvalid, match="too few"):
        _verify(partial, members)
    members[1].down = False
    retry = WitnessRetry(witnessing, interval=0.05)
    retry.start()
    try:
        deadline = time.monotonic() + 10
        while True:
            with db.read() as session:
                head = witnessing.witnessed_head(session)
            if head is not None and head.tree_size == 2:
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        retry.stop()


def test_after_requests_a_failed_witness_rests_and_the_retry_keeps_trying(
    db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    members = _witnesses(tmp_path, clock)
    witnessing = _witnessing(db, clock, members)
    members[1].down = True
    _publish(db, clock, 1)
    assert witnessing.catch_up(retry=False) == 1
    _publish(db, clock, 2)
    assert witnessing.catch_up(retry=False) == 1  # the resting witness is not asked
    assert members[1].calls == [0]
    clock.advance(RESTING)
    assert witnessing.catch_up(retry=False) == 0  # asked again: still down
    assert members[1].calls == [0, 0]
    members[1].down = False
    assert witnessing.catch_up(retry=False) == 0  # resting again
    assert witnessing.catch_up() == 1  # the retry asks anyway
    assert members[1].calls == [0, 0, 0]
    _publish(db, clock, 3)
    assert witnessing.catch_up(retry=False) == 2  # back among the asked


def test_a_409_is_adopted_once(db: Database, clock: SettableClock, tmp_path: Path) -> None:
    members = _witnesses(tmp_path, clock)
    _publish(db, clock, 1)
    _publish(db, clock, 2)
    _witnessing(db, clock, members).catch_up()
    # The server forgot what the witnesses cosigned (say a restore from backup of its table).
    with db.write() as session:
        for row in session.scalars(select(KeyDirectoryCosignature)):
            session.delete(row)
    _publish(db, clock, 3)
    assert _witnessing(db, clock, members).catch_up() == 2
    assert members[0].calls == [0, 0, 2]  # 0 -> 409 "2" -> retried from 2


def test_a_witness_that_keeps_conflicting_or_is_ahead_is_skipped(
    db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    class Conflicting(InProcessWitness):
        def add_checkpoint(self, *, old_size: int, proof: Sequence[bytes], signed_note: str) -> str:
            self.calls.append(old_size)
            raise WitnessConflict(old_size + 1 if self.name == "flip.test" else 99)

    flip = Conflicting(tmp_path / "flip", "flip.test", clock)
    ahead = Conflicting(tmp_path / "ahead", "ahead.test", clock)
    _publish(db, clock, 1)
    _publish(db, clock, 2)
    assert _witnessing(db, clock, [flip, ahead], threshold=0).catch_up() == 0
    assert flip.calls == [0, 1]
    assert ahead.calls == [0]


def test_a_bad_cosignature_is_not_kept(db: Database, clock: SettableClock, tmp_path: Path) -> None:
    class Lying(InProcessWitness):
        def add_checkpoint(self, *, old_size: int, proof: Sequence[bytes], signed_note: str) -> str:
            real = super().add_checkpoint(old_size=old_size, proof=proof, signed_note=signed_note)
            other = self.name.replace("liar", "other")
            return f"\u2014 {other} AAAA\n\u2014 {self.name} {real.split(' ')[2][:-6]}AAAA==\nbad\n"

    liar = Lying(tmp_path / "liar", "liar.test", clock)
    _publish(db, clock, 1)
    assert _witnessing(db, clock, [liar], threshold=1).catch_up() == 0


def test_cosignatures_are_refreshed_when_old(
    db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    members = _witnesses(tmp_path, clock)
    witnessing = _witnessing(db, clock, members)
    _publish(db, clock, 1)
    witnessing.catch_up()
    clock.advance(timedelta(minutes=5))
    assert witnessing.catch_up() == 0
    clock.advance(timedelta(minutes=6))
    assert witnessing.catch_up() == 2
    with db.read() as session:
        stored = session.scalars(select(KeyDirectoryCosignature.created_at)).all()
    assert set(stored) == {clock.now()}
    clock.advance(timedelta(days=30))
    never = Witnessing(database=db, log=LOG, clock=clock, witnesses=members, threshold=2)
    assert never.catch_up() == 0  # without a refresh period, cosigned once is enough


def test_a_threshold_outside_zero_to_n_is_refused(db: Database, clock: SettableClock) -> None:
    with pytest.raises(ValueError, match="threshold"):
        Witnessing(database=db, log=LOG, clock=clock, witnesses=[], threshold=1)


def test_the_api_serves_the_witnessed_checkpoint(
    db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    with running_witness(tmp_path / "w", "w.test", {LOG.origin: LOG.public_key}) as running:
        settings = SETTINGS.model_copy(
            update={"key_directory_witnesses": running.entry, "key_directory_witness_threshold": 1}
        )
        app = create_app(settings, database=db, clock=clock)
        with TestClient(app) as http:
            ana = keyed(db, clock, "ana")  # in process: not yet submitted
            head = http.get("/api/v1/key-directory").json()
            assert head["tree_size"] == 2  # nothing witnessed yet: the log's own head
            keys = http.get(f"/api/v1/key-directory/users/{ana.account_id}", headers=ana.headers)
            assert keys.status_code == 200
            # A write request: after it commits, the server submits to the witness.
            carl = keyed(db, clock, "carl")
            assert http.post("/api/v1/auth/logout", headers=carl.headers).status_code < 400
            head = http.get("/api/v1/key-directory").json()
            members = [HttpWitness(running.name, running.public_key, running.url)]
            assert _verify(head["signed_checkpoint"], members, threshold=1) == 4
            ben = keyed(db, clock, "ben")
            keys = http.get(f"/api/v1/key-directory/users/{ben.account_id}", headers=ben.headers)
            assert keys.status_code == 404  # ben's keys are after the witnessed size
            mine = http.get(f"/api/v1/key-directory/users/{ana.account_id}", headers=ana.headers)
            assert _verify(mine.json()["signed_checkpoint"], members, threshold=1) == 4


def test_http_witness_errors(tmp_path: Path) -> None:
    with running_witness(tmp_path / "w", "w.test", {"other.test/log": LOG.public_key}) as running:
        member = HttpWitness(running.name, running.public_key, running.url)
        note = LOG.sign(transparency.Checkpoint(LOG.origin, 0, transparency.tree_root([])))
        with pytest.raises(WitnessUnavailable, match="HTTP 404"):
            member.add_checkpoint(old_size=0, proof=[], signed_note=note)
        leaf = transparency.leaf_hash(b"one")
        other = LOG.sign(transparency.Checkpoint("other.test/log", 1, leaf))
        member.add_checkpoint(old_size=0, proof=[], signed_note=other)
        with pytest.raises(WitnessConflict):
            member.add_checkpoint(old_size=0, proof=[], signed_note=other)
        with pytest.raises(WitnessUnavailable, match="HTTP 400"):
            member.add_checkpoint(old_size=2, proof=[], signed_note=other)
    gone = HttpWitness("gone", bytes(32), running.url, timeout=1)
    with pytest.raises(WitnessUnavailable, match="gone"):
        gone.add_checkpoint(old_size=0, proof=[], signed_note=note)


def test_witness_settings() -> None:
    key = "A" * 43 + "="
    assert parse_witnesses(f"a={key}@http://a.test/, b={key}@https://b.test") == [
        WitnessEntry("a", bytes(32), "http://a.test"),
        WitnessEntry("b", bytes(32), "https://b.test"),
    ]
    for bad in (f"={key}@http://a", "a=xx@http://a", f"a={key}@ftp://a", f"a={key}"):
        with pytest.raises(ValueError, match="name=<public key base64>@<url>"):
            parse_witnesses(bad)
    with pytest.raises(ValueError, match="twice"):
        parse_witnesses(f"a={key}@http://a a={key}@http://b")
    with pytest.raises(ValidationError, match="THRESHOLD"):
        Settings(key_directory_witnesses=f"a={key}@http://a", key_directory_witness_threshold=2)
    with pytest.raises(ValidationError, match="WITNESSES"):
        Settings(key_directory_witnesses="nonsense")
    assert Settings().witnesses == []


def test_the_retry_outlives_a_failed_round() -> None:
    rounds: list[int] = []

    class Failing:
        def catch_up(self) -> int:
            rounds.append(1)
            raise RuntimeError("database down")

    retry = WitnessRetry(Failing(), interval=0.01)  # type: ignore[arg-type]  # a stand-in with catch_up only
    retry.start()
    deadline = time.monotonic() + 10
    while len(rounds) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    retry.stop()


def test_a_409_without_a_size_is_an_error(tmp_path: Path) -> None:
    from fastapi import FastAPI, Response

    from tests.server import running_server

    odd = FastAPI()

    @odd.post("/add-checkpoint")
    def conflict() -> Response:
        return Response("soon", status_code=409, headers={"Content-Type": "text/x.tlog.size"})

    with running_server(odd) as url:
        member = HttpWitness("odd.test", bytes(32), url)
        with pytest.raises(WitnessUnavailable, match="HTTP 409"):
            member.add_checkpoint(old_size=0, proof=[], signed_note="x")
