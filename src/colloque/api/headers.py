"""Security headers on every response: the API's, the pages', the assets', the errors'.

One Content-Security-Policy for everything the server sends: our own origin only, no inline
script or style, no framing. The crypto worker's script is the one exception, set by its own
route (``web.security``); a response that sets a header itself keeps it (a page's
``Cache-Control: no-cache``, an asset's ``immutable``). Everything else gets ``no-store``: API
answers carry personal data, and a shared or back-button cache must keep none of it.

The middleware wraps the whole stack, Starlette's error middleware included, so that a 500, a
413 and a 429 carry the headers too. HSTS is sent in production only (served behind TLS); the
``server`` header is uvicorn's, turned off where the server is started (``cli.common``).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
#: Two years, the preload lists' minimum; sent only in production, behind TLS.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"

#: Every response's headers, unless the response set its own.
BASELINE = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    # frame-ancestors 'none' says it for current browsers; this for older ones.
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)


class SecurityHeaders:
    """Pure ASGI middleware: adds :data:`BASELINE` (and HSTS in production) to every response."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        extra = (("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY),) if production else ()
        self.headers = BASELINE + extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SecuredAPI(FastAPI):
    """FastAPI whose middleware stack, built by Starlette at the first request, is wrapped in
    :class:`SecurityHeaders`. ``add_middleware`` would place it inside Starlette's
    ServerErrorMiddleware, so a 500 would go out without the headers: only the stack's builder
    can put it outermost."""

    def build_middleware_stack(self) -> ASGIApp:
        production = bool(getattr(self.state, "production_headers", False))
        return SecurityHeaders(super().build_middleware_stack(), production=production)


def install(app: SecuredAPI, *, production: bool) -> None:
    """Say whether the app is served in production (HSTS), before its first request."""
    app.state.production_headers = production
