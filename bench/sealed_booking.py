"""What end-to-end encryption costs a booking on the server: `uv run python -m bench.sealed_booking`.

1. The server's check of a sealed reason, in-process: parse the clear header, verify the author's
   Ed25519 signature, parse both key-wrap headers; against the raw libsodium signature
   verification it makes (``crypto_sign_open`` over the same bytes).
2. ``do_book_appointment`` in-process, with and without a sealed reason, interleaved (a plain
   booking, then a sealed one, and so on), each with a distinct slot and patient, on a SQLite file
   and on PostgreSQL: the median wall time of the whole transaction, and the ratio. The reason is
   sealed beforehand, as the patient's device does; only the server's work is timed.

Nothing here asserts on time; it prints a table.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from nacl import bindings as raw

from bench.harness import machine, postgres_version, recreate_database
from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.services import do_add_member, principal_for_account
from colloque.booking.reasons import SealedReason
from colloque.booking.rules import Source
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.crypto.groups import GroupKey
from colloque.crypto.items import (
    read_item_header,
    read_wrap_header,
    seal_visit_reason,
    verify_item_signature,
)
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import Role as GroupRole
from colloque.demo.showcase_keys import make_practice_group, unlock
from colloque.keydirectory.config import LogKey
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Principal, Role
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.factories import World, build_world

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
LOCAL_TIMES = [clock_time(h, m) for h in (9, 10, 11, 14, 15, 17) for m in (0, 30)]
PASSWORD = "bench-sealed-booking-passphrase-7"
REASON = "Douleur au genou depuis la chute de ski, gonflement le soir"


def median_ns(call: Callable[[], object], *, batch: int, batches: int) -> float:
    results = []
    for _ in range(batches):
        started = time.perf_counter_ns()
        for _ in range(batch):
            call()
        results.append((time.perf_counter_ns() - started) / batch)
    return statistics.median(results)


def slots() -> Iterator[datetime]:
    day = date(2026, 3, 3)
    while True:
        if day.weekday() < 5:
            for at in LOCAL_TIMES:
                yield datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)
        day += timedelta(days=1)


class Scene:
    """A practice with a key group, a keyed patient holder, and ``count`` patients of theirs."""

    def __init__(self, db: Database, count: int) -> None:
        self.db = db
        self.clock = SettableClock(T0)
        self.world: World = build_world(db, self.clock)
        log = LogKey.from_settings(Settings())
        with db.write() as session:
            desk, _ = do_create_demo_login(
                session,
                now=self.clock.now(),
                email="desk@bench.example.test",
                display_name="Desk",
                password=PASSWORD,
                log=log,
            )
            holder, _ = do_create_demo_login(
                session,
                now=self.clock.now(),
                email="holder@bench.example.test",
                display_name="Holder",
                password=PASSWORD,
                log=log,
            )
            do_add_member(
                session,
                practice_id=self.world.practice_id,
                account_id=desk.account_id,
                # An admin: the group is made with signed memberships, which admins sign.
                role=Role.ADMIN,
            )
        with db.write() as session:
            desk_keys = unlock(session, desk, PASSWORD)
            self.holder_keys: UserKeys = unlock(session, holder, PASSWORD)
            self.group: GroupKey = make_practice_group(
                session,
                now=self.clock.now(),
                practice_id=self.world.practice_id,
                creator=principal_for_account(session, desk),
                admin=desk_keys,
                members=[(desk_keys, GroupRole.ADMIN)],
            )
            self.holder: Principal = principal_for_account(session, holder)
            self.patients = [
                do_add_patient(
                    session,
                    now=self.clock.now(),
                    principal=self.holder,
                    first_name=f"Patient{n}",
                    last_name="Bench",
                    birth_date=date(1980, 1, 1),
                    relationship=Relationship.OTHER,
                ).patient_id
                for n in range(count)
            ]

    def sealed(self) -> tuple[UUID, SealedReason]:
        appointment_id = uuid4()
        sealed = seal_visit_reason(
            item_id=uuid4(),
            appointment_id=appointment_id,
            visit_type_id=self.world.consultation_id,
            reason=REASON,
            author=self.holder_keys,
            recipients=[self.holder_keys.encryption_binding(), self.group.encryption_binding()],
        )
        return appointment_id, SealedReason(envelope=sealed.envelope, wraps=sealed.wraps)


def bench_check(batch: int, batches: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'check.sqlite3'}"
        upgrade(url)
        db = Database(url)
        scene = Scene(db, 0)
        db.dispose()
    _, reason = scene.sealed()
    envelope, wraps = reason.envelope, reason.wraps
    author = scene.holder_keys.signing_binding()
    signed, signature = envelope[:-64], envelope[-64:]
    message = b"colloque/item-signature/v1" + signed

    def server_check() -> None:
        read_item_header(envelope)
        verify_item_signature(envelope, author=author)
        for wrap in wraps:
            read_wrap_header(wrap)

    def raw_verify() -> None:
        raw.crypto_sign_open(signature + message, author.public_key)

    raw_verify()  # the same bytes verify with the raw call
    ours = median_ns(server_check, batch=batch, batches=batches)
    base = median_ns(raw_verify, batch=batch, batches=batches)
    print("\n1. The server's check of a sealed reason (2 wraps), in-process")
    print(f"   {'colloque check':<44} {ours / 1000:>10.1f} µs")
    print(f"   {'raw crypto_sign_open':<44} {base / 1000:>10.1f} µs")
    print(f"   {'ratio':<44} {ours / base:>10.2f}")


def bench_bookings(label: str, db: Database, bookings: int, warmup: int) -> None:
    scene = Scene(db, 2 * (bookings + warmup))
    free = slots()
    timings: dict[str, list[float]] = {"plain": [], "sealed": []}
    patients = iter(scene.patients)
    for n in range(warmup + bookings):
        for variant in ("plain", "sealed"):
            appointment_id, reason = scene.sealed() if variant == "sealed" else (None, None)
            request = BookingRequest(
                practice_id=scene.world.practice_id,
                practitioner_id=scene.world.practitioner_id,
                patient_id=next(patients),
                starts_at=next(free),
                duration_minutes=20,
                appointment_id=appointment_id,
                sealed_reason=reason,
            )
            started = time.perf_counter_ns()
            with db.write() as session:
                do_book_appointment(
                    session,
                    now=scene.clock.now(),
                    principal=scene.holder,
                    request=request,
                    source=Source.ONLINE,
                )
            if n >= warmup:
                timings[variant].append(time.perf_counter_ns() - started)
    plain = statistics.median(timings["plain"])
    sealed = statistics.median(timings["sealed"])
    print(
        f"\n2. do_book_appointment with its transaction, {label}: {bookings} of each, interleaved"
    )
    print(f"   {'booking without a reason':<44} {plain / 1000:>10.0f} µs")
    print(f"   {'booking with a sealed reason':<44} {sealed / 1000:>10.0f} µs")
    print(f"   {'ratio':<44} {sealed / plain:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--batches", type=int, default=51)
    parser.add_argument("--bookings", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    print(machine())
    bench_check(args.batch, args.batches)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        db = Database(url)
        bench_bookings(f"SQLite {sqlite3.sqlite_version} file", db, args.bookings, args.warmup)
        db.dispose()
    if not args.no_postgres:
        url = recreate_database("colloque_bench_sealed")
        upgrade(url)
        db = Database(url)
        bench_bookings(f"PostgreSQL {postgres_version()}", db, args.bookings, args.warmup)
        db.dispose()


if __name__ == "__main__":
    main()
