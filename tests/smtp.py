"""A real SMTP server's mailbox for tests (aiosmtpd on loopback)."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import Message
from typing import Any


class Inbox:
    """An SMTP server's mailbox: every message received, newest last."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

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

    def code(self, address: str) -> str:
        found = re.search(r"\b(\d{6})\b", self.last_text(address))
        assert found, "no code in the mail"
        return found.group(1)
