"""The practice's agenda, ``/practice/{practice_id}/agenda``: day and week views per practitioner,
several practitioners side by side, and a list view of the same day, with its actions (move,
cancel, mark done or no-show, open the patient's record, book a new one by phone).

The server renders the shell and the facts the screen needs (practitioners, visit types, the
practice's time zone and today there, what this member may do); the component
(web/src/agenda.ts) reads the agenda through the API, polls it with its ETag, sends every change
with the appointment's version (If-Match), and opens the sealed reasons in the crypto worker for
the roles that hold the practice key (docs/scheduling.md, "Appointments' versions and the live
agenda").
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, AnyPrincipal, ClockDep, SettingsDep
from colloque.authorization.policy import Action
from colloque.scheduling.services import get_practice
from colloque.scheduling.timetable import list_practice_agendas
from colloque.web import practice_section
from colloque.web.assets import Assets
from colloque.web.booking_page import key_directory_pin
from colloque.web.practice_entry import enter
from colloque.web.rendering import LangParam, full_name, json_for_html, render
from colloque.web.session import private

router = APIRouter(include_in_schema=False)

ENTRY = "src/agenda.ts"


@router.get(practice_section.PREFIX + "/{practice_text}/agenda", response_class=HTMLResponse)
def agenda_page(
    request: Request,
    practice_text: str,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    entered = enter(request, principal, lang_cookie, practice_text)
    if isinstance(entered, Response):
        return entered
    page, practice_id = entered.page, entered.practice_id
    with db.read() as session:
        practice = get_practice(session, practice_id=practice_id)
        agendas = list_practice_agendas(session, practice_id=practice_id, online_only=False)
    today = clock.now().astimezone(ZoneInfo(practice.timezone)).date()
    island: dict[str, Any] = {
        "lang": page.language.value,
        "practiceId": str(practice_id),
        "practiceName": practice.name,
        "timezone": practice.timezone,
        "today": today.isoformat(),
        "practitioners": [
            {
                "id": str(practitioner.practitioner_id),
                "name": full_name(practitioner),
                "visitTypes": [
                    {"id": str(vt.visit_type_id), "label": vt.label} for vt in visit_types
                ],
            }
            for practitioner, visit_types in agendas
        ],
        "may": {
            "readReasons": practice_section.may(
                principal, Action.PRACTICE_SEALED_WRAPS_READ, practice_id
            ),
            # Notes are sealed for the practitioners' key group: shown in the agenda's legend.
            "readNotes": practice_section.may(
                principal, Action.PRACTICE_CLINICAL_READ, practice_id
            ),
            "change": practice_section.may(
                principal, Action.PRACTICE_APPOINTMENT_CHANGE, practice_id
            ),
            "mark": practice_section.may(principal, Action.PRACTICE_APPOINTMENT_MARK, practice_id),
            "book": practice_section.may(principal, Action.PRACTICE_APPOINTMENT_BOOK, practice_id),
        },
        "pin": key_directory_pin(settings),
        # The unlock form shows whose keys it opens and asks only for the password.
        "email": entered.signed_in.email,
    }
    response = render(
        page,
        "agenda.html",
        practice_name=practice.name,
        section_links=practice_section.section_links(principal, practice_id),
        island=_island(request),
        island_data=json_for_html(island),
    )
    return private(request, response)


def _island(request: Request) -> Any:
    assets: Assets = request.app.state.web_assets
    return assets.entry(ENTRY)
