"""Exactly once from the recipient's view: the worker, a real process, is killed with SIGKILL in
the middle of a batch and restarted; a real SMTP server and a real HTTP SMS provider stand-in on
loopback count what arrived.

Every message arrives. A message can arrive twice only if the worker died after the SMTP server
accepted it and before its result was written: then both copies carry the same Message-ID, which
the recipient's mail system keeps as one message (docs/notifications.md, "Exactly once").
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from email import message_from_bytes
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from colloque.booking.rules import Source
from colloque.clock import SettableClock, SystemClock
from colloque.notifications.models import OutboxMessage
from colloque.notifications.services import Template, enqueue
from colloque.patients.registry import do_register_patient
from colloque.storage.engine import Database
from tests.factories import World, book
from tests.server import free_port
from tests.sms import running_provider

PARIS = ZoneInfo("Europe/Paris")
MESSAGES = 40
SMS = 30
BATCH = 10


class SlowInbox:
    """Takes 50 ms per message, like a real server, so that a kill lands in the middle."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        await asyncio.sleep(0.05)
        self.message_ids.append(str(message_from_bytes(envelope.content)["Message-ID"]))
        return "250 OK"


@pytest.fixture
def slow_inbox() -> Iterator[tuple[SlowInbox, int]]:
    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _worker(db: Database, port: int, tmp_path: Path, **extra: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "COLLOQUE_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "COLLOQUE_DATA_DIR": str(tmp_path / "data"),
        "COLLOQUE_MAIL_BACKEND": "smtp",
        "COLLOQUE_SMTP_HOST": "127.0.0.1",
        "COLLOQUE_SMTP_PORT": str(port),
        "COLLOQUE_MAIL_DOMAIN": "mail.colloque.test",
        "COLLOQUE_OUTBOX_BATCH": str(BATCH),
        "COLLOQUE_OUTBOX_LEASE_SECONDS": "1",
        "COLLOQUE_OUTBOX_INTERVAL_SECONDS": "0.2",
        "COLLOQUE_REFRESH_INTERVAL_SECONDS": "60",
        **extra,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "colloque.cli", "worker"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _soon(clock: SettableClock) -> datetime:
    """A weekday 10:00 in Paris two to four days from now, the clock set to now: the worker
    process reads the system clock, and says nothing about appointments already begun."""
    now = SystemClock().now()
    clock.set(now)
    day = (now + timedelta(days=2)).astimezone(PARIS).date()
    while day.weekday() > 4:
        day += timedelta(days=1)
    return datetime.combine(day, clock_time(10, 0), tzinfo=PARIS).astimezone(UTC)


def _wait_for(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_worker_killed_mid_batch_and_restarted_delivers_each_message_once(
    db: Database,
    clock: SettableClock,
    world: World,
    slow_inbox: tuple[SlowInbox, int],
    tmp_path: Path,
) -> None:
    inbox, port = slow_inbox
    appointment = book(db, clock, world, _soon(clock))
    with db.write() as session:
        # Forty more messages about the appointment (each a distinct row, as forty changes are).
        expected = {
            enqueue(
                session,
                at=clock.now(),
                practice_id=world.practice_id,
                template=Template.APPOINTMENT_CONFIRMED,
                patient_id=appointment.patient_id,
                appointment_id=appointment.appointment_id,
            )
            for _ in range(MESSAGES - 1)
        }
        expected |= set(
            session.scalars(
                select(OutboxMessage.message_id).where(OutboxMessage.message_id.not_in(expected))
            )
        )
    assert len(expected) == MESSAGES

    first = _worker(db, port, tmp_path)
    try:
        # Killed mid-batch: some of the first batch received, not all of it.
        _wait_for(lambda: len(inbox.message_ids) >= BATCH // 2)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    received_before_restart = len(inbox.message_ids)
    assert received_before_restart < MESSAGES

    second = _worker(db, port, tmp_path)
    try:
        _wait_for(lambda: len(set(inbox.message_ids)) >= MESSAGES)
        _wait_for(lambda: _pending(db) == 0)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)

    wanted = {f"<{message_id}@mail.colloque.test>" for message_id in expected}
    counts = Counter(inbox.message_ids)
    assert set(counts) == wanted
    # At most the one message in flight when the kill came went twice, with one Message-ID.
    twice = [m for m, n in counts.items() if n > 1]
    assert len(twice) <= 1
    assert max(counts.values()) <= 2


def _pending(db: Database) -> int:
    with db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending")
            )
            or 0
        )


def test_sms_after_a_kill_mid_batch_are_sent_once_by_the_provider(
    db: Database,
    clock: SettableClock,
    world: World,
    slow_inbox: tuple[SlowInbox, int],
    tmp_path: Path,
) -> None:
    """The same with a patient who has only a phone: the provider stand-in (a real HTTP server)
    sends once per idempotency key, which the retried request repeats."""
    inbox, port = slow_inbox
    with db.write() as session:
        registered = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            first_name="Paul",
            last_name="Durand",
            birth_date=date(1950, 1, 1),
            phone="+33612345678",
        )
    appointment = book(
        db,
        clock,
        world,
        _soon(clock),
        person=world.secretary,
        patient_id=registered.patient.patient_id,
        source=Source.PRACTICE,
    )
    with db.write() as session:
        for _ in range(SMS - 1):
            enqueue(
                session,
                at=clock.now(),
                practice_id=world.practice_id,
                template=Template.APPOINTMENT_MOVED,
                patient_id=appointment.patient_id,
                appointment_id=appointment.appointment_id,
            )
        expected = {
            f"colloque-{message_id}"
            for message_id in session.scalars(select(OutboxMessage.message_id))
        }
    with running_provider(delay=0.05) as provider:
        sms = {
            "COLLOQUE_SMS_BACKEND": "http",
            "COLLOQUE_SMS_PROVIDER_URL": provider.url,
            "COLLOQUE_SMS_PROVIDER_TOKEN": provider.token,
        }
        first = _worker(db, port, tmp_path, **sms)
        try:
            _wait_for(lambda: len(provider.sent) >= BATCH // 2)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        assert len(provider.sent) < SMS
        second = _worker(db, port, tmp_path, **sms)
        try:
            _wait_for(lambda: _pending(db) == 0)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=10)
    assert inbox.message_ids == []
    sent_keys = [key for _, _, key in provider.sent]
    assert sorted(sent_keys) == sorted(expected)  # each SMS sent once
    repeated = [key for key, n in Counter(provider.requests).items() if n > 1]
    assert len(repeated) <= 1  # at most the request in flight at the kill, sent once all the same
