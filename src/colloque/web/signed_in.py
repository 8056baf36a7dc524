"""What the signed-in pages share: who is asking, the way to the login page, and the headers of a
page that shows personal data.

The pages read the session from the same cookie as the API (``colloque.api.deps``), so a page and
the calls its components make are one session. A GET needs no CSRF token; the components send it
with every change they make through the API.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from colloque.config import Environment
from colloque.principal import Principal
from colloque.web.security import page_headers

LOGIN_PATH = "/login"


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


def signed_in(principal: Principal) -> bool:
    return principal.is_authenticated and principal.account_id is not None
