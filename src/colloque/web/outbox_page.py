"""The messages the mass-change breaker holds, ``/practice/{practice_id}/outbox``, for the
practice's admins: each pause (who tripped it, when, how many cancellations and moves wait) with
Release and Discard. The link the admins' alert mail gives (docs/notifications.md).

The server renders the shell; the island (web/src/outbox.ts) lists and decides through the JSON
API, which checks the policy again on every call. No patient is shown: there is none to show.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, AnyPrincipal
from colloque.authorization.policy import Action
from colloque.scheduling.services import get_practice
from colloque.web import practice_section
from colloque.web.assets import Assets
from colloque.web.practice_entry import enter
from colloque.web.rendering import LangParam, json_for_html, render
from colloque.web.session import private

router = APIRouter(include_in_schema=False)

ENTRY = "src/outbox.ts"


@router.get(practice_section.PREFIX + "/{practice_text}/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    practice_text: str,
    db: DB,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    entered = enter(request, principal, lang_cookie, practice_text, Action.PRACTICE_OUTBOX_VIEW)
    if isinstance(entered, Response):
        return entered
    page, practice_id = entered.page, entered.practice_id
    with db.read() as session:
        practice = get_practice(session, practice_id=practice_id)
    island: dict[str, Any] = {"lang": page.language.value, "practiceId": str(practice_id)}
    assets: Assets = request.app.state.web_assets
    response = render(
        page,
        "outbox.html",
        practice_name=practice.name,
        section_links=practice_section.section_links(principal, practice_id),
        island=assets.entry(ENTRY),
        island_data=json_for_html(island),
    )
    return private(request, response)
