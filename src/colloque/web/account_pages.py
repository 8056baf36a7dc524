"""The account pages: log in, sign up, the account, and the header's log-out form.

Each page is a shell: the server renders the frame and the signed-in state, and a Svelte
component does the work, talking to the JSON API with the crypto worker (the password never
reaches the server, so no form here posts one). They carry personal data or lead to it, so
nothing of them is cached (``no-store``).
"""

from __future__ import annotations

import base64
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from colloque.accounts.login import do_log_out
from colloque.accounts.models import KeyBundleRow, TotpFactor
from colloque.accounts.passwords import recovery_code_status
from colloque.accounts.sessions import check_csrf
from colloque.api.routes.account_web import clear_cookies
from colloque.clock import Clock
from colloque.config import Settings
from colloque.errors import Forbidden
from colloque.storage.engine import Database
from colloque.web.assets import Assets
from colloque.web.rendering import LangParam, Page, error_page, json_for_html, page_for, render
from colloque.web.session import LOGIN_PATH, login_redirect, signed_in

router = APIRouter(include_in_schema=False)

SIGNUP_PATH = "/signup"
ACCOUNT_PATH = "/account"
LOGIN_ENTRY = "src/login.ts"
SIGNUP_ENTRY = "src/signup.ts"
ACCOUNT_ENTRY = "src/account.ts"
_NEXT_MAX = 2000


def safe_next(value: str | None) -> str | None:
    """A path on this site, or nothing: ``//host`` and ``/\\host`` lead elsewhere in browsers."""
    if not value or len(value) > _NEXT_MAX or not value.startswith("/"):
        return None
    if (
        value.startswith(("//", "/\\"))
        or any(c in value for c in "\\\r\n\t")
        or ":" in value.split("?")[0]
    ):
        return None
    return value


def _shell(
    page: Page, template: str, entry: str, title_key: str, data: dict[str, object]
) -> HTMLResponse:
    assets: Assets = page.request.app.state.web_assets
    response = render(
        page,
        template,
        island=assets.entry(entry),
        island_data=json_for_html({"lang": page.language.value, **data}),
        title_key=title_key,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(LOGIN_PATH, response_class=HTMLResponse)
def login_page(request: Request, lang: LangParam = None) -> Response:
    page = page_for(request, lang)
    raw_next = request.query_params.get("next")
    target = safe_next(raw_next)
    if raw_next is not None and target is None:
        return _no_store(error_page(page, 400, "error.bad_next"))
    if signed_in(request) is not None:
        return _no_store(RedirectResponse(target or ACCOUNT_PATH, status_code=303))
    return _shell(
        page, "account_shell.html", LOGIN_ENTRY, "login.title", {"next": target or ACCOUNT_PATH}
    )


@router.get(SIGNUP_PATH, response_class=HTMLResponse)
def signup_page(request: Request, lang: LangParam = None) -> Response:
    page = page_for(request, lang)
    raw_next = request.query_params.get("next")
    target = safe_next(raw_next)
    if raw_next is not None and target is None:
        return _no_store(error_page(page, 400, "error.bad_next"))
    return _shell(
        page, "account_shell.html", SIGNUP_ENTRY, "signup.title", {"next": target or ACCOUNT_PATH}
    )


@router.get(ACCOUNT_PATH, response_class=HTMLResponse)
def account_page(request: Request, lang: LangParam = None) -> Response:
    page = page_for(request, lang)
    who = signed_in(request)
    if who is None:
        return login_redirect(request)
    raw_next = request.query_params.get("next")
    target = safe_next(raw_next)
    if raw_next is not None and target is None:
        return _no_store(error_page(page, 400, "error.bad_next"))
    database: Database = request.app.state.database
    with database.read() as session:
        keys = session.get(KeyBundleRow, who.account_id)
        totp = session.scalar(
            select(TotpFactor.confirmed_at).where(TotpFactor.account_id == who.account_id)
        )
        recovery = recovery_code_status(session, account_id=who.account_id)
    data: dict[str, object] = {
        "accountId": str(who.account_id),
        "email": who.email,
        "displayName": who.display_name,
        "totpEnabled": totp is not None,
        # A practice member without the second factor: every practice page waits for it, so the
        # page puts its set-up first and then leads back to ``next``.
        "secondFactorNeeded": not who.resolved.principal.mfa_satisfied,
        "next": target,
        # The private keys sealed under the password's KEK: a password change re-seals them in
        # the worker, which needs this copy (the page is no-store; it is ciphertext either way).
        "sealedByPassword": None
        if keys is None
        else base64.b64encode(keys.sealed_by_password).decode(),
        "recovery": None
        if recovery is None
        else {
            "createdAt": recovery.created_at.isoformat(),
            "usedAt": None if recovery.used_at is None else recovery.used_at.isoformat(),
        },
    }
    return _shell(page, "account_shell.html", ACCOUNT_ENTRY, "account.title", data)


async def _posted_csrf(request: Request) -> str:
    # The one form field of the log-out form, read by hand: no multipart parser for one field.
    body = (await request.body())[:4096].decode("utf-8", "replace")
    return parse_qs(body).get("csrf_token", [""])[0]


@router.post("/logout")
def logout(
    request: Request,
    csrf_token: Annotated[str, Depends(_posted_csrf)],
    lang: LangParam = None,
) -> Response:
    who = signed_in(request)
    settings: Settings = request.app.state.settings
    if who is not None:
        try:
            check_csrf(who.resolved, method="POST", header=csrf_token)
        except Forbidden:
            return _no_store(error_page(page_for(request, lang), 403, "error.forbidden"))
        database: Database = request.app.state.database
        clock: Clock = request.app.state.clock
        with database.write() as session:
            do_log_out(session, now=clock.now(), resolved=who.resolved)
    response = RedirectResponse("/", status_code=303)
    clear_cookies(response, secure=settings.effective_cookie_secure)
    return _no_store(response)
