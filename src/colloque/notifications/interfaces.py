"""Contracts of the notification channels. The outbox worker and the account services depend on
these, never on SMTP or an SMS provider's HTTP API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class MailMessage:
    """An account notice as the account services decide it (text fixed at the request)."""

    to: str
    subject: str
    text: str
    #: The existing account the notice is about: the mail then names a reference and is listed
    #: in that account's inbox. None for an address without an account (a sign-up code).
    account_id: UUID | None = None
    #: The language of the text (``fr`` or ``en``): the reference line added to it follows it.
    language: str = "fr"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """An email ready to go: a plain-text part always, an HTML alternative when given.

    ``message_id`` is stable per outbox row (``<row id@domain>``): sent twice after a crash, the
    two copies are one message to the recipient's mail system.
    """

    to: str
    subject: str
    text: str
    message_id: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = field(default=())
    #: The Date header (the worker's clock); unset, the moment of sending.
    date: datetime | None = None
    #: More headers: ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` on reminders.
    headers: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class TextMessage:
    """An SMS. ``idempotency_key`` is stable per outbox row: the provider sends it once."""

    to: str
    text: str
    idempotency_key: str


class MailSender(Protocol):
    def send(self, message: MailMessage) -> None:
        """Deliver the message or raise :class:`DeliveryError`."""
        ...


class EmailChannel(Protocol):
    def deliver(self, mail: OutgoingMail) -> None:
        """Hand the mail to the mail system or raise :class:`DeliveryError`."""
        ...

    def close(self) -> None:
        """Let go of any connection kept between messages (the end of a round)."""
        ...


class SmsChannel(Protocol):
    def deliver(self, message: TextMessage) -> None:
        """Hand the SMS to the provider or raise :class:`DeliveryError`."""
        ...

    def close(self) -> None:
        """Let go of any connection kept between messages."""
        ...


class DeliveryError(Exception):
    """The message could not be handed over; the caller may retry.

    ``retry_after`` is the wait the other side asked for (a rate limit), in seconds. ``permanent``
    says a retry cannot help (an address refused, a request the provider rejects). ``category``
    names the failure for the outbox: never the server's reply, which may quote the address.
    """

    def __init__(
        self,
        message: str,
        *,
        category: str = "transient",
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.category = category
        self.retry_after = retry_after
        self.permanent = permanent
