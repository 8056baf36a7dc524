"""SMS channels: a provider's HTTP API, and the console for development.

The provider adapter speaks a small, common shape: ``POST {url}`` with a bearer token and a JSON
body ``{"from", "to", "text"}``, and an ``Idempotency-Key`` header that is stable per outbox row,
so that a message retried after a crash is sent once by the provider. A provider with another
shape gets its own adapter behind :class:`~colloque.notifications.interfaces.SmsChannel`.
"""

from __future__ import annotations

import sys
from typing import TextIO

import httpx2

from colloque.notifications.interfaces import DeliveryError, TextMessage

#: Answers after which the same request may succeed later.
_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


class HttpSmsProvider:
    def __init__(self, *, url: str, token: str, sender: str, timeout: float = 10.0) -> None:
        self._url = url
        self._token = token
        self._sender = sender
        self._timeout = timeout
        self._open: httpx2.Client | None = None

    def deliver(self, message: TextMessage) -> None:
        try:
            response = self._client().post(
                self._url,
                json={"from": self._sender, "to": message.to, "text": message.text},
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Idempotency-Key": message.idempotency_key,
                },
            )
        except httpx2.TimeoutException as exc:
            raise DeliveryError("SMS provider timed out", category="sms_timeout") from exc
        except httpx2.HTTPError as exc:
            raise DeliveryError(
                f"SMS provider unreachable ({type(exc).__name__})", category="sms_unavailable"
            ) from exc
        if response.is_success:
            return
        if response.status_code == 429:
            raise DeliveryError(
                "SMS provider rate limit",
                category="sms_rate_limited",
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code in _RETRYABLE:
            raise DeliveryError(
                f"SMS provider answered {response.status_code}", category="sms_unavailable"
            )
        raise DeliveryError(
            f"SMS provider refused the message ({response.status_code})",
            category="sms_refused",
            permanent=True,
        )

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
        self._open = None

    def _client(self) -> httpx2.Client:
        """One connection pool for a round of messages (``close`` ends it)."""
        if self._open is None:
            self._open = httpx2.Client(timeout=self._timeout)
        return self._open


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds form; an HTTP date is taken as unknown)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 86_400 else None


class ConsoleSmsSender:
    """Writes SMS to a stream, for development (refused in production)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def deliver(self, message: TextMessage) -> None:
        stream = self._stream or sys.stdout
        stream.write(f"\n--- SMS to {message.to}\n{message.text}\n---\n")
        stream.flush()

    def close(self) -> None:
        """Nothing kept open."""
