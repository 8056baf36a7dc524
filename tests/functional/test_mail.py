"""The SMTP sender against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from colloque.notifications.interfaces import DeliveryError, MailMessage, MailSender
from colloque.notifications.mail import ConsoleMailSender, SmtpMailSender
from tests.server import free_port
from tests.smtp import Inbox


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_smtp_sender_delivers(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    sender: MailSender = SmtpMailSender(host="127.0.0.1", port=port, sender="noreply@colloque.test")
    sender.send(MailMessage(to="ana@example.test", subject="Votre code", text="Code : 123456"))
    [(recipients, message)] = inbox.messages
    assert recipients == ["ana@example.test"]
    assert message["Subject"] == "Votre code"
    assert "123456" in inbox.last_text("ana@example.test")


def test_smtp_failure_is_a_delivery_error_without_personal_data() -> None:
    sender = SmtpMailSender(
        host="127.0.0.1", port=free_port(), sender="noreply@colloque.test", timeout=2
    )
    with pytest.raises(DeliveryError) as caught:
        sender.send(MailMessage(to="ana@example.test", subject="s", text="secret 123456"))
    assert "ana@example.test" not in str(caught.value)
    assert "123456" not in str(caught.value)


def test_console_sender() -> None:
    stream = io.StringIO()
    ConsoleMailSender(stream).send(MailMessage(to="a@example.test", subject="Hello", text="Body"))
    assert "Hello" in stream.getvalue()
