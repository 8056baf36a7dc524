"""A practice's settings and time off, for its members.

``/practice/{practice}/settings``: practitioners, visit types, weekly hours, breaks, booking rules
and the practice's settings; ``/practice/{practice}/time-off``: absences and holidays of the
agendas the member may change. The server renders the shells; the islands (web/src/settings.ts,
web/src/time-off.ts) read and edit through the JSON API, every edit naming the version it read
(If-Match), so that two members never overwrite each other unseen. What a member may do is
asked of the one policy here only to choose the controls; the API decides again on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, AnyPrincipal, ClockDep
from colloque.authorization.policy import (
    Action,
    AgendaTarget,
    authorize,
)
from colloque.scheduling.services import get_practice
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import list_practice_agendas
from colloque.web.assets import Assets
from colloque.web.practice_entry import enter
from colloque.web.practice_section import PREFIX, may, section_links
from colloque.web.rendering import (
    LangParam,
    Page,
    error_page,
    json_for_html,
    render,
    specialty_label,
)
from colloque.web.session import private

router = APIRouter(include_in_schema=False)

SETTINGS_ENTRY = "src/settings.ts"
TIME_OFF_ENTRY = "src/time-off.ts"


def _practice_page(
    request: Request,
    db: DB,
    clock: ClockDep,
    principal: AnyPrincipal,
    lang_cookie: str | None,
    practice_text: str,
    build: Callable[[Page, UUID, dict[str, Any]], Response],
) -> Response:
    """Signed out: to the log in page; otherwise the practice section's answer
    (practice_entry.py) for anybody who may not see the agenda."""
    entered = enter(request, principal, lang_cookie, practice_text)
    if isinstance(entered, Response):
        return entered
    page, practice_id = entered.page, entered.practice_id
    with db.read() as session:
        practice = get_practice(session, practice_id=practice_id)
        zone = ZoneInfo(practice.timezone)
        practitioners = [
            {
                "id": str(p.practitioner_id),
                "name": f"{p.title} {p.first_name} {p.last_name}".strip(),
            }
            for p, _types in list_practice_agendas(session, practice_id=practice_id)
        ]
    shared = {
        "lang": page.language.value,
        "practiceId": str(practice_id),
        "practiceName": practice.name,
        "timezone": practice.timezone,
        "today": clock.now().astimezone(zone).date().isoformat(),
        "practitioners": practitioners,
    }
    return private(request, build(page, practice_id, shared))


def _shell(
    page: Page, request: Request, template: str, entry: str, island: dict[str, Any], **context: Any
) -> Response:
    assets: Assets = request.app.state.web_assets
    return render(
        page,
        template,
        island=assets.entry(entry),
        island_data=json_for_html(island),
        **context,
    )


@router.get(PREFIX + "/{practice_text}/settings", response_class=HTMLResponse)
def settings_page(
    request: Request,
    practice_text: str,
    db: DB,
    clock: ClockDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
    setup: bool = False,
) -> Response:
    def build(page: Page, practice_id: UUID, shared: dict[str, Any]) -> Response:
        island = {
            **shared,
            "canManage": may(principal, Action.PRACTICE_AGENDA_MANAGE, practice_id),
            "canManageSettings": may(principal, Action.PRACTICE_SETTINGS_MANAGE, practice_id),
            # For the new practitioner form, in the page's language.
            "specialties": sorted(
                (
                    {"value": code.value, "label": specialty_label(code.value, page.language)}
                    for code in Specialty
                ),
                key=lambda choice: choice["label"],
            ),
        }
        return _shell(
            page,
            request,
            "practice_settings.html",
            SETTINGS_ENTRY,
            island,
            practice_name=shared["practiceName"],
            section_links=section_links(principal, practice_id),
            # Right after /practice/new: the page says what to fill in and where to go next.
            members_url=f"{PREFIX}/{practice_id}/members" if setup else None,
        )

    return _practice_page(request, db, clock, principal, lang_cookie, practice_text, build)


@router.get(PREFIX + "/{practice_text}/time-off", response_class=HTMLResponse)
def time_off_page(
    request: Request,
    practice_text: str,
    db: DB,
    clock: ClockDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    def build(page: Page, practice_id: UUID, shared: dict[str, Any]) -> Response:
        # The agendas whose time off this member may change: a practitioner's own only.
        mine = [
            p
            for p in shared["practitioners"]
            if authorize(
                principal, Action.PRACTICE_TIME_OFF_MANAGE, AgendaTarget(practice_id, UUID(p["id"]))
            )
        ]
        if not mine:
            return error_page(page, 403, "error.forbidden")
        return _shell(
            page,
            request,
            "time_off.html",
            TIME_OFF_ENTRY,
            {**shared, "practitioners": mine},
            practice_name=shared["practiceName"],
            section_links=section_links(principal, practice_id),
        )

    return _practice_page(request, db, clock, principal, lang_cookie, practice_text, build)
