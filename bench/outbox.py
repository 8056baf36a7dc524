"""Outbox throughput to a loopback SMTP server: `uv run python -m bench.outbox [MESSAGES] [ROUNDS]`.

Each round queues MESSAGES appointment confirmations (the outbox rows a booking writes) and times
the worker's delivery of all of them: claims in batches of 50, each message read and rendered from
current data (Jinja2, Babel, the .ics), sent over one SMTP connection per batch, and its result
written. Against it, in the same round, aiosmtplib sends the same messages, already composed,
over one connection: the floor set by SMTP itself. The server is aiosmtpd on loopback, accepting
everything. On a SQLite file and on PostgreSQL (when reachable).

Nothing here asserts on time; it prints medians of messages per second.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from bench.harness import machine, postgres_version, recreate_database
from colloque.clock import SettableClock
from colloque.delivery.channels import Channels
from colloque.delivery.compose import MailConfig, compose
from colloque.delivery.outbox import OutboxDelivery, RetryPolicy
from colloque.notifications.mail import SmtpMailSender
from colloque.notifications.mail import compose as compose_bytes
from colloque.notifications.models import OutboxMessage
from colloque.notifications.services import Template, enqueue
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.factories import book, build_world
from tests.server import free_port

SENDER = "Colloque <noreply@colloque.test>"
MAIL = MailConfig(domain="mail.colloque.test", public_url="https://colloque.test")
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


class Sink:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.received += 1
        return "250 OK"


def _prepare(database: Database, clock: SettableClock, messages: int) -> None:
    world = build_world(database, clock)
    appointment = book(database, clock, world, T0 + timedelta(days=1, hours=1))
    with database.write() as session:
        for _ in range(messages - 1):
            enqueue(
                session,
                at=clock.now(),
                practice_id=world.practice_id,
                template=Template.APPOINTMENT_CONFIRMED,
                patient_id=appointment.patient_id,
                appointment_id=appointment.appointment_id,
            )


def _reset(database: Database, clock: SettableClock) -> None:
    with database.write() as session:
        session.execute(
            update(OutboxMessage).values(
                status="pending", attempts=0, due_at=clock.now(), sent_at=None, leased_until=None
            )
        )


def _composed(database: Database) -> list[bytes]:
    with database.read() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        return [
            compose_bytes(mail, sender=SENDER, at=T0)
            for mail in (compose(session, row, MAIL, now=T0).mail for row in rows)
            if mail is not None
        ]


async def _direct(port: int, messages: list[bytes]) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
    await client.connect()
    for raw in messages:
        await client.sendmail("noreply@colloque.test", ["holder.hugo@example.test"], raw)
    await client.quit()


def run(label: str, database: Database, messages: int, rounds: int) -> None:
    clock = SettableClock(T0)
    _prepare(database, clock, messages)
    composed = _composed(database)
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    outbox_rates: list[float] = []
    direct_rates: list[float] = []
    try:
        for _ in range(rounds):
            _reset(database, clock)
            sender = SmtpMailSender(host="127.0.0.1", port=port, sender=SENDER)
            delivery = OutboxDelivery(
                database,
                clock,
                Channels(email=sender),
                mail=MAIL,
                account_mail_key=bytes(32),
                policy=RetryPolicy(batch=50),
                rng=random.Random(1),
            )
            start = time.perf_counter()
            report = delivery.run_until_idle()
            outbox_rates.append(report.sent / (time.perf_counter() - start))
            assert report.sent == messages, report
            start = time.perf_counter()
            asyncio.run(_direct(port, composed))
            direct_rates.append(len(composed) / (time.perf_counter() - start))
    finally:
        controller.stop()
    outbox = statistics.median(outbox_rates)
    direct = statistics.median(direct_rates)
    print(
        f"| {label} | {outbox:.0f} msg/s | {direct:.0f} msg/s | {outbox / direct:.2f} |",
        flush=True,
    )


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print(f"machine: {machine()}; {messages} messages, {rounds} rounds", flush=True)
    print("| database | outbox worker | aiosmtplib direct | ratio |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        upgrade(url)
        database = Database(url)
        run("SQLite file", database, messages, rounds)
        database.dispose()
    try:
        version = postgres_version()
    except Exception as exc:  # no PostgreSQL here: the SQLite figures stand alone
        print(f"PostgreSQL not reachable ({type(exc).__name__}); skipped")
        return
    url = recreate_database("colloque_bench_outbox")
    upgrade(url)
    database = Database(url)
    run(f"PostgreSQL {version}", database, messages, rounds)
    database.dispose()


if __name__ == "__main__":
    main()
