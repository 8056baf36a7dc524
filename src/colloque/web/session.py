"""Who is signed in, for the pages: the browser session cookie, read on the server, the way to the
login page, and the headers of a page that shows personal data.

The pages read the session from the same cookie as the API (``colloque.api.deps``), so a page and
the calls its components make are one session. The pages only read the session; the API opens and
ends it (login, password change), except the log-out form, which must work from every page's header
without the page's JavaScript. A GET needs no CSRF token; the components send it with every change
they make through the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote
from uuid import UUID

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from colloque.accounts.models import Account
from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE, ResolvedSession, resolve_session
from colloque.clock import Clock
from colloque.config import Environment
from colloque.errors import Unauthenticated
from colloque.principal import Principal
from colloque.storage.engine import Database
from colloque.web.security import page_headers

LOGIN_PATH = "/login"


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


def login_redirect(request: Request) -> RedirectResponse:
    """To the login page, which comes back here afterwards (``next``: a path of this site only)."""
    here = request.url.path
    if request.url.query:
        here += "?" + request.url.query
    response = RedirectResponse(f"{LOGIN_PATH}?next={quote(here, safe='/')}", status_code=303)
    private(request, response)
    return response


def private(request: Request, response: Response) -> Response:
    """Personal data: the strict page headers, and never kept by the browser or a proxy (a shared
    computer's back button or disk cache must not show someone's appointments)."""
    production = request.app.state.settings.environment is Environment.PRODUCTION
    page_headers(response.headers, production=production)
    response.headers["Cache-Control"] = "no-store"
    return response


def has_account(principal: Principal) -> bool:
    """An API principal (``colloque.api.deps``) that is a signed-in account, not anonymous."""
    return principal.is_authenticated and principal.account_id is not None
