"""The cost of one policy decision, and its share of a booking: `uv run python -m bench.policy`.

1. ``authorize()`` alone, per action and outcome: the median over batches of calls, in
   microseconds per call.
2. ``booking.services.do_book_appointment`` in-process on a SQLite file (``build_world``, a
   settable clock, a distinct slot and a fresh patient per booking): the median wall time of the
   service call and of its whole transaction, how many decisions each booking asks for, and the
   share of the booking spent deciding, both estimated (calls x median cost) and measured (a
   timing wrapper around ``authorize``, which adds its own small overhead).

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
from functools import partial
from pathlib import Path
from types import MappingProxyType
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from bench.harness import machine
from colloque.authorization import policy
from colloque.authorization.policy import (
    OWN_AGENDA_ACTIONS,
    PATIENT_ACTIONS,
    PRACTICE_ROLES,
    Action,
    AgendaTarget,
    Decision,
    PatientTarget,
    PracticeTarget,
    Target,
    authorize,
)
from colloque.booking import services as booking
from colloque.booking.rules import Source
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.clock import SettableClock
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import ANONYMOUS, Membership, Principal, Role
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.factories import build_world

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
LOCAL_TIMES = [clock_time(h, m) for h in (9, 10, 11, 14, 15) for m in (0, 30)]

ME, OTHER, PRACTICE, ELSEWHERE = uuid4(), uuid4(), uuid4(), uuid4()


def median_call_ns(call: Callable[[], object], *, batch: int, batches: int) -> float:
    """Median over ``batches`` of the mean time per call in a batch of ``batch`` calls."""
    per_call = []
    for _ in range(batches):
        started = time.perf_counter_ns()
        for _ in range(batch):
            call()
        per_call.append((time.perf_counter_ns() - started) / batch)
    return statistics.median(per_call)


def member(role: Role, *, operator: bool = False, mfa: bool = True) -> Principal:
    return Principal(
        account_id=ME,
        memberships=MappingProxyType({PRACTICE: Membership(role=role)}),
        is_operator=operator,
        mfa_satisfied=mfa,
    )


def decision_cases() -> Iterator[tuple[str, str, Principal, Action, Target]]:
    """For each action: a principal it lets through and the usual refusal; then the rarer exits."""
    holder = Principal(account_id=ME)
    for action in sorted(PATIENT_ACTIONS):
        yield action, "allowed", holder, action, PatientTarget(ME)
        yield action, "not_holder", holder, action, PatientTarget(OTHER)
    admin = member(Role.ADMIN)
    for action in sorted(PRACTICE_ROLES):
        # Clinical records are the practitioners' alone: an admin is refused them.
        allowed = admin if Role.ADMIN in PRACTICE_ROLES[action] else member(Role.PRACTITIONER)
        if action in OWN_AGENDA_ACTIONS:
            yield action, "allowed", allowed, action, AgendaTarget(PRACTICE, OTHER)
            yield action, "not_member", allowed, action, AgendaTarget(ELSEWHERE, OTHER)
        else:
            yield action, "allowed", allowed, action, PracticeTarget(PRACTICE)
            yield action, "not_member", allowed, action, PracticeTarget(ELSEWHERE)
    # A practitioner on a colleague's agenda: the last exit.
    time_off = Action.PRACTICE_TIME_OFF_MANAGE
    colleague = AgendaTarget(PRACTICE, OTHER)
    yield time_off, "not_own_agenda", member(Role.PRACTITIONER), time_off, colleague
    view = Action.PRACTICE_AGENDA_VIEW
    manage = Action.PRACTICE_SETTINGS_MANAGE
    yield "(any)", "anonymous", ANONYMOUS, view, PracticeTarget(PRACTICE)
    yield manage, "role_too_low", member(Role.SECRETARY), manage, PracticeTarget(PRACTICE)
    yield view, "mfa_required", member(Role.ADMIN, mfa=False), view, PracticeTarget(PRACTICE)
    yield (
        view,
        "operator allowed",
        member(Role.OPERATOR, operator=True),
        view,
        PracticeTarget(PRACTICE),
    )
    yield view, "not_operator", member(Role.OPERATOR), view, PracticeTarget(PRACTICE)
    yield view, "wrong_target", admin, view, PatientTarget(ME)


def bench_decisions(batch: int, batches: int) -> dict[str, float]:
    print(f"\n1. authorize(), median of {batches} batches of {batch:,} calls")
    print(f"   {'action':<34} {'outcome':<18} {'µs / call':>10}")
    costs: dict[str, float] = {}
    for label, outcome, principal, action, target in decision_cases():
        expected = outcome in ("allowed", "operator allowed")
        assert bool(authorize(principal, action, target)) is expected, (label, outcome)
        ns = median_call_ns(
            partial(authorize, principal, action, target), batch=batch, batches=batches
        )
        costs[f"{label} {outcome}"] = ns
        print(f"   {label:<34} {outcome:<18} {ns / 1000:>10.3f}")
    print(f"   {'median over all rows':<53} {statistics.median(costs.values()) / 1000:>10.3f}")
    return costs


def slots() -> Iterator[datetime]:
    day = date(2026, 3, 3)
    while True:
        if day.weekday() < 5:
            for at in LOCAL_TIMES:
                yield datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)
        day += timedelta(days=1)


class Counted:
    """Wraps ``authorize`` where services look it up, counting and timing every call."""

    def __init__(self) -> None:
        self.calls = 0
        self.ns = 0
        self._real = policy.authorize

    def __call__(self, principal: Principal, action: Action, target: Target) -> Decision:
        started = time.perf_counter_ns()
        decision = self._real(principal, action, target)
        self.ns += time.perf_counter_ns() - started
        self.calls += 1
        return decision

    def install(self) -> None:
        # require() looks authorize up in the policy module, booking's _reach() in its own.
        for module in (policy, booking):
            vars(module)["authorize"] = self

    def remove(self) -> None:
        for module in (policy, booking):
            vars(module)["authorize"] = self._real


def bench_bookings(bookings: int, warmup: int, decision_ns: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        db = Database(url)
        clock = SettableClock(T0)
        world = build_world(db, clock)
        holder = world.holder.principal(db)
        patients: list[UUID] = []
        with db.write() as session:
            for n in range(warmup + bookings):
                patient = do_add_patient(
                    session,
                    now=clock.now(),
                    principal=holder,
                    first_name=f"Patient{n}",
                    last_name="Bench",
                    birth_date=date(1980, 1, 1),
                    relationship=Relationship.OTHER,
                )
                patients.append(patient.patient_id)
        free = slots()
        counter = Counted()
        service: list[float] = []
        transaction: list[float] = []
        calls: list[int] = []
        spent: list[float] = []
        for n, patient_id in enumerate(patients):
            request = BookingRequest(
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                duration_minutes=20,
                patient_id=patient_id,
                starts_at=next(free),
            )
            counter.calls, counter.ns = 0, 0
            counter.install()
            try:
                opened = time.perf_counter_ns()
                with db.write() as session:
                    started = time.perf_counter_ns()
                    do_book_appointment(
                        session,
                        now=clock.now(),
                        principal=holder,
                        request=request,
                        source=Source.ONLINE,
                    )
                    returned = time.perf_counter_ns()
                committed = time.perf_counter_ns()
            finally:
                counter.remove()
            if n < warmup:
                continue
            service.append(returned - started)
            transaction.append(committed - opened)
            calls.append(counter.calls)
            spent.append(counter.ns)
        db.dispose()
    per_booking = statistics.median(calls)
    booking_ns = statistics.median(service)
    estimated = per_booking * decision_ns
    measured = statistics.median(spent)
    print(
        f"\n2. do_book_appointment, online, SQLite file: {bookings} bookings "
        f"after {warmup} warm-up, each a distinct slot and patient"
    )
    rows = [
        ("median booking, service call", f"{booking_ns / 1000:,.0f} µs"),
        (
            "median booking, with its transaction",
            f"{statistics.median(transaction) / 1000:,.0f} µs",
        ),
        ("authorize() calls per booking", f"{per_booking:g}"),
        ("median cost of one decision", f"{decision_ns / 1000:.3f} µs"),
        ("decisions per booking, estimated", f"{estimated / 1000:.3f} µs"),
        ("decisions per booking, measured", f"{measured / 1000:.3f} µs"),
        ("share of the booking, estimated", f"{100 * estimated / booking_ns:.4f} %"),
        ("share of the booking, measured", f"{100 * measured / booking_ns:.4f} %"),
    ]
    for label, value in rows:
        print(f"   {label:<40} {value:>14}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--batches", type=int, default=101)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    print(f"{machine()}, SQLite {sqlite3.sqlite_version}")
    costs = bench_decisions(args.batch, args.batches)
    # A booking online asks about a patient: the median of the patient-action decisions.
    patient_rows = [ns for label, ns in costs.items() if label.startswith("patient:")]
    bench_bookings(args.bookings, args.warmup, statistics.median(patient_rows))


if __name__ == "__main__":
    main()
