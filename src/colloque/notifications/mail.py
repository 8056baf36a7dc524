"""Mail senders: SMTP for real deployments, the console for the local demo."""

from __future__ import annotations

import smtplib
import ssl
import sys
from email.message import EmailMessage
from typing import TextIO

from colloque.notifications.interfaces import DeliveryError, MailMessage


class SmtpMailSender:
    """Sends through an SMTP server. STARTTLS is used when asked for (and always in production)."""

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
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    def send(self, message: MailMessage) -> None:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.text)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username and self._password:
                    smtp.login(self._username, self._password)
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            # The recipient and the content stay out of the error: they are personal data.
            raise DeliveryError(f"SMTP delivery failed ({type(exc).__name__})") from exc


class ConsoleMailSender:
    """Writes mail to a stream, for the local demo only (the settings refuse it in production)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: MailMessage) -> None:
        stream = self._stream or sys.stdout
        stream.write(f"\n--- mail to {message.to}: {message.subject}\n{message.text}\n---\n")
        stream.flush()
