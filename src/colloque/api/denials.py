"""The audit event of a refused request (``audit.denials``), written when its 403 or 404 problem
is rendered, in a short transaction of its own: the request's transaction has rolled back."""

from __future__ import annotations

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from colloque.audit.denials import Tried, record_denied, tried_in_path
from colloque.authorization.probing import noted_principal
from colloque.principal import ANONYMOUS, Principal
from colloque.storage.engine import Database

log = structlog.get_logger("colloque.api")


def _record_in_own_transaction(
    database: Database, request: Request, principal: Principal, reason: str, tried: Tried
) -> None:
    with database.write() as session:
        record_denied(
            session,
            at=request.app.state.clock.now(),
            principal=principal,
            reason=reason,
            tried=tried,
        )


async def note_denied(request: Request, *, reason: str) -> None:
    """One event per refused request. The refusal is still the answer when the event cannot be
    written: it returns nothing, and turning it into a 500 would tell a prober more."""
    database: Database | None = getattr(request.app.state, "database", None)
    if database is None:  # an app put together without one (a test's bare app)
        return
    tried = tried_in_path(request.scope.get("path_params", {}))
    principal = noted_principal(request) or ANONYMOUS
    try:
        await run_in_threadpool(
            _record_in_own_transaction, database, request, principal, reason, tried
        )
    except Exception as exc:
        log.error("denied_event_not_recorded", error_type=type(exc).__name__)
