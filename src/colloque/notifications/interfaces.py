"""Contracts of the notification senders. Views and services depend on these, not on SMTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: str
    subject: str
    text: str


class MailSender(Protocol):
    def send(self, message: MailMessage) -> None:
        """Deliver the message or raise :class:`DeliveryError`."""
        ...


class DeliveryError(Exception):
    """The message could not be handed to the mail system; the caller may retry."""
