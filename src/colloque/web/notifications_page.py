""" "Notifications": every message Colloque sent to the signed-in account, each under the short
reference the message names, and a box to check a reference read in a mail or an SMS: found, the
message is from Colloque; not found, it is not, and its links are not to be followed.

The list and the check are the server's (``delivery.inbox``) and work without JavaScript (the
check is a GET form); the island (web/src/notifications.ts) answers the check in place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, AnyPrincipal, ClockDep
from colloque.delivery import inbox
from colloque.errors import InvalidInput, NotFound
from colloque.notifications.services import Template
from colloque.web.assets import Assets
from colloque.web.rendering import LangParam, Page, json_for_html, page_for, render
from colloque.web.session import has_account, login_redirect, private

router = APIRouter(include_in_schema=False)

PATH = "/me/notifications"
ENTRY = "src/notifications.ts"
PAGE_SIZE = 50
#: The templates the page names (catalogue ``notifications.template.<name>``): every one, so that
#: a new template without a label fails the catalogue test.
TEMPLATES = frozenset(template.value for template in Template)


def _when(instant: datetime, timezone: str | None, page: Page) -> str:
    """In the practice's time zone, as the message wrote it; an account notice in UTC, as its
    text does."""
    zone = ZoneInfo(timezone or "UTC")
    text = format_datetime(
        instant.astimezone(zone), format="EEEE d MMMM y, HH:mm", locale=page.language.value
    )
    return text if timezone else f"{text} UTC"


def _title(entry: inbox.InboxEntry, page: Page) -> str:
    if entry.template in TEMPLATES:
        return page.t(f"notifications.template.{entry.template}")
    return entry.subject or page.t("notifications.template.other")


def _item(entry: inbox.InboxEntry, page: Page) -> dict[str, Any]:
    return {
        "reference": entry.reference,
        "title": _title(entry, page),
        "sent": _when(entry.sent_at or entry.created_at, entry.practice_timezone, page),
        "on_its_way": entry.status is inbox.InboxStatus.ON_ITS_WAY,
        "practice": entry.practice_name,
        "appointment": _when(entry.appointment_starts_at, entry.practice_timezone, page)
        if entry.appointment_starts_at is not None
        else None,
    }


@router.get(PATH, response_class=HTMLResponse)
def notifications_page(
    request: Request,
    db: DB,
    clock: ClockDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    if not has_account(principal):
        return login_redirect(request)
    page = page_for(request, lang_cookie)
    asked = request.query_params.get("reference", "").strip()
    before = request.query_params.get("before") or None
    checked: dict[str, Any] | None = None
    with db.write() as session:  # reading them is audited
        try:
            listed = inbox.list_inbox(
                session, now=clock.now(), principal=principal, before=before, limit=PAGE_SIZE
            )
        except InvalidInput:  # a cursor this page did not make: the first page
            listed = inbox.list_inbox(
                session, now=clock.now(), principal=principal, limit=PAGE_SIZE
            )
    if asked:
        checked = _check(db, clock, principal, page, asked)
    assets: Assets = request.app.state.web_assets
    response = render(
        page,
        "notifications.html",
        items=[_item(entry, page) for entry in listed.entries],
        older=f"{PATH}?before={listed.next_before}" if listed.next_before else None,
        asked=asked,
        checked=checked,
        island=assets.entry(ENTRY),
        island_data=json_for_html({"lang": page.language.value}),
    )
    return private(request, response)


def _check(
    db: DB, clock: ClockDep, principal: AnyPrincipal, page: Page, asked: str
) -> dict[str, Any]:
    """The answer to a reference typed in the form: found (with what it was), not found, or not
    a reference at all."""
    try:
        with db.write() as session:
            entry = inbox.check_reference(
                session, now=clock.now(), principal=principal, reference=asked
            )
    except NotFound:
        return {"outcome": "not_found"}
    except InvalidInput:
        return {"outcome": "invalid"}
    return {"outcome": "found", "item": _item(entry, page)}
