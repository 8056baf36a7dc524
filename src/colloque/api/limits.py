"""Request bodies are limited in size per route, before anything parses them.

A pure ASGI middleware watches the body as the route reads it. Its limit is 64 KiB unless the
route's endpoint says otherwise with :func:`body_limit`. A declared ``Content-Length`` over the
limit is refused at the first read, before a byte is read; a body without one (chunked) is
counted as it arrives, and reading stops as soon as it passes the limit. Either way the answer is
a 413 problem (the route's read raises an ``HTTPException`` that the problem handlers answer).
A route that streams its own body (document uploads) declares ``None`` and checks its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
MIB = 1024 * KIB
#: Every JSON body unless its route declares more.
DEFAULT_BODY_LIMIT = 64 * KIB
#: Bodies with one sealed envelope (a visit reason, a note, a message, a document's
#: description: at most about 70 KB of bytes, a third more as base64url) or a batch of wraps.
SEALED_BODY_LIMIT = 256 * KIB
#: A practice key group's wraps: up to 5,000 members.
KEY_GROUP_BODY_LIMIT = 4 * MIB

#: Endpoint -> its limit; looked up with whatever endpoint routing chose (or None).
_LIMITS: dict[object, int | None] = {}

F = TypeVar("F", bound=Callable[..., Any])


def body_limit(limit: int | None) -> Callable[[F], F]:
    """Give a route's endpoint its own body limit (None: the route checks its own stream)."""

    def mark(endpoint: F) -> F:
        _LIMITS[endpoint] = limit
        return endpoint

    return mark


class BodyLimit:
    """Counts the body as the route reads it. The limit is looked up at the first read, once
    routing has put the route's endpoint in the scope; a body that is never read costs nothing."""

    def __init__(self, app: ASGIApp, *, default: int = DEFAULT_BODY_LIMIT) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        looked_up = False
        limit: int | None = self.default
        seen = 0

        async def counted() -> Message:
            nonlocal looked_up, limit, seen
            if not looked_up:
                looked_up = True
                limit = _LIMITS.get(scope.get("endpoint"), self.default)
                declared = Headers(scope=scope).get("content-length", "")
                if limit is not None and declared.isdigit() and int(declared) > limit:
                    raise HTTPException(413, detail=_detail(limit))
            message = await receive()
            if limit is not None and message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, detail=_detail(limit))
            return message

        await self.app(scope, counted, send)


def _detail(limit: int) -> str:
    return f"the body is limited to {limit // KIB} KiB on this route"
