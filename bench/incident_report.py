"""`colloque incident report` over 10 million audit events:
`uv run python -m bench.incident_report [EVENTS] [SUSPECT_EVENTS]`.

Builds (or reuses, when it holds EVENTS events already) the PostgreSQL database
``colloque_bench_incident``: one practice from the test factories with 100,000 bulk-inserted
appointments of 10,000 registry patients, and EVENTS audit events loaded with COPY (the indexes
are created after the load, as a restore would). The events spread over 30 days, 100,000
credentials, 2,000 practices' logs and a pool of packed ``objects`` (an appointment and its
patient each). SUSPECT_EVENTS of them (default 3,000) belong to one stolen credential, spread over
the same 30 days: detail reads naming one real appointment and its patient, and one in ten an
agenda read naming 20, and one in fifty a refused probe.

Then it times, in subprocesses as an operator runs them, ``colloque incident report
--credential`` (the target: under 60 s) and ``--prefix`` with a one-hour window, and prints the
figures as one JSON line. Nothing here asserts on time.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
from sqlalchemy import func, insert, select

from bench.harness import (
    database_exists,
    database_url,
    machine,
    postgres_version,
    recreate_database,
)
from colloque.audit.models import AuditEvent
from colloque.audit.objects import ObjectKind, pack
from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.patients.models import Patient, PracticePatient
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.factories import build_world

NAME = "colloque_bench_incident"
DAYS = 30
START = datetime(2026, 10, 1, tzinfo=UTC)
APPOINTMENTS = 100_000
PATIENTS = 10_000
CREDENTIALS = 100_000
PRACTICES = 2_000
OBJECT_POOL = 200_000
BATCH = 200_000
#: The stolen credential (fixed, so that a rerun on the kept database finds it).
SUSPECT = UUID("5ec0de00-0000-4000-8000-00000000bad1")
SUSPECT_PREFIX = "203.0.113.0/24"
#: audit_events' secondary indexes, dropped for the load and made again after it.
INDEXES = {
    "ix_audit_events_practice_at": "practice_id, at",
    "ix_audit_events_subject": "subject_id",
    "ix_audit_events_actor_at": "actor_account_id, at",
    "ix_audit_events_credential_at": "credential_id, at",
    "ix_audit_events_client_prefix_at": "client_prefix, at",
    "ix_audit_events_at": "at",
}
COLUMNS = (
    "event_id, at, action, actor_account_id, actor_role, credential_id, interface, request_id,"
    " client_prefix, practice_id, subject_id, object_kind, object_id, objects, outcome, reason"
)


def _practice(database: Database) -> tuple[UUID, list[tuple[UUID, UUID]]]:
    """The one real practice and its (appointment, patient) pairs."""
    clock = SettableClock(START - timedelta(days=400))
    world = build_world(database, clock)
    now = clock.now()
    patients = [uuid4() for _ in range(PATIENTS)]
    pairs = [(uuid4(), patients[index % PATIENTS]) for index in range(APPOINTMENTS)]
    with database.write() as session:
        session.execute(
            insert(Patient),
            [
                {
                    "patient_id": patient,
                    "relationship": "self",
                    "first_name": f"Prénom{index}",
                    "last_name": f"Nom{index}",
                    "name_key": f"prenom{index} nom{index}",
                    "birth_date": date(1960, 1, 1) + timedelta(days=index),
                    "created_at": now,
                }
                for index, patient in enumerate(patients)
            ],
        )
        session.execute(
            insert(PracticePatient),
            [
                {"practice_id": world.practice_id, "patient_id": patient, "added_at": now}
                for patient in patients
            ],
        )
        first = START - timedelta(days=365)
        for chunk in range(0, APPOINTMENTS, 10_000):
            session.execute(
                insert(Appointment),
                [
                    {
                        "practice_id": world.practice_id,
                        "appointment_id": appointment,
                        "practitioner_id": world.practitioner_id,
                        "patient_id": patient,
                        "specialty": "general_practice",
                        "starts_at": first + index * timedelta(minutes=20),
                        "ends_at": first + (index + 1) * timedelta(minutes=20),
                        "blocked_until": first + (index + 1) * timedelta(minutes=20),
                        "status": "done",
                        "source": "practice",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for index, (appointment, patient) in enumerate(
                        pairs[chunk : chunk + 10_000], start=chunk
                    )
                ],
            )
    return world.practice_id, pairs


def _hex(data: bytes) -> str:
    return "\\\\x" + data.hex()


def _load(url: str, events: int, suspect_events: int) -> dict[str, float]:
    database = Database(url)
    started = time.perf_counter()
    practice_id, pairs = _practice(database)
    database.dispose()
    made_practice = time.perf_counter() - started
    rng = random.Random(7)
    credentials = [uuid4().hex for _ in range(CREDENTIALS)]
    accounts = [uuid4().hex for _ in range(CREDENTIALS // 2)]
    practices = [uuid4().hex for _ in range(PRACTICES - 1)] + [practice_id.hex]
    prefixes = [f"10.{i // 256}.{i % 256}.0/24" for i in range(5_000)]
    pool = []
    for _ in range(OBJECT_POOL):
        appointment, patient = uuid4(), uuid4()
        packed = pack(
            {
                ObjectKind.APPOINTMENT: frozenset({appointment}),
                ObjectKind.PATIENT: frozenset({patient}),
            }
        )
        pool.append(f"{patient.hex}\tappointment\t{appointment.hex}\t{_hex(packed)}")
    step = DAYS * 86_400 / events
    every = max(1, events // suspect_events)
    suspect_account = uuid4().hex
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        for index_name in INDEXES:
            connection.execute(f"DROP INDEX IF EXISTS {index_name}")
        connection.commit()
        loading = time.perf_counter()
        with connection.cursor() as cursor:
            for chunk in range(0, events, BATCH):
                buffer = io.StringIO()
                for index in range(chunk, min(events, chunk + BATCH)):
                    at = datetime.fromtimestamp(START.timestamp() + index * step, UTC).isoformat()
                    if index % every == every // 2:
                        buffer.write(
                            _suspect_row(rng, index, at, practice_id, pairs, suspect_account)
                        )
                        continue
                    practice = rng.choice(practices)
                    buffer.write(
                        f"{uuid4().hex}\t{at}\tbooking:appointment:view\t{rng.choice(accounts)}"
                        f"\tsecretary\t{rng.choice(credentials)}\tapi\t\\N\t{rng.choice(prefixes)}"
                        f"\t{practice}\t{rng.choice(pool)}\tallowed\t\\N\n"
                    )
                with cursor.copy(f"COPY audit_events ({COLUMNS}) FROM STDIN") as copy:
                    copy.write(buffer.getvalue())
                connection.commit()
                print(f"  {min(events, chunk + BATCH):,} events", file=sys.stderr, flush=True)
        loaded = time.perf_counter() - loading
        indexing = time.perf_counter()
        for index_name, columns in INDEXES.items():
            connection.execute(f"CREATE INDEX {index_name} ON audit_events ({columns})")
            connection.commit()
        connection.execute("ANALYZE audit_events")
        connection.commit()
    return {
        "practice_seconds": round(made_practice, 1),
        "copy_seconds": round(loaded, 1),
        "index_seconds": round(time.perf_counter() - indexing, 1),
    }


def _suspect_row(
    rng: random.Random,
    index: int,
    at: str,
    practice_id: UUID,
    pairs: list[tuple[UUID, UUID]],
    account: str,
) -> str:
    kind = index % 50
    if kind == 0:
        probe = uuid4()
        packed = pack({ObjectKind.APPOINTMENT: frozenset({probe})})
        return (
            f"{uuid4().hex}\t{at}\tsecurity:access:denied\t{account}\tsecretary\t{SUSPECT.hex}"
            f"\tapi\t\\N\t{SUSPECT_PREFIX}\t{practice_id.hex}\t\\N\tappointment\t{probe.hex}"
            f"\t{_hex(packed)}\tdenied\tnot-found\n"
        )
    named = rng.sample(pairs, 20 if kind % 10 == 1 else 1)
    packed = pack(
        {
            ObjectKind.APPOINTMENT: frozenset(a for a, _ in named),
            ObjectKind.PATIENT: frozenset(p for _, p in named),
        }
    )
    return (
        f"{uuid4().hex}\t{at}\tbooking:appointment:view\t{account}\tsecretary\t{SUSPECT.hex}"
        f"\tapi\t\\N\t{SUSPECT_PREFIX}\t{practice_id.hex}\t\\N\tappointment\t{named[0][0].hex}"
        f"\t{_hex(packed)}\tallowed\t\\N\n"
    )


def _events(url: str) -> int:
    database = Database(url)
    with database.read() as session:
        count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    database.dispose()
    return int(count)


def _report(url: str, *criteria: str) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "colloque.cli",
                "incident",
                "report",
                *criteria,
                "--output",
                str(Path(scratch) / "report"),
                "--database-url",
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLLOQUE_ENVIRONMENT": "development"},
        )
        return time.perf_counter() - started, result.stdout.splitlines()[0]


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    suspect_events = int(sys.argv[2]) if len(sys.argv) > 2 else 3_000
    url = database_url(NAME)
    loading: dict[str, float] = {}
    if not database_exists(NAME) or _events(url) != events:
        url = recreate_database(NAME)
        upgrade(url)
        loading = _load(url, events, suspect_events)
    hour = START + timedelta(days=DAYS // 2)
    by_credential, credential_summary = _report(url, "--credential", str(SUSPECT))
    by_prefix, prefix_summary = _report(
        url,
        "--prefix",
        SUSPECT_PREFIX,
        "--since",
        hour.isoformat(),
        "--until",
        (hour + timedelta(hours=1)).isoformat(),
    )
    window, window_summary = _report(
        url, "--since", hour.isoformat(), "--until", (hour + timedelta(hours=1)).isoformat()
    )
    print(
        json.dumps(
            {
                "machine": machine(),
                "postgres": postgres_version(),
                "load_average": os.getloadavg()[0],
                "events": events,
                "suspect_events": suspect_events,
                **loading,
                "report_by_credential_seconds": round(by_credential, 2),
                "report_by_credential": credential_summary,
                "report_by_prefix_hour_seconds": round(by_prefix, 2),
                "report_by_prefix_hour": prefix_summary,
                "report_by_hour_seconds": round(window, 2),
                "report_by_hour": window_summary,
            }
        )
    )


if __name__ == "__main__":
    main()
