"""Plugging authorization into the HTTP app: the probing guard and the principal hooks.

The principal hooks (active operator grants, :func:`probing.note_principal`,
:func:`probing.check_not_locked`) belong where a request's principal is resolved: ``_session``
in ``api/deps.py`` and ``accounts.sessions.resolve_session`` (docs/authorization.md, "Wiring").
Until they are called there, :func:`install` runs them in a wrapper around the signed-in
dependency (``CurrentPrincipal``), in one extra short read transaction per authenticated
request. Once they are, call :func:`probing.install` instead of this.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from colloque.api import deps
from colloque.authorization import probing
from colloque.authorization.principal import Principal
from colloque.authorization.services import with_operator_grants
from colloque.clock import Clock
from colloque.storage.engine import Database


def install(app: FastAPI, *, secret: str, limits: probing.ProbingLimits | None = None) -> None:
    probing.install(app, secret=secret, limits=limits)
    app.dependency_overrides[deps._signed_in] = _signed_in_with_hooks


def _signed_in_with_hooks(
    request: Request, principal: Annotated[Principal, Depends(deps._principal)]
) -> Principal:
    principal = deps._signed_in(principal)
    database: Database = request.app.state.database
    clock: Clock = request.app.state.clock
    now = clock.now()
    with database.read() as session:
        principal = with_operator_grants(session, principal, now=now)
        probing.note_principal(request, principal)
        probing.check_not_locked(session, request=request, principal=principal, now=now)
    return principal
