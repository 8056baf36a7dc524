"""Who is signed in, for the pages: the browser session cookie, read on the server.

The pages only read the session; the API opens and ends it (login, password change), except the
log-out form, which must work from every page's header without the page's JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from fastapi import Request

from colloque.accounts.models import Account
from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE, ResolvedSession, resolve_session
from colloque.clock import Clock
from colloque.errors import Unauthenticated
from colloque.storage.engine import Database


@dataclass(frozen=True, slots=True)
class SignedIn:
    account_id: UUID
    email: str
    display_name: str
    resolved: ResolvedSession
    #: Echoed by the log-out form (double submit, as the API's X-CSRF-Token header).
    csrf_token: str


def signed_in(request: Request) -> SignedIn | None:
    """The account behind a valid session cookie; an ended or unknown one is nobody, as in the API."""
    if not hasattr(request.state, "signed_in"):
        request.state.signed_in = _resolve(request)
    found: SignedIn | None = request.state.signed_in
    return found


def _resolve(request: Request) -> SignedIn | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    database: Database = request.app.state.database
    clock: Clock = request.app.state.clock
    try:
        with database.read() as session:
            resolved = resolve_session(session, now=clock.now(), token=token)
            account = session.get(Account, resolved.principal.account_id)
    except Unauthenticated:
        return None
    if account is None or account.email is None:
        return None
    return SignedIn(
        account_id=account.account_id,
        email=account.email,
        display_name=account.display_name,
        resolved=resolved,
        csrf_token=request.cookies.get(CSRF_COOKIE, ""),
    )
