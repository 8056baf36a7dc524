"""Demo data: a showcase practice built through the services, then a country's worth of practices,
patients and appointments inserted in bulk, then the search cache.

Deterministic for a given seed and ``now``: every id and every choice comes from random generators
seeded with the seed (one per stage, so changing how many patients are asked for does not change
the practitioners). Bearer tokens are the exception: they are real secrets.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from colloque.booking.models import ACTIVE_STATUSES, Appointment
from colloque.containment.canaries import do_plant_canaries
from colloque.demo.filler import MAX_FILL, AgendaGrid, AppointmentWriter, PatientPool, Piece, Row
from colloque.demo.network import AGENDA_TABLES, Network, agenda_rows, plan_network
from colloque.demo.plans import AgendaPlan
from colloque.demo.population import patient_batches
from colloque.demo.search_cache import refresh_search_cache
from colloque.demo.showcase import DemoLogin, build_showcase
from colloque.demo.tables import analyze, insert_rows, table
from colloque.storage.bulk import constraints_deferred
from colloque.storage.engine import Database

__all__ = ["DemoLogin", "DemoSummary", "Progress", "generate_demo"]

Progress = Callable[[str, int, int], None]

STAGE_SHOWCASE = "Showcase practice"
STAGE_PRACTICES = "Practices and agendas"
STAGE_PATIENTS = "Patients"
STAGE_APPOINTMENTS = "Appointments"
STAGE_CONSTRAINTS = "Constraints and indexes"
STAGE_SEARCH = "Search cache"

#: Appointments are spread over this many days before and after ``now``.
PAST_DAYS = 60
FUTURE_DAYS = 60

AGENDAS_PER_TRANSACTION = 1_000
ACCOUNTS_PER_TRANSACTION = 10_000
APPOINTMENTS_PER_TRANSACTION = 10_000
#: Tables the bulk part fills, whose statistics are refreshed before the search cache is built.
BULK_TABLES = (
    "practices",
    "practitioners",
    *AGENDA_TABLES,
    "accounts",
    "patients",
    "appointments",
    "appointment_events",
    "practitioner_busy",
)
#: Tables loaded with their exclusion constraints, foreign keys and plain indexes off (rebuilt and
#: checked after: :func:`colloque.storage.bulk.constraints_deferred`).
DEFERRED_TABLES = ("patients", "appointments", "appointment_events", "practitioner_busy")
#: Concurrent writer threads on PostgreSQL.
WRITERS = 2


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What was generated. Counts are of the whole tables after generation."""

    seed: int
    now: datetime
    showcase_practice_id: UUID
    #: Patient first, then secretary, practitioner and practice admin.
    logins: tuple[DemoLogin, ...]
    practices: int
    practitioners: int
    agendas: int
    accounts: int
    patients: int
    appointments: int
    appointment_events: int
    cached_slots: int


def _silent(stage: str, done: int, total: int) -> None:
    return None


def _rng(seed: int, stage: str) -> random.Random:
    # A str seed is hashed with SHA-512: stable across runs and Python processes.
    return random.Random(f"colloque-demo/{seed}/{stage}")  # noqa: S311 - demo data, not secrets


def _id_factory(rng: random.Random) -> Callable[[], UUID]:
    def new_id() -> UUID:
        return UUID(int=rng.getrandbits(128), version=4)

    return new_id


def generate_demo(
    db: Database,
    *,
    seed: int,
    practitioners: int,
    patients: int,
    appointments: int,
    now: datetime,
    progress: Progress | None = None,
    canary_key: bytes | None = None,
) -> DemoSummary:
    """Fill an empty, migrated database with demo data.

    ``practitioners``, ``patients`` (account holders; about a third also manage relatives) and
    ``appointments`` are the bulk amounts; the showcase practice adds its three practitioners,
    four demo accounts, a family of three and a dozen appointments on top. Appointments go where
    the agendas have room: if more are asked for than fit in about 60% of the open time between
    60 days ago and 60 days ahead, fewer are made. ``progress(stage, done, total)`` is called as
    the work advances. With ``canary_key`` (the server's ``canary_tag``), every practice gets its
    decoy records (``containment.canaries``), as a real one does.

    On PostgreSQL, patients and appointments are loaded with their exclusion constraints, foreign
    keys and plain indexes off, rebuilt and checked after (:data:`DEFERRED_TABLES`): nothing else
    may write to the database meanwhile.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if min(practitioners, patients, appointments) < 0:
        raise ValueError("counts must not be negative")
    if appointments and not patients:
        raise ValueError("appointments need patients")
    now = now.astimezone(UTC)
    report = progress or _silent

    report(STAGE_SHOWCASE, 0, 1)
    showcase = build_showcase(db, new_id=_id_factory(_rng(seed, "showcase")), now=now)
    report(STAGE_SHOWCASE, 1, 1)

    network_rng = _rng(seed, "network")
    network_ids = _id_factory(network_rng)
    today = now.date()
    network = plan_network(
        network_rng,
        network_ids,
        practitioners=practitioners,
        now=now,
        today=today,
        window=(today - timedelta(days=PAST_DAYS + 1), today + timedelta(days=121)),
    )
    _write_network(db, network_ids, network, report)

    with constraints_deferred(
        db, DEFERRED_TABLES, report=lambda done, n: report(STAGE_CONSTRAINTS, done, n)
    ):
        pool = PatientPool(ids=[], holders=[], children=[], women=[])
        patient_rng = _rng(seed, "patients")
        report(STAGE_PATIENTS, 0, patients)
        done = 0
        for batch in patient_batches(
            patient_rng,
            _id_factory(patient_rng),
            holders=patients,
            now=now,
            batch_size=ACCOUNTS_PER_TRANSACTION,
            pool=pool,
        ):
            with db.write() as session:
                insert_rows(session, "accounts", batch.accounts)
                insert_rows(session, "patients", batch.patients)
            done += len(batch.accounts)
            report(STAGE_PATIENTS, done, patients)

        agendas = [*showcase.agendas, *network.agendas]
        secretaries = {**network.secretaries, showcase.practice_id: showcase.secretary_account_id}
        fill_rng = _rng(seed, "appointments")
        _fill(
            db,
            agendas=agendas,
            total=appointments,
            busy=_showcase_busy(db, showcase.practice_id, showcase.agendas),
            now=now,
            rng=fill_rng,
            writer=AppointmentWriter(
                rng=fill_rng,
                new_id=_id_factory(fill_rng),
                now=now,
                patients=pool,
                secretaries=secretaries,
            ),
            report=report,
        )
    if canary_key is not None:
        with db.write() as session:
            for practice_id in sorted({agenda.practice_id for agenda in agendas}):
                do_plant_canaries(session, now=now, practice_id=practice_id, key=canary_key)
    with db.write() as session:
        analyze(session, BULK_TABLES)
    keys = [(a.practice_id, a.practitioner_id) for a in agendas]
    refresh_search_cache(db, keys, now=now, report=lambda done, n: report(STAGE_SEARCH, done, n))
    return _summary(
        db, seed=seed, now=now, practice_id=showcase.practice_id, logins=showcase.logins
    )


def _write_network(
    db: Database, new_id: Callable[[], UUID], network: Network, report: Progress
) -> None:
    practices, agendas = network.practices, network.agendas
    total = len(practices) + len(agendas)
    report(STAGE_PRACTICES, 0, total)
    with db.write() as session:
        insert_rows(session, "practices", practices)
        insert_rows(session, "accounts", network.accounts)
        insert_rows(session, "practice_members", network.members)
        insert_rows(session, "practitioners", network.practitioners)
    report(STAGE_PRACTICES, len(practices), total)
    city_keys = {row["practice_id"]: row["city_key"] for row in practices}
    for offset in range(0, len(agendas), AGENDAS_PER_TRANSACTION):
        chunk = agendas[offset : offset + AGENDAS_PER_TRANSACTION]
        rows: dict[str, list[Row]] = {name: [] for name in AGENDA_TABLES}
        for plan in chunk:
            agenda_tables = agenda_rows(plan, new_id, city_key=city_keys[plan.practice_id])
            for name, agenda_table_rows in agenda_tables.items():
                rows[name].extend(agenda_table_rows)
        with db.write() as session:
            for name in AGENDA_TABLES:
                insert_rows(session, name, rows[name])
        report(STAGE_PRACTICES, len(practices) + offset + len(chunk), total)


def _window(plan: AgendaPlan, now: datetime) -> tuple[date, date]:
    tz = ZoneInfo(plan.timezone)
    ahead = min(FUTURE_DAYS, plan.rules.horizon_days)
    return (
        (now - timedelta(days=PAST_DAYS)).astimezone(tz).date(),
        (now + timedelta(days=ahead)).astimezone(tz).date(),
    )


def _showcase_busy(
    db: Database, practice_id: UUID, agendas: Sequence[AgendaPlan]
) -> dict[UUID, dict[date, list[Piece]]]:
    """The showcase appointments' time, as local days and minutes, by practitioner."""
    busy: dict[UUID, dict[date, list[Piece]]] = {a.practitioner_id: {} for a in agendas}
    zones = {a.practitioner_id: ZoneInfo(a.timezone) for a in agendas}
    with db.read() as session:
        rows = session.execute(
            select(
                Appointment.practitioner_id, Appointment.starts_at, Appointment.blocked_until
            ).where(Appointment.practice_id == practice_id)
        )
        for practitioner_id, starts_at, blocked_until in rows:
            local = starts_at.astimezone(zones[practitioner_id])
            start = local.hour * 60 + local.minute
            length = int((blocked_until - starts_at).total_seconds() // 60)
            busy[practitioner_id].setdefault(local.date(), []).append((start, start + length))
    return busy


def _fill(
    db: Database,
    *,
    agendas: Sequence[AgendaPlan],
    total: int,
    busy: dict[UUID, dict[date, list[Piece]]],
    now: datetime,
    rng: random.Random,
    writer: AppointmentWriter,
    report: Progress,
) -> None:
    """Share ``total`` appointments between agendas by open time and popularity; what an agenda
    cannot take goes to the next one."""
    report(STAGE_APPOINTMENTS, 0, total)
    if total == 0:
        return
    weights = [a.weekly_open_minutes() / a.mean_duration() * a.popularity for a in agendas]
    weight_sum = sum(weights) or 1.0
    cumulative = 0.0
    shared = 0
    carry = 0
    made = 0
    appointments: list[Row] = []
    events: list[Row] = []
    # Writer threads: the database takes batches in while the next one is generated. SQLite has
    # one writer at a time; PostgreSQL checks constraints and indexes with one core per writer.
    writers = 1 if db.is_sqlite else WRITERS
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="demo-writer") as pool:
        pending: deque[Future[int]] = deque()

        def flush() -> None:
            nonlocal made, appointments, events
            while len(pending) >= writers:
                made += pending.popleft().result()
                report(STAGE_APPOINTMENTS, made, total)
            pending.append(pool.submit(_write_appointments, db, appointments, events))
            appointments, events = [], []

        for plan, weight in zip(agendas, weights, strict=True):
            cumulative += weight
            share = round(total * cumulative / weight_sum) - shared
            shared += share
            wanted = share + carry
            grid = AgendaGrid(plan, *_window(plan, now))
            room = int(grid.capacity * MAX_FILL)
            taken = busy.setdefault(plan.practitioner_id, {})
            placed = grid.place(rng, min(wanted, room), taken) if wanted > 0 else []
            carry = wanted - len(placed)
            new_appointments, new_events = writer.rows(plan, placed)
            appointments.extend(new_appointments)
            events.extend(new_events)
            if len(appointments) >= APPOINTMENTS_PER_TRANSACTION:
                flush()
        flush()
        while pending:
            made += pending.popleft().result()
    # Fewer than asked when the agendas are full: end the bar at what was made.
    report(STAGE_APPOINTMENTS, made, made)


def _write_appointments(db: Database, appointments: list[Row], events: list[Row]) -> int:
    with db.write() as session:
        insert_rows(session, "appointments", appointments)
        insert_rows(session, "appointment_events", events)
        # The busy ledger holds the active ones (booking/ledger.py); the filler already kept one
        # practitioner's appointments apart across their practices.
        insert_rows(
            session,
            "practitioner_busy",
            [
                {
                    "practitioner_id": row["practitioner_id"],
                    "appointment_id": row["appointment_id"],
                    "practice_id": row["practice_id"],
                    "starts_at": row["starts_at"],
                    "blocked_until": row["blocked_until"],
                }
                for row in appointments
                if row["status"] in ACTIVE_STATUSES
            ],
        )
    return len(appointments)


def _summary(
    db: Database, *, seed: int, now: datetime, practice_id: UUID, logins: tuple[DemoLogin, ...]
) -> DemoSummary:
    with db.read() as session:

        def count(name: str) -> int:
            return session.scalar(select(func.count()).select_from(table(name))) or 0

        return DemoSummary(
            seed=seed,
            now=now,
            showcase_practice_id=practice_id,
            logins=logins,
            practices=count("practices"),
            practitioners=count("practitioners"),
            agendas=count("practice_practitioners"),
            accounts=count("accounts"),
            patients=count("patients"),
            appointments=count("appointments"),
            appointment_events=count("appointment_events"),
            cached_slots=count("next_slots"),
        )
