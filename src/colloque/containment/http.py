"""Wiring into the HTTP app: watch every request's events, suspend after it when it tripped.

The watch is bound around the request (``audit.context.observed``); the suspension runs after
the response, in a transaction of its own: the request's own may have rolled back (a decoy
refused), and a thief's next request finds its credential ended (``api.deps`` then answers
``credential-suspended``).
"""

from __future__ import annotations

import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from colloque.audit import context as audit_context
from colloque.clock import Clock
from colloque.config import Settings
from colloque.containment.limits import ContainmentLimits
from colloque.containment.services import CredentialWatch, Trip, do_suspend
from colloque.storage.engine import Database

log = structlog.get_logger("colloque.containment")


class ContainmentMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.limits = ContainmentLimits.from_settings(settings)
        keys = settings.server_keys
        self.canary_key = keys.canary_tag
        self.mail_key = keys.account_mail_seal
        self.public_url = settings.public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watch = CredentialWatch(self.limits, self.canary_key)
        try:
            with audit_context.observed(watch):
                await self.app(scope, receive, send)
        finally:
            if watch.trip is not None:
                state = scope["app"].state
                await run_in_threadpool(self._suspend, state.database, state.clock, watch.trip)

    def _suspend(self, database: Database, clock: Clock, trip: Trip) -> None:
        with database.write() as session:
            incident_id = do_suspend(
                session,
                now=clock.now(),
                trip=trip,
                mail_key=self.mail_key,
                public_url=self.public_url,
            )
        if incident_id is not None:
            log.warning(
                "credential suspended",
                credential=str(trip.credential_id),
                reason=trip.reason.value,
                incident=str(incident_id),
            )


def install(app: Starlette, settings: Settings) -> None:
    """Add the middleware unless ``COLLOQUE_CONTAINMENT_ENABLED`` is off."""
    if settings.containment_enabled:
        app.add_middleware(ContainmentMiddleware, settings=settings)
