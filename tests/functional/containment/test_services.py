"""The suspension's edges: a suspended cookie, a second trip, concurrent first reads, the upkeep,
the switch."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from colloque.accounts.sessions import SESSION_COOKIE, hash_token
from colloque.api.app import create_app
from colloque.audit import context as audit_context
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.containment import rows as containment_rows
from colloque.containment import services as containment_services
from colloque.containment.http import ContainmentMiddleware
from colloque.containment.limits import ContainmentLimits
from colloque.containment.models import CredentialWindow
from colloque.containment.services import (
    CredentialWatch,
    Reason,
    Trip,
    do_suspend,
    purge_windows,
)
from colloque.ids import new_id
from colloque.principal import Principal, credential_id
from colloque.storage.engine import Database
from tests.factories import Person, World
from tests.functional.containment.conftest import make_app, suspensions
from tests.querycount import count_queries

KEY = bytes(32)


def view_patients(
    session: Session,
    principal: Principal,
    practice_id: UUID,
    refs: dict[ObjectKind, frozenset[UUID]],
    *,
    at: datetime,
) -> None:
    """One request's event of a practice's patients seen, told to a new watch."""
    CredentialWatch(ContainmentLimits(), KEY).observe(
        session,
        at=at,
        action="patients:practice_patient:view",
        principal=principal,
        practice_id=practice_id,
        refs=refs,
        span=None,
    )


def test_a_suspended_cookie_says_why_where_a_session_is_needed(
    db: Database, clock: SettableClock, world: World
) -> None:
    app = make_app(db, clock)
    middleware = ContainmentMiddleware(app, settings=app.state.settings)
    trip = Trip(
        credential_id(hash_token(world.secretary.token)),
        world.secretary.account_id,
        world.practice_id,
        Reason.THRESHOLD,
    )
    middleware._suspend(db, clock, trip)
    middleware._suspend(db, clock, trip)  # a second trip of the same credential: nothing more
    assert len(suspensions(db)) == 1
    with TestClient(app) as client:
        client.cookies.set(SESSION_COOKIE, world.secretary.token)
        mine = client.get("/api/v1/me/appointments")
        assert mine.status_code == 401
        assert mine.json()["type"].endswith("/credential-suspended")
        # Public pages keep working with the suspended cookie.
        assert client.get(f"/api/v1/practices/{world.practice_id}").status_code == 200
        client.cookies.set(SESSION_COOKIE, "clq_not-a-token")
        other = client.get("/api/v1/me/appointments")
        assert other.json()["type"].endswith("/unauthenticated")


def test_the_suspension_alone_names_nobody_to_mail_without_an_owner(
    db: Database, clock: SettableClock
) -> None:
    trip = Trip(new_id(), None, None, Reason.CANARY)
    with db.write() as session:
        incident = do_suspend(
            session, now=clock.now(), trip=trip, mail_key=KEY, public_url="https://x.test"
        )
        assert incident is not None
        again = do_suspend(
            session, now=clock.now(), trip=trip, mail_key=KEY, public_url="https://x.test"
        )
        assert again is None


def signed_in(person: Person, db: Database) -> Principal:
    """The person's principal as a request carries it: with its credential."""
    return replace(person.principal(db), credential_id=credential_id(hash_token(person.token)))


def test_events_outside_a_practice_or_of_patients_are_not_counted(
    db: Database, clock: SettableClock, world: World
) -> None:
    watch = CredentialWatch(ContainmentLimits(), KEY)
    someone = {ObjectKind.PATIENT: frozenset({new_id()})}
    holder, admin = signed_in(world.holder, db), signed_in(world.admin, db)
    with db.write() as session:
        for principal, practice, refs in (
            (holder, None, someone),  # a patient's own list
            (holder, world.practice_id, someone),  # a patient booking there
            (admin, world.practice_id, {}),  # a settings change: no person
        ):
            watch.observe(
                session,
                at=clock.now(),
                action="scheduling:practice:change",
                principal=principal,
                practice_id=practice,
                refs=refs,
                span=None,
            )
        assert session.scalar(select(func.count()).select_from(CredentialWindow)) == 0
    assert watch.trip is None


# PostgreSQL only: SQLite runs one writer at a time, so there is no race to test.
@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_concurrent_first_reads_of_a_window_add_up(
    db: Database, clock: SettableClock, world: World
) -> None:
    principal = signed_in(world.secretary, db)
    first, second = frozenset({new_id()}), frozenset({new_id(), new_id()})

    def observe(persons: frozenset[UUID], hold: float) -> None:
        with db.write() as session:
            view_patients(
                session, principal, world.practice_id, {ObjectKind.PATIENT: persons}, at=clock.now()
            )
            time.sleep(hold)  # the other one inserts meanwhile, and waits for this commit

    holder = threading.Thread(target=observe, args=(first, 1.0))
    holder.start()
    time.sleep(0.3)
    observe(second, 0)
    holder.join()
    with db.read() as session:
        (window,) = session.scalars(select(CredentialWindow)).all()
        assert window.points == pytest.approx(3.0)


def test_the_upkeep_drops_old_windows_and_the_switch_turns_it_all_off(
    db: Database, clock: SettableClock, world: World
) -> None:
    app = create_app(
        Settings(run_refresher=False, containment_enabled=False), database=db, clock=clock
    )
    with TestClient(app) as client:
        client.get(
            f"/api/v1/practices/{world.practice_id}/patients",
            params={"query": "ab"},
            headers={"Authorization": f"Bearer {world.secretary.token}"},
        )
    with db.write() as session:
        assert session.scalar(select(func.count()).select_from(CredentialWindow)) == 0
        CredentialWatch(ContainmentLimits(), KEY).observe(
            session,
            at=clock.now(),
            action="patients:practice_patient:view",
            principal=signed_in(world.secretary, db),
            practice_id=world.practice_id,
            refs={ObjectKind.PATIENT: frozenset({new_id()})},
            span=None,
        )
    with db.write() as session:
        assert purge_windows(session, before=clock.now() - timedelta(hours=2)) == 0
        assert purge_windows(session, before=clock.now() + timedelta(hours=2)) == 1


def test_the_audit_core_tells_the_watch_of_credentials_only(
    db: Database, clock: SettableClock, world: World
) -> None:
    watch = CredentialWatch(ContainmentLimits(), KEY)
    secretary = signed_in(world.secretary, db)
    read = {ObjectKind.PATIENT: frozenset({new_id()})}
    with db.write() as session, audit_context.observed(watch):
        assert audit_context.observer() is watch
        for principal in (world.secretary.principal(db), secretary):  # in-process, then a request
            record(
                session,
                at=clock.now(),
                action=AuditAction.PRACTICE_PATIENT_VIEWED,
                principal=principal,
                practice_id=world.practice_id,
                object_kind="patient",
                object_id=None,
                objects=[(kind, object_id) for kind, ids in read.items() for object_id in ids],
            )
        (window,) = session.scalars(select(CredentialWindow)).all()
        assert window.credential_id == secretary.credential_id
    assert audit_context.observer() is None


def test_hours_start_again_within_the_day_and_a_day_ends(
    db: Database, clock: SettableClock, world: World
) -> None:
    """One row per credential and practice: a new hour counts again what this hour has not
    seen, the day only what it has not; past its day (an integration's token), a new day."""
    principal = signed_in(world.secretary, db)
    ana, bob, cid, dan = (new_id() for _ in range(4))
    start = clock.now()

    def read(at: timedelta, *persons: UUID) -> tuple[float, float, float]:
        watch = CredentialWatch(ContainmentLimits(), KEY)  # one per request, as the middleware's
        with db.write() as session:
            watch.observe(
                session,
                at=start + at,
                action="patients:practice_patient:view",
                principal=principal,
                practice_id=world.practice_id,
                refs={ObjectKind.PATIENT: frozenset(persons)},
                span=None,
            )
        assert watch.trip is None
        with db.read() as session:
            (window,) = session.scalars(select(CredentialWindow)).all()
            assert window.day_limit == 3 * window.point_limit
            return window.points, window.day_points, (window.day_start - start).total_seconds()

    assert read(timedelta(0), ana, bob) == (2, 2, 0)
    # Nobody new to the hour: this process's copy of what it wrote says so, and the row is not
    # even read. A process without a copy (another one wrote the row) reads it, neither locked
    # nor written, and keeps what it read.
    for statements_on_the_row, copy_kept in ((0, True), (1, False), (0, True)):
        if not copy_kept:
            containment_rows.SEEN.clear()
        with count_queries(db) as statements:
            assert read(timedelta(minutes=30), bob) == (2, 2, 0)
        on_the_row = [sql for sql in statements if "containment_windows.credential_id =" in sql]
        assert len(on_the_row) == statements_on_the_row
        assert not [sql for sql in on_the_row if "FOR UPDATE" in sql or sql.startswith("UPDATE")]
    assert read(timedelta(hours=1), ana, cid) == (2, 3, 0)  # ana new to the hour, not the day
    # A late request of the hour before counts in the current one.
    assert read(timedelta(minutes=59), dan) == (3, 4, 0)
    assert read(timedelta(days=1), ana) == (1, 1, 86_400)


def test_a_practice_is_counted_once_an_hour_for_the_limits(
    db: Database, clock: SettableClock, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a window counts the practice's patients and coming week (its limit); the
    credentials that open theirs in the same hour reuse that count, the next hour counts again."""
    monkeypatch.setattr(containment_services, "_BASELINES", {})
    someone = {ObjectKind.PATIENT: frozenset({new_id()})}

    def opening_counts(principal: Principal, at: timedelta) -> int:
        with db.write() as session, count_queries(db) as statements:
            view_patients(session, principal, world.practice_id, someone, at=clock.now() + at)
        return sum("count(" in sql.lower() for sql in statements)

    assert opening_counts(signed_in(world.secretary, db), timedelta(0)) == 2
    assert opening_counts(signed_in(world.admin, db), timedelta(minutes=1)) == 0
    # A process keeps a bounded number of counts: past it, they are dropped and counted again.
    monkeypatch.setattr(containment_services, "_BASELINES_KEPT", 1)
    assert opening_counts(signed_in(world.doctor, db), timedelta(hours=1)) == 2
    assert len(containment_services._BASELINES) == 1


def test_a_process_keeps_a_bounded_copy_of_the_rows_it_read(
    db: Database, clock: SettableClock, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(containment_rows, "SEEN", {})
    monkeypatch.setattr(containment_rows, "SEEN_KEPT", 1)
    someone = {ObjectKind.PATIENT: frozenset({new_id()})}
    secretary, admin = signed_in(world.secretary, db), signed_in(world.admin, db)
    # Each opens its row and keeps a copy once committed; the secretary's next read, in this
    # process that now holds the admin's copy only, reads the row and keeps what it read.
    for principal, minutes in ((secretary, 0), (admin, 0), (secretary, 1)):
        with db.write() as session:
            view_patients(
                session,
                principal,
                world.practice_id,
                someone,
                at=clock.now() + timedelta(minutes=minutes),
            )
        assert list(containment_rows.SEEN) == [(principal.credential_id, world.practice_id)]


def test_a_copy_of_a_write_is_kept_only_once_committed(
    db: Database, clock: SettableClock, world: World
) -> None:
    principal = signed_in(world.secretary, db)
    assert principal.credential_id is not None
    key = (principal.credential_id, world.practice_id)

    def observe(person: UUID, *, then_fail: bool = False) -> None:
        with db.write() as session:
            view_patients(
                session,
                principal,
                world.practice_id,
                {ObjectKind.PATIENT: frozenset({person})},
                at=clock.now(),
            )
            with session.begin_nested():  # a savepoint released is not the commit
                pass
            assert key not in containment_rows.SEEN
            if then_fail:
                raise RuntimeError("the request fails after its read was counted")

    containment_rows.SEEN.clear()
    with pytest.raises(RuntimeError):
        observe(new_id(), then_fail=True)
    assert key not in containment_rows.SEEN
    observe(new_id())
    assert containment_rows.SEEN[key].points == 1
    with db.read() as session:
        (window,) = session.scalars(select(CredentialWindow)).all()
        assert window.revision == containment_rows.SEEN[key].revision


def test_a_stale_copy_gives_way_to_the_row_as_it_is(
    db: Database, clock: SettableClock, world: World
) -> None:
    """A copy behind the row (another process wrote it since) is not written over: the write
    made from it applies to nothing; the row is read again, and the event written from that
    read when it adds something, or nothing written when the other write already counted it."""
    principal = signed_in(world.secretary, db)
    assert principal.credential_id is not None
    key = (principal.credential_id, world.practice_id)
    ana, bob = new_id(), new_id()

    def observe(*persons: UUID) -> list[str]:
        with count_queries(db) as statements, db.write() as session:
            view_patients(
                session,
                principal,
                world.practice_id,
                {ObjectKind.PATIENT: frozenset(persons)},
                at=clock.now(),
            )
        return [sql.split(" ")[0] for sql in statements if "containment_windows" in sql]

    def row() -> tuple[float, int]:
        with db.read() as session:
            (window,) = session.scalars(select(CredentialWindow)).all()
            return window.points, window.revision

    observe(new_id())
    stale = replace(containment_rows.SEEN[key])
    assert observe(ana) == ["UPDATE"]  # from the current copy: one statement
    containment_rows.SEEN[key] = stale
    assert observe(ana) == ["UPDATE", "SELECT"]  # ana is counted already: nothing written
    assert row() == (2, containment_rows.SEEN[key].revision)
    containment_rows.SEEN[key] = stale
    assert observe(ana, bob) == ["UPDATE", "SELECT", "UPDATE"]  # bob is new to the row
    assert row() == (3, containment_rows.SEEN[key].revision)
    # A process without a copy reads the row, and writes from that read.
    containment_rows.SEEN.clear()
    assert observe(new_id()) == ["SELECT", "UPDATE"]
    assert row() == (4, containment_rows.SEEN[key].revision)
    # The row is gone (the upkeep dropped it): the write from the copy misses, the read finds
    # nothing, and the row is opened again.
    with db.write() as session:
        session.execute(delete(CredentialWindow))
    assert observe(new_id()) == ["UPDATE", "SELECT", "INSERT"]
    assert row() == (1, containment_rows.SEEN[key].revision)


def test_a_row_changed_between_two_reads_is_written_under_a_lock(
    db: Database, clock: SettableClock, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second miss reads the row for update: then the write cannot miss."""
    principal = signed_in(world.secretary, db)
    assert principal.credential_id is not None
    key = (principal.credential_id, world.practice_id)

    def observe(person: UUID) -> None:
        with db.write() as session:
            view_patients(
                session,
                principal,
                world.practice_id,
                {ObjectKind.PATIENT: frozenset({person})},
                at=clock.now(),
            )

    observe(new_id())
    stale = replace(containment_rows.SEEN[key])
    observe(new_id())
    containment_rows.SEEN[key] = stale
    real_load = containment_rows.load
    loads: list[bool] = []

    def load_behind(session: Session, key: tuple[UUID, UUID], *, lock: bool) -> object:
        # As if another request wrote the row between this read and the write made from it.
        loads.append(lock)
        found = real_load(session, key, lock=lock)
        return found if lock else stale

    monkeypatch.setattr(containment_rows, "load", load_behind)
    with count_queries(db) as statements:
        observe(new_id())
    on_the_row = [sql for sql in statements if "containment_windows.credential_id =" in sql]
    assert [sql.split(" ")[0] for sql in on_the_row] == [
        "UPDATE",
        "SELECT",
        "UPDATE",
        "SELECT",
        "UPDATE",
    ]
    assert loads == [False, True]
    assert on_the_row[3].endswith("FOR UPDATE") == db.is_postgres
    with db.read() as session:
        (window,) = session.scalars(select(CredentialWindow)).all()
        assert window.points == 3
