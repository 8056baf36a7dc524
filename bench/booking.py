"""Booking throughput over HTTP on PostgreSQL, against pgbench running the same SQL transaction.

    uv run python -m bench.booking [--seconds 20] [--connections 32] [--workers 2] [--no-delivery]

Concurrent clients (wrk) book distinct free slots through `POST /api/v1/appointments` on a real
`colloque serve`. Then pgbench runs the statements that one booking request sends (principal
lookup, agenda version, patient, nearby time, patient history, cache delete, and the inserts of the
appointment, its history event, its audit event and its outbox message) on the same database, with
the same client count. The ratio says how much of PostgreSQL's capacity the Python side reaches.

The outbox's cost, two ways. pgbench runs the transaction again without the outbox row: the ratio is
what the row costs the database. And the HTTP run is repeated with the server's in-process outbox
worker delivering every confirmation to an SMTP server on loopback (aiosmtpd, in this process,
accepting everything): the ratio is what sending costs the booking path on the same cores
(``--no-delivery`` skips that run).
"""

from __future__ import annotations

import argparse
import random
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text

from bench.harness import (
    machine,
    postgres_version,
    recreate_database,
    run_pgbench,
    run_wrk,
    server,
)
from bench.outbox import Sink
from colloque.accounts.services import do_create_account, do_issue_token, principal_for_account
from colloque.notifications.models import OutboxMessage
from colloque.patients.services import Relationship, do_add_patient
from colloque.scheduling.domain import PatientKind
from colloque.scheduling.services import (
    AgendaRulesInput,
    do_add_practitioner,
    do_create_practice,
    do_update_practice_settings,
)
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_opening_range, do_add_visit_type
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.server import free_port

DATABASE = "colloque_bench_booking"
PRACTICES = 20
PER_PRACTICE = 5
PATIENTS = 2_000
SLOT_MINUTES = 10
OPEN_FROM, OPEN_UNTIL = 7 * 60, 21 * 60
PARIS = ZoneInfo("Europe/Paris")

LUA = """
local counter = 0
threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  lines = {}
  for line in io.lines("%(prefix)s." .. id .. ".tsv") do table.insert(lines, line) end
  i = 0
  c201 = 0; c409 = 0; c422 = 0; c404 = 0; c401 = 0; c500 = 0
end
function request()
  i = i + 1
  local line = lines[((i - 1) %% #lines) + 1]
  local tab = string.find(line, "\\t")
  return wrk.format("POST", "/api/v1/appointments",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. string.sub(line, 1, tab - 1)},
    string.sub(line, tab + 1))
end
function response(status, headers, body)
  if status == 201 then c201 = c201 + 1
  elseif status == 409 then c409 = c409 + 1
  elseif status == 422 then c422 = c422 + 1
  elseif status == 404 then c404 = c404 + 1
  elseif status == 401 then c401 = c401 + 1
  else c500 = c500 + 1 end
end
"""

PGBENCH = """
\\set a random(1, %(agendas)d)
\\set q random(1, %(patients)d)
\\set n random(1, 1000000000)
SELECT practice_id, practitioner_id, visit_type_id FROM bench_agendas WHERE idx = :a \\gset
SELECT patient_id, account_id, encode(token_hash, 'hex') AS token_hex FROM bench_patients WHERE idx = :q \\gset
SELECT account_id, expires_at FROM access_tokens WHERE token_hash = decode(':token_hex', 'hex');
SELECT * FROM accounts WHERE account_id = ':account_id';
SELECT * FROM practice_members WHERE account_id = ':account_id';
BEGIN;
SELECT * FROM patients WHERE patient_id = ':patient_id';
SELECT agenda_version FROM practice_practitioners
  WHERE practice_id = ':practice_id' AND practitioner_id = ':practitioner_id';
SELECT appointment_id, specialty, status, starts_at, ends_at FROM appointments
  WHERE patient_id = ':patient_id' AND (specialty = 'general_practice' OR practitioner_id = ':practitioner_id');
SELECT practice_id, appointment_id, starts_at, blocked_until, status, hold_expires_at FROM appointments
  WHERE practice_id IN (':practice_id') AND practitioner_id = ':practitioner_id'
    AND starts_at < timestamptz '2040-01-01' + :n * interval '10 minutes' + interval '40 hours'
    AND blocked_until > timestamptz '2040-01-01' + :n * interval '10 minutes' - interval '40 hours'
    AND status IN ('held', 'booked');
DELETE FROM next_slots WHERE practice_id IN (':practice_id') AND practitioner_id = ':practitioner_id'
  AND starts_at < timestamptz '2040-01-01' + :n * interval '10 minutes' + interval '10 minutes'
  AND blocked_until > timestamptz '2040-01-01' + :n * interval '10 minutes';
INSERT INTO appointments (practice_id, appointment_id, practitioner_id, patient_id,
  booked_by_account_id, specialty, starts_at, ends_at, blocked_until, status, source, created_at, updated_at)
  VALUES (':practice_id', gen_random_uuid(), ':practitioner_id', ':patient_id', ':account_id',
  'general_practice', timestamptz '2040-01-01' + :n * interval '10 minutes',
  timestamptz '2040-01-01' + :n * interval '10 minutes' + interval '10 minutes',
  timestamptz '2040-01-01' + :n * interval '10 minutes' + interval '10 minutes', 'booked', 'online', now(), now());
INSERT INTO appointment_events (practice_id, event_id, appointment_id, at, kind, actor_account_id, actor_role,
  new_starts_at) SELECT ':practice_id', gen_random_uuid(), appointment_id, now(), 'booked', ':account_id', 'patient',
  starts_at FROM appointments WHERE practice_id = ':practice_id' AND practitioner_id = ':practitioner_id'
  AND starts_at = timestamptz '2040-01-01' + :n * interval '10 minutes' AND status = 'booked';
INSERT INTO audit_events (event_id, at, action, actor_account_id, actor_role, practice_id, subject_id,
  object_kind, object_id) VALUES (gen_random_uuid(), now(), 'booking:appointment:book', ':account_id', 'patient',
  ':practice_id', ':patient_id', 'appointment', gen_random_uuid());
%(outbox)sEND;
"""

OUTBOX_ROW = """INSERT INTO outbox_messages (practice_id, message_id, created_at, template, appointment_id, patient_id,
  event_id, status, attempts, due_at) VALUES (':practice_id', gen_random_uuid(), now(), 'appointment_confirmed',
  gen_random_uuid(), ':patient_id', gen_random_uuid(), 'pending', 0, now());
"""


def build(url: str, now: datetime) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Agendas (practice, practitioner, visit type) and patients (token, patient id)."""
    upgrade(url)
    database = Database(url)
    agendas: list[tuple[str, str, str]] = []
    patients: list[tuple[str, str]] = []
    with database.write() as session:
        owner = do_create_account(session, now=now, display_name="Bench admin")
        rows = []
        for p in range(PRACTICES):
            principal = principal_for_account(session, owner)
            practice = do_create_practice(
                session,
                now=now,
                principal=principal,
                name=f"Bench {p}",
                address="1 rue du Banc",
                postcode="75011",
                city="Paris",
                latitude=48.859,
                longitude=2.38,
            )
            principal = principal_for_account(session, owner)
            do_update_practice_settings(
                session,
                now=now,
                principal=principal,
                practice_id=practice.practice_id,
                anti_hoarding_days=0,
            )
            for k in range(PER_PRACTICE):
                practitioner = do_add_practitioner(
                    session,
                    now=now,
                    principal=principal,
                    practice_id=practice.practice_id,
                    first_name=f"Bench{k}",
                    last_name=f"Doctor{p}",
                    specialty=Specialty.GENERAL_PRACTICE,
                    rules=AgendaRulesInput(
                        slot_step_minutes=SLOT_MINUTES, min_notice_minutes=0, max_horizon_days=365
                    ),
                )
                visit_type = do_add_visit_type(
                    session,
                    now=now,
                    principal=principal,
                    practice_id=practice.practice_id,
                    practitioner_id=practitioner.practitioner_id,
                    label="Consultation",
                    duration_minutes=SLOT_MINUTES,
                    patient_kind=PatientKind.ANY,
                )
                session.flush()
                for weekday in range(7):
                    do_add_opening_range(
                        session,
                        now=now,
                        principal=principal,
                        practice_id=practice.practice_id,
                        practitioner_id=practitioner.practitioner_id,
                        weekday=weekday,
                        start_minute=OPEN_FROM,
                        end_minute=OPEN_UNTIL,
                        visit_type_ids=[visit_type.visit_type_id],
                    )
                agendas.append(
                    (
                        str(practice.practice_id),
                        str(practitioner.practitioner_id),
                        str(visit_type.visit_type_id),
                    )
                )
        for index in range(PATIENTS):
            account = do_create_account(
                session,
                now=now,
                display_name=f"Patient {index}",
                email=f"patient{index}@bench.colloque.test",
            )
            token = do_issue_token(
                session, now=now, account_id=account.account_id, lifetime=timedelta(days=30)
            )
            patient = do_add_patient(
                session,
                now=now,
                principal=principal_for_account(session, account),
                first_name="Bench",
                last_name=f"Patient{index}",
                birth_date=date(1980, 1, 1),
                relationship=Relationship.SELF,
            )
            patients.append((token, str(patient.patient_id)))
            rows.append((index + 1, str(patient.patient_id), str(account.account_id), token))
        session.execute(
            text(
                "CREATE TABLE bench_agendas (idx int primary key, practice_id uuid, practitioner_id uuid, visit_type_id uuid)"
            )
        )
        session.execute(
            text(
                "CREATE TABLE bench_patients (idx int primary key, patient_id uuid, account_id uuid, token_hash bytea)"
            )
        )
        session.execute(
            text("INSERT INTO bench_agendas VALUES (:i, :p, :r, :v)"),
            [{"i": i + 1, "p": p, "r": r, "v": v} for i, (p, r, v) in enumerate(agendas)],
        )
        session.execute(
            text("INSERT INTO bench_patients VALUES (:i, :p, :a, sha256(convert_to(:t, 'UTF8')))"),
            [{"i": i, "p": p, "a": a, "t": t} for i, p, a, t in rows],
        )
    database.dispose()
    return agendas, patients


def write_requests(
    prefixes: list[tuple[Path, int]],
    agendas: list[tuple[str, str, str]],
    patients: list[tuple[str, str]],
    *,
    threads: int,
    count: int,
    now: datetime,
) -> None:
    """Distinct free slots, spread over agendas and days, split between runs (prefix, share of
    ``count``) and between the wrk threads of each run. No slot is requested twice."""
    rng = random.Random(7)
    start_day = (now.astimezone(PARIS) + timedelta(days=1)).date()
    per_day = (OPEN_UNTIL - OPEN_FROM) // SLOT_MINUTES
    lines: list[str] = []
    for n in range(count):
        agenda = agendas[n % len(agendas)]
        slot = n // len(agendas)
        day = start_day + timedelta(days=slot // per_day)
        minute = OPEN_FROM + (slot % per_day) * SLOT_MINUTES
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=PARIS)
        token, patient_id = patients[rng.randrange(len(patients))]
        body = (
            f'{{"practice_id":"{agenda[0]}","practitioner_id":"{agenda[1]}","duration_minutes":{SLOT_MINUTES},'
            f'"patient_id":"{patient_id}","starts_at":"{local.astimezone(UTC).isoformat()}"}}'
        )
        lines.append(f"{token}\t{body}")
    rng.shuffle(lines)
    offset = 0
    for prefix, share in prefixes:
        run = lines[offset : offset + share]
        offset += share
        for t in range(threads):
            prefix.with_name(f"{prefix.name}.{t}.tsv").write_text("\n".join(run[t::threads]) + "\n")


def _sent(url: str) -> tuple[int, int]:
    """Outbox rows sent, and all of them."""
    database = Database(url)
    with database.read() as session:
        sent = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
        )
        total = session.scalar(select(func.count()).select_from(OutboxMessage))
    database.dispose()
    return sent or 0, total or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-delivery", action="store_true")
    args = parser.parse_args()

    now = datetime.now(UTC)
    url = recreate_database(DATABASE)
    agendas, patients = build(url, now)
    budget = 3_000 * (args.seconds + 10)
    with tempfile.TemporaryDirectory() as directory:
        prefix = Path(directory) / "bookings"
        delivering = Path(directory) / "delivering"
        warmup = Path(directory) / "warmup"
        write_requests(
            [(warmup, 10_000), (prefix, budget), (delivering, budget)],
            agendas,
            patients,
            threads=args.threads,
            count=2 * budget + 10_000,
            now=now,
        )
        with server(url, workers=args.workers) as base:
            run_wrk(
                base, LUA % {"prefix": warmup}, connections=4, threads=1, seconds=3, label="warm-up"
            )
            http = run_wrk(
                base,
                LUA % {"prefix": prefix},
                connections=args.connections,
                threads=args.threads,
                seconds=args.seconds,
                label="booking",
            )
        delivered = None
        if not args.no_delivery:
            sink = Sink()
            smtp_port = free_port()
            controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
            controller.start()
            sent_before, _ = _sent(url)
            settings = {
                "COLLOQUE_RUN_OUTBOX_WORKER": "true",
                "COLLOQUE_MAIL_BACKEND": "smtp",
                "COLLOQUE_SMTP_HOST": "127.0.0.1",
                "COLLOQUE_SMTP_PORT": str(smtp_port),
                "COLLOQUE_SMTP_STARTTLS": "false",
                "COLLOQUE_OUTBOX_INTERVAL_SECONDS": "0.5",
            }
            try:
                with server(url, workers=args.workers, settings=settings) as base:
                    delivered = run_wrk(
                        base,
                        LUA % {"prefix": delivering},
                        connections=args.connections,
                        threads=args.threads,
                        seconds=args.seconds,
                        label="booking while delivering",
                    )
                    received = sink.received
                    sent_after, total = _sent(url)
            finally:
                controller.stop()
    outbox = {"agendas": len(agendas), "patients": len(patients)}
    tps = run_pgbench(
        url,
        PGBENCH % {**outbox, "outbox": OUTBOX_ROW},
        clients=args.connections,
        threads=args.threads,
        seconds=args.seconds,
    )
    bare_tps = run_pgbench(
        url,
        PGBENCH % {**outbox, "outbox": ""},
        clients=args.connections,
        threads=args.threads,
        seconds=args.seconds,
    )
    print(f"machine: {machine()}; PostgreSQL {postgres_version()}")
    print(
        f"HTTP booking: {args.connections} connections, {args.workers} server workers, {args.seconds} s"
    )
    print(
        f"  bookings/s {http.requests_per_second:.0f}  p50 {http.p50_ms:.1f} ms  p95 {http.p95_ms:.1f} ms  p99 {http.p99_ms:.1f} ms"
    )
    print(f"  statuses {http.statuses}")
    if delivered is not None:
        print("HTTP booking while the in-process outbox worker delivers to loopback SMTP:")
        print(
            f"  bookings/s {delivered.requests_per_second:.0f}  p50 {delivered.p50_ms:.1f} ms  p95 {delivered.p95_ms:.1f} ms"
        )
        print(
            f"  during the run: SMTP received {received} messages, {sent_after - sent_before} recorded"
            f" sent; {total} queued in all (both runs)"
        )
        print(
            f"  ratio delivering / not: {delivered.requests_per_second / http.requests_per_second:.2f}"
        )
    print(f"pgbench, same SQL transaction, {args.connections} clients: {tps:.0f} tps")
    print(f"pgbench, the same without the outbox row: {bare_tps:.0f} tps")
    print(f"ratio HTTP / pgbench: {http.requests_per_second / tps:.2f}")
    print(f"ratio pgbench with / without the outbox row: {tps / bare_tps:.2f}")


if __name__ == "__main__":
    main()
