"""Dependencies that route signatures read as types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from colloque.accounts.services import resolve_principal
from colloque.authorization.principal import Principal
from colloque.clock import Clock
from colloque.errors import Unauthenticated
from colloque.storage.engine import Database

_bearer = HTTPBearer(
    auto_error=False, description="An access token: `Authorization: Bearer clq_...`"
)


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


DB = Annotated[Database, Depends(_database)]
ClockDep = Annotated[Clock, Depends(_clock)]


def _principal(
    database: DB,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials is not None else None
    with database.read() as session:
        return resolve_principal(session, now=clock.now(), token=token)


def _signed_in(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if not principal.is_authenticated:
        raise Unauthenticated("sign in to do this")
    return principal


#: Anyone, signed in or not (search, public practice pages).
AnyPrincipal = Annotated[Principal, Depends(_principal)]
#: A signed-in account; anonymous requests get a 401 problem.
CurrentPrincipal = Annotated[Principal, Depends(_signed_in)]
