"""A stand-in SMS provider on loopback (a real HTTP server), with the failures of a real one.

It answers a scripted sequence (``500``, ``timeout``, ``429`` with ``Retry-After``, then ``200``)
and, like real providers, sends a message once per ``Idempotency-Key``: a request repeating a key
already sent is answered 200 without a second SMS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response

from tests.server import running_server


@dataclass
class SmsProvider:
    #: What the next requests get, in order; then 200.
    script: list[str] = field(default_factory=list)
    retry_after: int = 600
    #: Seconds each request takes, like a real provider's API.
    delay: float = 0.0
    #: (to, text, idempotency key) of every SMS actually sent.
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    #: Every request's idempotency key, sent or not.
    requests: list[str] = field(default_factory=list)
    url: str = ""
    token: str = "provider-token"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/messages")
        async def messages(request: Request) -> Response:
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return Response(status_code=401)
            key = request.headers.get("Idempotency-Key", "")
            await asyncio.sleep(self.delay)
            self.requests.append(key)
            body: dict[str, Any] = await request.json()
            step = self.script.pop(0) if self.script else "200"
            if step == "timeout":
                await asyncio.sleep(2)
                return Response(status_code=504)
            if step == "429":
                return Response(status_code=429, headers={"Retry-After": str(self.retry_after)})
            if step != "200":
                return Response(status_code=int(step))
            if key not in {k for _, _, k in self.sent}:
                self.sent.append((body["to"], body["text"], key))
            return Response(status_code=202)

        return app


@contextmanager
def running_provider(
    script: list[str] | None = None, *, delay: float = 0.0
) -> Iterator[SmsProvider]:
    provider = SmsProvider(script=list(script or []), delay=delay)
    with running_server(provider.app()) as base:
        provider.url = f"{base}/messages"
        yield provider
