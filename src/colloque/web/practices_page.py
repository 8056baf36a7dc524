"""``/practice``: the practices a member works at, each with the pages their role opens there,
and the way to create another. The header links here once an account works at more than one
practice (rendering.signed_in_links); with one, it links straight to that practice's agenda."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, AnyPrincipal
from colloque.principal import MEMBER_ROLES
from colloque.scheduling.services import member_practices
from colloque.web import practice_section
from colloque.web.rendering import LangParam, page_for, render
from colloque.web.session import has_account, login_redirect, private
from colloque.web.setup_pages import NEW_PRACTICE_PATH

router = APIRouter(include_in_schema=False)

#: How the list names the member's role (catalogue keys).
ROLE_KEYS = {role: f"practices.role.{role.value}" for role in MEMBER_ROLES}


@router.get(practice_section.PRACTICES_PATH, response_class=HTMLResponse)
def practices_page(
    request: Request, db: DB, principal: AnyPrincipal, lang_cookie: LangParam = None
) -> Response:
    if not has_account(principal):
        return login_redirect(request)
    page = page_for(request, lang_cookie)
    with db.read() as session:
        found = member_practices(session, principal=principal)
    practices = [
        {
            "name": entry.practice.name,
            "place": f"{entry.practice.address}, {entry.practice.postcode} {entry.practice.city}",
            "role_key": ROLE_KEYS[entry.role],
            "links": practice_section.section_links(principal, entry.practice.practice_id),
            # Without the second factor the agenda's page leads to its set-up.
            "agenda": practice_section.agenda_url(entry.practice.practice_id),
        }
        for entry in found
    ]
    return private(
        request,
        render(page, "practices.html", practices=practices, new_practice=NEW_PRACTICE_PATH),
    )
