"""The account's notification inbox: every message an account received is listed under the
reference the message names, and only there; a reference checks out for its own account only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
from fastapi import BackgroundTasks
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.mailing import MailQueue, password_changed, signup_code
from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.delivery.channels import Channels
from colloque.delivery.outbox import OutboxDelivery
from colloque.notifications.interfaces import MailMessage
from colloque.notifications.mail import SmtpMailSender
from colloque.notifications.models import OutboxMessage
from colloque.storage.engine import Database
from tests.factories import World, book
from tests.functional.http import app_client, bearer, problem
from tests.functional.notifications.conftest import SECRET_KEY, delivery_for, smtp_to
from tests.server import free_port
from tests.smtp import Inbox

# Monday 2026-03-02 09:00 in Paris (UTC+1).
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HOLDER = "holder.hugo@example.test"
INBOX = "https://colloque.test/me/notifications"


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as http:
        yield http


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def _reference(message: Message) -> str:
    found = re.search(r"R[ée]f[ée]rence ([A-Z2-7]{8})\.", _text(message))
    assert found, "no reference in the message"
    return found.group(1)


def _queue(db: Database, clock: SettableClock, *messages: MailMessage) -> None:
    """Account mail as the account routes queue it (the worker sends it)."""
    queue = MailQueue(key=SECRET_KEY, clock=clock, background=BackgroundTasks(), inbox_url=INBOX)
    with db.write() as session:
        for message in messages:
            queue.queue(session, message)


def test_every_message_an_account_received_is_in_its_inbox_under_its_reference(
    db: Database,
    clock: SettableClock,
    world: World,
    inbox: Inbox,
    delivery: OutboxDelivery,
    client: TestClient,
) -> None:
    book(db, clock, world, MON_0900 + timedelta(days=1))
    clock.advance(timedelta(minutes=1))
    book(db, clock, world, MON_0900 + timedelta(days=2), patient_id=world.child_patient_id)
    clock.advance(timedelta(minutes=1))
    _queue(
        db,
        clock,
        password_changed(HOLDER, account_id=world.holder.account_id),
        signup_code("nobody@example.test", "123456"),
    )
    assert delivery.run_until_idle().sent == 4
    mails = inbox.to(HOLDER)
    references = [_reference(m) for m in mails]
    assert len(set(references)) == 3
    for message in mails:
        assert INBOX in _text(message)
    # A code to an address without an account names no inbox it could be checked in.
    [code] = inbox.to("nobody@example.test")
    assert "Colloque :" not in _text(code)
    assert INBOX not in _text(code)

    answer = client.get("/api/v1/me/notifications", headers=bearer(world.holder))
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["next_before"] is None
    items = page["items"]
    # Newest first: the account notice, then the relative's confirmation, then the holder's (the
    # worker sent the account mail first).
    notice, mine, relative = references
    assert [i["reference"] for i in items] == [notice, relative, mine]
    assert [i["template"] for i in items] == [
        "account_notice",
        "appointment_confirmed",
        "appointment_confirmed",
    ]
    assert items[0]["subject"] == "Votre mot de passe Colloque a changé"
    assert items[0]["practice_name"] is None
    assert {i["status"] for i in items} == {"sent"}
    assert {i["channel"] for i in items} == {"email"}
    assert items[1]["practice_name"] == "Cabinet du Test"
    assert items[1]["practice_timezone"] == "Europe/Paris"
    assert items[1]["appointment_starts_at"] == "2026-03-04T08:00:00Z"
    # Nothing about the visit: not its type, not whom it is for.
    for secret in ("Consultation", "consultation", "general", "Lina", "Hugo"):
        assert secret not in answer.text

    # Each reference checks out for this account, whatever its case or spacing...
    for reference in references:
        found = client.get(
            f"/api/v1/me/notifications/{reference.lower()}", headers=bearer(world.holder)
        )
        assert found.status_code == 200
        assert found.json()["reference"] == reference
    # ...and for no one else: another account's inbox is empty, its references unknown there.
    theirs = client.get("/api/v1/me/notifications", headers=bearer(world.stranger))
    assert theirs.json() == {"items": [], "next_before": None}
    for reference in references:
        problem(
            client.get(f"/api/v1/me/notifications/{reference}", headers=bearer(world.stranger)),
            404,
            field="reference",
        )
    problem(
        client.get("/api/v1/me/notifications/not-a-ref", headers=bearer(world.holder)),
        422,
        field="reference",
    )
    problem(client.get("/api/v1/me/notifications"), 401)
    with db.read() as session:
        reads = session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.actor_account_id == world.holder.account_id,
                AuditEvent.action.like("accounts:notification:%"),
            )
        ).all()
    assert sorted(set(reads)) == ["accounts:notification:check", "accounts:notification:list"]
    # A malformed reference is refused before anything is read: three checks.
    assert reads.count("accounts:notification:check") == 3


def test_the_inbox_pages_newest_first_across_both_kinds(
    db: Database,
    clock: SettableClock,
    world: World,
    delivery: OutboxDelivery,
    client: TestClient,
) -> None:
    book(db, clock, world, MON_0900 + timedelta(days=1))
    clock.advance(timedelta(minutes=1))
    # Two notices queued at one instant: the page boundary falls between rows of equal time.
    notice = password_changed(HOLDER, account_id=world.holder.account_id)
    _queue(db, clock, notice, notice)
    clock.advance(timedelta(minutes=1))
    book(db, clock, world, MON_0900 + timedelta(days=2), patient_id=world.child_patient_id)
    clock.advance(timedelta(minutes=1))
    _queue(db, clock, notice)
    delivery.run_until_idle()
    everything = client.get("/api/v1/me/notifications", headers=bearer(world.holder)).json()
    assert len(everything["items"]) == 5
    seen: list[str] = []
    before = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if before is not None:
            params["before"] = before
        page = client.get(
            "/api/v1/me/notifications", params=params, headers=bearer(world.holder)
        ).json()
        seen += [item["reference"] for item in page["items"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == [item["reference"] for item in everything["items"]]
    problem(
        client.get(
            "/api/v1/me/notifications", params={"before": "yesterday"}, headers=bearer(world.holder)
        ),
        422,
        field="before",
    )


def test_a_message_to_be_sent_again_shows_as_on_its_way(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, client: TestClient
) -> None:
    book(db, clock, world, MON_0900 + timedelta(days=1))
    down = SmtpMailSender(host="127.0.0.1", port=free_port(), sender="noreply@colloque.test")
    assert delivery_for(db, clock, Channels(email=down)).run_until_idle().retried == 1
    [item] = client.get("/api/v1/me/notifications", headers=bearer(world.holder)).json()["items"]
    assert (item["status"], item["sent_at"]) == ("on_its_way", None)
    with db.read() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        assert row.due_at is not None
    clock.set(row.due_at)
    up = delivery_for(db, clock, Channels(email=smtp_to(inbox)))
    assert up.run_until_idle().sent == 1
    [item] = client.get("/api/v1/me/notifications", headers=bearer(world.holder)).json()["items"]
    assert item["status"] == "sent"
    assert item["reference"] == _reference(inbox.to(HOLDER)[0])


def test_an_english_notice_names_its_reference_in_english(
    db: Database,
    clock: SettableClock,
    world: World,
    inbox: Inbox,
    delivery: OutboxDelivery,
    client: TestClient,
) -> None:
    """Account mail is French but for the breaker's alert to an English-speaking admin: the
    reference line follows the text's language."""
    notice = MailMessage(
        to=HOLDER,
        subject="Colloque: messages held for your review",
        text="Review them.\n\n-- \nColloque\n",
        account_id=world.holder.account_id,
        language="en",
    )
    _queue(db, clock, notice)
    delivery.run_until_idle()
    text = _text(inbox.to(HOLDER)[0])
    found = re.search(
        r"Reference ([A-Z2-7]{8})\. This message is listed in the notifications", text
    )
    assert found
    # Before the signature, which stays last.
    assert INBOX in text.split("-- ")[0]
    assert text.rstrip().endswith("Colloque")
    [item] = client.get("/api/v1/me/notifications", headers=bearer(world.holder)).json()["items"]
    assert item["reference"] == found.group(1)
