"""Mail channels: SMTP for real deployments, a maildir and the console for development.

Every channel takes an :class:`OutgoingMail` and writes the same bytes: :func:`compose` makes the
MIME message (a plain-text part always, an HTML alternative, attachments), with its stable
Message-ID, signed with DKIM when a key is configured.
"""

from __future__ import annotations

import contextlib
import mailbox
import smtplib
import ssl
import sys
import threading
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import TextIO

import dkim

from colloque.clock import SystemClock
from colloque.notifications.interfaces import DeliveryError, MailMessage, OutgoingMail

#: The headers the DKIM signature covers: what a forger would change. RFC 8058 asks that the
#: one-click unsubscribe headers be signed too (a header absent from a message is signed absent).
_SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


class DkimSigner:
    """Signs outgoing mail for ``domain`` with the key published at ``selector._domainkey``."""

    def __init__(self, *, selector: str, domain: str, private_key_pem: bytes) -> None:
        self.selector = selector
        self.domain = domain
        self._key = private_key_pem

    def sign(self, raw: bytes) -> bytes:
        signature = dkim.sign(
            raw,
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self._key,
            include_headers=list(_SIGNED_HEADERS),
        )
        return bytes(signature) + raw


def compose(
    mail: OutgoingMail, *, sender: str, at: datetime, signer: DkimSigner | None = None
) -> bytes:
    """The message as it goes on the wire (CRLF line ends, as DKIM signs it)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = mail.to
    email["Subject"] = mail.subject
    email["Date"] = format_datetime(at)
    email["Message-ID"] = mail.message_id
    for name, value in mail.headers:
        email[name] = value
    email.set_content(mail.text)
    if mail.html is not None:
        email.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    raw = email.as_bytes(policy=SMTP)
    return signer.sign(raw) if signer is not None else raw


def envelope_sender(sender: str) -> str:
    return parseaddr(sender)[1]


class SmtpMailSender:
    """Sends through an SMTP server, keeping one connection open between messages (a batch goes
    over one session). STARTTLS is used when asked for (and always in production)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
        signer: DkimSigner | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._signer = signer
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def send(self, message: MailMessage) -> None:
        """One notice outside the outbox, over a connection of its own."""
        try:
            self.deliver(
                OutgoingMail(
                    to=message.to,
                    subject=message.subject,
                    text=message.text,
                    message_id=make_msgid(domain=envelope_sender(self._sender).rpartition("@")[2]),
                )
            )
        finally:
            self.close()

    def deliver(self, mail: OutgoingMail) -> None:
        raw = compose(mail, sender=self._sender, at=mail.date or _now(), signer=self._signer)
        with self._lock:
            try:
                self._session().sendmail(envelope_sender(self._sender), [mail.to], raw)
            except smtplib.SMTPRecipientsRefused as exc:
                self._drop()
                raise DeliveryError(
                    "SMTP server refused the recipient", category="smtp_refused", permanent=True
                ) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                # The recipient and the content stay out of the error: they are personal data.
                raise DeliveryError(
                    f"SMTP delivery failed ({type(exc).__name__})", category="smtp_unavailable"
                ) from exc

    def close(self) -> None:
        with self._lock:
            if self._smtp is not None:
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    self._smtp.quit()
            self._smtp = None

    def _session(self) -> smtplib.SMTP:
        # Kept open within a round only (``close`` at its end), so it is fresh: no NOOP probe.
        if self._smtp is not None:
            return self._smtp
        smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        if self._starttls:
            smtp.starttls(context=ssl.create_default_context())
        if self._username and self._password:
            smtp.login(self._username, self._password)
        self._smtp = smtp
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.close()
        self._smtp = None


class ConsoleMailSender:
    """Writes mail to a stream, for the local demo only (the settings refuse it in production)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: MailMessage) -> None:
        self._write(message.to, message.subject, message.text)

    def deliver(self, mail: OutgoingMail) -> None:
        self._write(mail.to, mail.subject, mail.text)

    def close(self) -> None:
        """Nothing kept open."""

    def _write(self, to: str, subject: str, text: str) -> None:
        stream = self._stream or sys.stdout
        stream.write(f"\n--- mail to {to}: {subject}\n{text}\n---\n")
        stream.flush()


class MaildirMailSender:
    """Delivers into a local maildir that any mail reader opens (``mutt -f``), for the demo.

    A message whose Message-ID is already there is not added again, so the maildir shows what a
    recipient's mail system would: each message once.
    """

    def __init__(self, path: Path, *, sender: str, signer: DkimSigner | None = None) -> None:
        self.path = path
        self._sender = sender
        self._signer = signer
        self._lock = threading.Lock()

    def send(self, message: MailMessage) -> None:
        domain = envelope_sender(self._sender).rpartition("@")[2] or "localhost"
        self.deliver(
            OutgoingMail(
                to=message.to,
                subject=message.subject,
                text=message.text,
                message_id=make_msgid(domain=domain),
            )
        )

    def deliver(self, mail: OutgoingMail) -> None:
        raw = compose(mail, sender=self._sender, at=mail.date or _now(), signer=self._signer)
        with self._lock:
            try:
                box = mailbox.Maildir(self.path, create=True)
                if mail.message_id not in self.message_ids(box):
                    box.add(raw)
            except OSError as exc:
                raise DeliveryError("maildir not writable", category="maildir") from exc

    def close(self) -> None:
        """Nothing kept open."""

    @staticmethod
    def message_ids(box: mailbox.Maildir) -> set[str]:
        return {str(message["Message-ID"]) for message in box}


def _now() -> datetime:
    # Only for mail sent outside the outbox (whose worker dates its mail with its clock).
    return SystemClock().now()
