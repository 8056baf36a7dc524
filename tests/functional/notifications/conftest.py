"""Fixtures of the delivery tests: a world with bookings, a real SMTP inbox on loopback, and the
outbox delivery wired to it."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from colloque.clock import SettableClock
from colloque.delivery.channels import Channels
from colloque.delivery.compose import MailConfig
from colloque.delivery.outbox import OutboxDelivery, RetryPolicy
from colloque.notifications.mail import SmtpMailSender
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.smtp import Inbox, running_inbox

SECRET_KEY = bytes(range(32))
MAIL = MailConfig(domain="mail.colloque.test", public_url="https://colloque.test")


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as box:
        yield box


def smtp_to(inbox: Inbox) -> SmtpMailSender:
    return SmtpMailSender(
        host="127.0.0.1", port=inbox.port, sender="Colloque <noreply@colloque.test>", timeout=5
    )


def delivery_for(
    db: Database,
    clock: SettableClock,
    channels: Channels,
    *,
    key: bytes = SECRET_KEY,
    policy: RetryPolicy | None = None,
) -> OutboxDelivery:
    return OutboxDelivery(
        db,
        clock,
        channels,
        mail=MAIL,
        account_mail_key=key,
        policy=policy or RetryPolicy(),
        rng=random.Random(7),
    )


@pytest.fixture
def delivery(db: Database, clock: SettableClock, inbox: Inbox) -> Iterator[OutboxDelivery]:
    sender = smtp_to(inbox)
    yield delivery_for(db, clock, Channels(email=sender))
    sender.close()
