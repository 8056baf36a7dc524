"""The practice's members, ``/practice/{practice_id}/members``: who works there, their role, and
the state of their key (no keys yet, waiting for the practice key, holding the current one) and
of the practitioners' key (held, waiting for a colleague's device, not for their role), the
pending invitations, and for admins the changes: invite, revoke an invitation, share the key with
a newcomer, remove a member (the browser signs the removal and rotates the key group), change a
member's role (the browser signs it where the practice signs its memberships), and create the key
group of a practice that has none.

The server renders the shell with the members' names (its own word, the log signs no names); the
island (web/src/members.ts) reads the key group through the API and does every key operation in
the crypto worker (docs/crypto.md, "The browser's side of group administration").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.accounts.services import member_names
from colloque.api.deps import DB, AnyPrincipal, SettingsDep
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

ENTRY = "src/members.ts"


@router.get(practice_section.PREFIX + "/{practice_text}/members", response_class=HTMLResponse)
def members_page(
    request: Request,
    practice_text: str,
    db: DB,
    settings: SettingsDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    entered = enter(request, principal, lang_cookie, practice_text, Action.PRACTICE_KEYS_VIEW)
    if isinstance(entered, Response):
        return entered
    page, practice_id = entered.page, entered.practice_id
    with db.read() as session:
        practice = get_practice(session, practice_id=practice_id)
        names = member_names(session, practice_id=practice_id)
        agendas = list_practice_agendas(session, practice_id=practice_id, online_only=False)
    island: dict[str, Any] = {
        "lang": page.language.value,
        "practiceId": str(practice_id),
        "me": str(principal.account_id),
        "names": {str(account_id): name for account_id, name in names.items()},
        # A practitioner is invited for one of the practice's practitioners.
        "practitioners": [
            {"id": str(practitioner.practitioner_id), "name": full_name(practitioner)}
            for practitioner, _visit_types in agendas
        ],
        # Admins act (the API decides again on every call); the others read.
        "manage": practice_section.may(principal, Action.PRACTICE_KEYS_MANAGE, practice_id),
        "pin": key_directory_pin(settings),
        "email": entered.signed_in.email,
    }
    response = render(
        page,
        "members.html",
        practice_name=practice.name,
        section_links=practice_section.section_links(principal, practice_id),
        island=_island(request),
        island_data=json_for_html(island),
    )
    return private(request, response)


def _island(request: Request) -> Any:
    assets: Assets = request.app.state.web_assets
    return assets.entry(ENTRY)
