"""Account mail goes through the outbox: written with the change, sealed at rest, sent by the
request's fast lane or, if that fails or the process dies, by the worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID

from fastapi import BackgroundTasks
from sqlalchemy import select

from colloque.accounts.mailing import MailQueue, signup_code
from colloque.clock import SettableClock
from colloque.delivery.channels import Channels
from colloque.delivery.outbox import OutboxDelivery
from colloque.notifications.mail import SmtpMailSender
from colloque.notifications.models import AccountMail
from colloque.server_keys import ServerKeys
from colloque.storage.engine import Database
from tests.functional.notifications.conftest import SECRET_KEY, delivery_for, smtp_to
from tests.server import free_port
from tests.smtp import Inbox

ANA = "ana@example.test"


def _rows(db: Database) -> list[AccountMail]:
    with db.read() as session:
        return list(session.scalars(select(AccountMail).order_by(AccountMail.created_at)))


def _queue(
    db: Database,
    clock: SettableClock,
    *codes: str,
    send_now: Callable[[list[UUID]], object] | None = None,
) -> MailQueue:
    background = BackgroundTasks()
    queue = MailQueue(key=SECRET_KEY, clock=clock, background=background, send_now=send_now)
    with db.write() as session:
        queue.queue(session, None)  # nothing to say: nothing queued
        for code in codes:
            queue.queue(session, signup_code(ANA, code))
    return queue


def test_account_mail_is_sealed_at_rest_and_wiped_once_sent(
    db: Database, clock: SettableClock, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    _queue(db, clock, "314159")
    [row] = _rows(db)
    assert row.sealed is not None
    assert b"314159" not in row.sealed
    assert ANA.encode() not in row.sealed
    assert row.kind == "Votre code Colloque"
    assert delivery.run_until_idle().sent == 1
    assert inbox.code(ANA) == "314159"
    [row] = _rows(db)
    assert (row.status, row.sealed) == ("sent", None)
    assert inbox.to(ANA)[0]["Message-ID"] == f"<{row.mail_id}@mail.colloque.test>"


def test_the_fast_lane_sends_every_mail_of_the_request_once_committed(
    db: Database, clock: SettableClock, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    queue = _queue(db, clock, "111111", "222222", send_now=delivery.deliver_account_mail_quietly)
    asyncio.run(queue.background())
    assert sorted(inbox.code_of(m) for m in inbox.to(ANA)) == ["111111", "222222"]
    assert [row.status for row in _rows(db)] == ["sent", "sent"]
    # Nothing left for the worker, nothing sent twice.
    assert delivery.run_until_idle().handled == 0
    assert len(inbox.to(ANA)) == 2


def test_mail_the_fast_lane_could_not_send_is_sent_by_the_worker(
    db: Database, clock: SettableClock, inbox: Inbox
) -> None:
    down = delivery_for(db, clock, Channels(email=_unreachable()))
    queue = _queue(db, clock, "271828", send_now=down.deliver_account_mail_quietly)
    asyncio.run(queue.background())
    [row] = _rows(db)
    assert (row.status, row.last_error) == ("pending", "smtp_unavailable")
    assert row.due_at is not None
    clock.set(row.due_at)
    up = delivery_for(db, clock, Channels(email=smtp_to(inbox)))
    assert up.run_until_idle().sent == 1
    assert inbox.code(ANA) == "271828"


def test_mail_sealed_under_a_rotated_secret_fails_without_being_read(
    db: Database, clock: SettableClock, inbox: Inbox
) -> None:
    rotated = ServerKeys.from_secret("another-secret-of-at-least-32-characters").account_mail_seal
    _queue(db, clock, "161803")
    after_rotation = delivery_for(db, clock, Channels(email=smtp_to(inbox)), key=rotated)
    assert after_rotation.run_until_idle().failed == 1
    [row] = _rows(db)
    assert (row.status, row.last_error, row.sealed) == ("failed", "unreadable", None)
    assert inbox.messages == []


def _unreachable() -> SmtpMailSender:
    return SmtpMailSender(host="127.0.0.1", port=free_port(), sender="noreply@colloque.test")
