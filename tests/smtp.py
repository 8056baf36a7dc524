"""A real SMTP server's mailbox for tests (aiosmtpd on loopback)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.server import free_port


class Inbox:
    """An SMTP server's mailbox: every message received, newest last."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        #: Where its server listens (see :func:`running_inbox`).
        self.port = port

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        wanted = address.strip().lower()
        return [m for rcpt, m in self.messages if wanted in rcpt]

    def last_text(self, address: str) -> str:
        messages = self.to(address)
        assert messages, f"no mail to {address}"
        payload = messages[-1].get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode()

    @staticmethod
    def code_of(message: Message) -> str:
        payload = message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found = re.search(r"\b(\d{6})\b", payload.decode())
        assert found, "no code in the mail"
        return found.group(1)

    def code(self, address: str) -> str:
        found = re.search(r"\b(\d{6})\b", self.last_text(address))
        assert found, "no code in the mail"
        return found.group(1)

    def wait_for_code(self, address: str, timeout: float = 10) -> str:
        """The code of the newest mail to ``address``, waiting for it: a server mails after its
        answer (a background task), so a browser may be quicker than the mail."""
        deadline = time.monotonic() + timeout
        while not self.to(address) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.code(address)


@contextmanager
def running_inbox() -> Iterator[Inbox]:
    """An SMTP server on a loopback port, delivering into a new :class:`Inbox`."""
    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
