""" "Relatives": the holder's own record and the relatives they manage. The list is rendered here;
adding, correcting and removing go through the API from a component (web/src/relatives.ts), which
reloads the page afterwards.
"""

from __future__ import annotations

from typing import Any

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, AnyPrincipal, ClockDep
from colloque.patients import services as patients
from colloque.patients.services import Relationship
from colloque.web.assets import Assets
from colloque.web.rendering import LangParam, json_for_html, page_for, render
from colloque.web.session import has_account, login_redirect, private

router = APIRouter(include_in_schema=False)

PATH = "/me/relatives"
ENTRY = "src/relatives.ts"
DONE = frozenset({"added", "changed", "removed"})
#: What a relative may be to the holder, in the order the form offers them.
RELATIONSHIPS = [r.value for r in Relationship if r is not Relationship.SELF]


@router.get(PATH, response_class=HTMLResponse)
def relatives_page(
    request: Request,
    db: DB,
    clock: ClockDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    if not has_account(principal):
        return login_redirect(request)
    page = page_for(request, lang_cookie)
    with db.write() as session:  # the listing is audited
        people = patients.list_patients(session, now=clock.now(), principal=principal)
        rows: list[dict[str, Any]] = [
            {
                "id": str(p.patient_id),
                "first_name": p.first_name,
                "last_name": p.last_name,
                "birth_date": p.birth_date.isoformat() if p.birth_date else None,
                "born": format_date(p.birth_date, format="long", locale=page.language.value)
                if p.birth_date
                else None,
                "relationship": p.relationship,
            }
            for p in people
        ]
    own = [row for row in rows if row["relationship"] == Relationship.SELF]
    relatives = [row for row in rows if row["relationship"] != Relationship.SELF]
    assets: Assets = request.app.state.web_assets
    island = {
        "lang": page.language.value,
        "relationships": RELATIONSHIPS,
        "relatives": [
            {
                "id": row["id"],
                "firstName": row["first_name"],
                "lastName": row["last_name"],
                "birthDate": row["birth_date"] or "",
                "relationship": row["relationship"],
            }
            for row in relatives
        ],
    }
    done = request.query_params.get("done")
    response = render(
        page,
        "relatives.html",
        own=own,
        relatives=relatives,
        done=done if done in DONE else None,
        island=assets.entry(ENTRY),
        island_data=json_for_html(island),
    )
    return private(request, response)
