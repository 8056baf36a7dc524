"""``/practice/new``: a signed-in account creates a practice from the browser.

The page asks for the practice's name, address and city (picked from the bundled list of French
places, colloque.places, through ``GET /api/v1/places``: the coordinates and the time zone come
with the place), then creates it with ``POST /api/v1/practices``; its creator is its first admin.
The island then opens the new practice's settings in set-up mode (practitioners, visit types,
hours and rules, settings_pages.py), which end on the members page, where the admin creates the
practice's key group. A member without a second factor passes by its set-up on the way
(practice_entry.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import AnyPrincipal
from colloque.web.assets import Assets
from colloque.web.practice_section import PREFIX
from colloque.web.rendering import LangParam, json_for_html, page_for, render
from colloque.web.session import has_account, login_redirect, private

router = APIRouter(include_in_schema=False)

NEW_PRACTICE_PATH = PREFIX + "/new"
NEW_PRACTICE_ENTRY = "src/new-practice.ts"

#: The zones a French practice may be in: mainland France and Corsica, and each overseas
#: département's own (the picked place proposes its own; an admin may correct it).
TIMEZONES = (
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "Indian/Reunion",
    "Indian/Mayotte",
)


@router.get(NEW_PRACTICE_PATH, response_class=HTMLResponse)
def new_practice_page(
    request: Request, principal: AnyPrincipal, lang_cookie: LangParam = None
) -> Response:
    if not has_account(principal):
        return login_redirect(request)
    page = page_for(request, lang_cookie)
    assets: Assets = request.app.state.web_assets
    island = {"lang": page.language.value, "timezones": list(TIMEZONES)}
    return private(
        request,
        render(
            page,
            "new_practice.html",
            island=assets.entry(NEW_PRACTICE_ENTRY),
            island_data=json_for_html(island),
        ),
    )
