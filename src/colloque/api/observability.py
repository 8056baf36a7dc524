"""Request ids, the access log, the proxy headers and ``GET /metrics``.

One pure ASGI middleware, outermost but for Starlette's error middleware, does per request:

1. The proxy check. The immediate peer is a trusted proxy when proxy headers are on and its
   address is in ``COLLOQUE_FORWARDED_ALLOW_IPS``. Only then are ``X-Forwarded-For`` and
   ``-Proto`` applied (uvicorn's ``ProxyHeadersMiddleware``, run here rather than in uvicorn so
   that the one decision also covers the request id) and ``X-Request-ID`` accepted.
2. The request id: the trusted proxy's if it is valid (:func:`requestids.is_valid`), else a
   fresh one. Stored on the request, bound into structlog's context, sent back in
   ``X-Request-ID``; problem bodies carry it as ``request_id``.
3. The access log line (``colloque.access``, event ``request``) and the latency histogram, once
   the answer is sent or the request failed: method, route *template*, status, duration, the
   request id and, when the request resolved one, the account id. Never the raw path, the query
   string, the client address or a header: paths and queries can hold personal data (a searched
   name, an email address).

A request that raises is logged here with status 500; the app's 500 handler (api/problems.py),
which Starlette runs outside this middleware, logs the traceback with the same request id.
"""

from __future__ import annotations

import hmac
import time
from typing import Annotated

import structlog
from fastapi import FastAPI, Header, Request, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from colloque import metrics
from colloque.api import requestids
from colloque.api.problems import problem
from colloque.audit import context as audit_context
from colloque.audit.context import Interface
from colloque.authorization import probing
from colloque.config import Environment, Settings
from colloque.notifications.queries import oldest_pending_at
from colloque.storage.engine import Database

access_log = structlog.get_logger("colloque.access")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"


def _bind_audit_context(app: ASGIApp) -> ASGIApp:
    """Bind the audit context (audit/context.py) just inside the proxy check, where the scope's
    client is the real client's address."""

    async def bound_app(scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        path: str = scope.get("path", "")
        context = audit_context.RequestContext(
            interface=Interface.API if path.startswith("/api/") else Interface.WEB,
            request_id=scope.get("state", {}).get(requestids.STATE_KEY),
            client_address=client[0] if client else None,
        )
        with audit_context.bound(context):
            await app(scope, receive, send)

    return bound_app


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, proxy_headers: bool, forwarded_allow_ips: str) -> None:
        self.app = _bind_audit_context(app)
        self.proxy = (
            # uvicorn types its middleware with its own ASGI aliases, Starlette with others; both
            # describe the same ASGI 3 callable.
            ProxyHeadersMiddleware(self.app, trusted_hosts=forwarded_allow_ips)  # type: ignore[arg-type]
            if proxy_headers
            else None
        )

    def _from_trusted_proxy(self, scope: Scope) -> bool:
        client = scope.get("client")
        return (
            self.proxy is not None and client is not None and client[0] in self.proxy.trusted_hosts
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The same ASGI 3 callable under uvicorn's and Starlette's type aliases (see __init__).
        inner: ASGIApp = self.proxy if self.proxy is not None else self.app  # type: ignore[assignment]
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        request_id = None
        if self._from_trusted_proxy(scope):
            offered = Headers(scope=scope).get(requestids.REQUEST_ID_HEADER)
            if offered is not None and requestids.is_valid(offered):
                request_id = offered
        request_id = request_id or requestids.new_request_id()
        scope.setdefault("state", {})[requestids.STATE_KEY] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[requestids.REQUEST_ID_HEADER] = request_id
            await send(message)

        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await inner(scope, receive, send_with_id)
            finally:
                _record(scope, status=status, seconds=time.perf_counter() - started)


def _record(scope: Scope, *, status: int, seconds: float) -> None:
    method = scope["method"] if scope["method"] in _METHODS else "OTHER"
    route = getattr(scope.get("route"), "path_format", None) or UNMATCHED_ROUTE
    metrics.REQUEST_DURATION.labels(
        method=method, route=route, status_class=f"{status // 100}xx"
    ).observe(seconds)
    fields: dict[str, object] = {}
    principal = probing.noted_principal(Request(scope))
    if principal is not None and principal.account_id is not None:
        fields["account_id"] = str(principal.account_id)
    access_log.info(
        "request",
        method=method,
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 1),
        **fields,
    )


def install(app: FastAPI, settings: Settings, database: Database) -> None:
    """Add the middleware and ``GET /metrics`` (left out of the OpenAPI document)."""
    app.add_middleware(
        ObservabilityMiddleware,
        proxy_headers=settings.proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    open_without_token = settings.environment is not Environment.PRODUCTION

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        if token is None and not open_without_token:
            return problem(404, "not-found", "Not found", "Not Found")
        if token is not None and not _bearer_matches(authorization, token):
            return problem(
                401,
                "authentication-required",
                "Authentication required",
                "a metrics token is needed: Authorization: Bearer <COLLOQUE_METRICS_TOKEN>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        with database.read() as session:
            oldest = oldest_pending_at(session)
        body = metrics.exposition(
            multiprocess_dir=settings.prometheus_multiproc_dir,
            outbox_oldest=oldest,
            now=request.app.state.clock.now(),
        )
        return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)


def _bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, presented = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    )
