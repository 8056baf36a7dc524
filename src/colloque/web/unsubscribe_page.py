"""``/unsubscribe/{token}``: the one-click unsubscribe of reminders (RFC 8058).

Reminder emails carry ``List-Unsubscribe: <.../unsubscribe/TOKEN>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: the mail client POSTs
``List-Unsubscribe=One-Click`` to the link, with no login and no cookie, and reminders stop for
whom the signed token names (``notifications.unsubscribe``). A GET, which mail scanners follow
on their own, changes nothing: it shows a page whose button makes the same POST. A forged or
expired token answers 404, like a page that does not exist.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, ClockDep, SettingsDep
from colloque.delivery.preferences import do_unsubscribe
from colloque.errors import NotFound
from colloque.notifications.unsubscribe import InvalidToken, Unsubscribe, open_token
from colloque.web.rendering import LangParam, Page, error_page, page_for, render

router = APIRouter(include_in_schema=False)

PATH = "/unsubscribe/{token}"
#: The token's longest writing: a longer one is not ours, whatever it holds.
_MAX_TOKEN = 128
_ONE_CLICK = "One-Click"


def _open(token: str, settings: SettingsDep, clock: ClockDep) -> Unsubscribe | None:
    if len(token) > _MAX_TOKEN:
        return None
    try:
        return open_token(settings.server_keys.unsubscribe_token, token, now=clock.now())
    except InvalidToken:
        return None


@router.get(PATH, response_class=HTMLResponse)
def unsubscribe_page(
    request: Request,
    token: str,
    settings: SettingsDep,
    clock: ClockDep,
    lang_cookie: LangParam = None,
) -> Response:
    page = page_for(request, lang_cookie)
    if _open(token, settings, clock) is None:
        return error_page(page, 404, "error.not_found")
    return _private(render(page, "unsubscribe.html", done=False, action=request.url.path))


@router.post(PATH, response_class=HTMLResponse)
async def unsubscribe(
    request: Request,
    token: str,
    db: DB,
    settings: SettingsDep,
    clock: ClockDep,
    lang_cookie: LangParam = None,
) -> Response:
    page = page_for(request, lang_cookie)
    who = _open(token, settings, clock)
    if who is None:
        return error_page(page, 404, "error.not_found")
    if not _one_click(request.headers.get("content-type", ""), await request.body()):
        return _bad_request(page)
    try:
        with db.write() as session:
            do_unsubscribe(session, now=clock.now(), who=who)
    except NotFound:
        return error_page(page, 404, "error.not_found")
    return _private(render(page, "unsubscribe.html", done=True, action=request.url.path))


def _one_click(content_type: str, body: bytes) -> bool:
    """The body RFC 8058 asks for, form-encoded (browsers, most mail clients) or multipart."""
    text = body[:4096].decode("utf-8", errors="replace")
    if content_type.startswith("multipart/form-data"):
        return 'name="List-Unsubscribe"' in text and _ONE_CLICK in text
    return parse_qs(text).get("List-Unsubscribe") == [_ONE_CLICK]


def _bad_request(page: Page) -> HTMLResponse:
    return error_page(page, 400, "error.bad_unsubscribe")


def _private(response: HTMLResponse) -> HTMLResponse:
    # The link is a bearer of a small power: keep it out of caches and of the next page's Referer.
    response.headers["Cache-Control"] = "no-store"
    return response
