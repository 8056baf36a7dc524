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
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, AnyPrincipal, ClockDep, SettingsDep
from colloque.authorization.policy import Action, PracticeTarget, authorize
from colloque.principal import Principal
from colloque.scheduling.services import get_practice
from colloque.scheduling.timetable import list_practice_agendas
from colloque.web import practice_section
from colloque.web.assets import Assets
from colloque.web.booking_page import key_directory_pin
from colloque.web.practice_entry import admitted
from colloque.web.rendering import LangParam, full_name, json_for_html, page_for, render
from colloque.web.session import has_account, login_redirect, private, signed_in

router = APIRouter(include_in_schema=False)

ENTRY = "src/agenda.ts"


def _may(principal: Principal, action: Action, practice_id: UUID) -> bool:
    return bool(authorize(principal, action, PracticeTarget(practice_id)))


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
    signed_in_as = signed_in(request)
    if signed_in_as is None or not has_account(principal):
        return login_redirect(request)
    page = page_for(request, lang_cookie)
    practice_id = admitted(request, page, principal, practice_text)
    if isinstance(practice_id, Response):
        return practice_id
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
            "readReasons": _may(principal, Action.PRACTICE_SEALED_WRAPS_READ, practice_id),
            # Notes are sealed for the practitioners' key group: shown in the agenda's legend.
            "readNotes": _may(principal, Action.PRACTICE_CLINICAL_READ, practice_id),
            "change": _may(principal, Action.PRACTICE_APPOINTMENT_CHANGE, practice_id),
            "mark": _may(principal, Action.PRACTICE_APPOINTMENT_MARK, practice_id),
            "book": _may(principal, Action.PRACTICE_APPOINTMENT_BOOK, practice_id),
        },
        "pin": key_directory_pin(settings),
        # The unlock form shows whose keys it opens and asks only for the password.
        "email": signed_in_as.email,
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
