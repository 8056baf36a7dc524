"""The booking page: the chosen slot, the visit type, who it is for and the reason, sealed in the
browser (web/src/booking.ts). The server renders the practice's public facts and the deployment's
key directory pin; the rest needs a signed-in account and JavaScript, since the reason and the
visit type are encrypted on the device (docs/crypto.md 5.11).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB
from colloque.config import Settings
from colloque.errors import NotFound
from colloque.keydirectory.config import LogKey
from colloque.scheduling import services as scheduling
from colloque.scheduling import timetable
from colloque.web.assets import Assets
from colloque.web.rendering import (
    LangParam,
    error_page,
    full_name,
    json_for_html,
    page_for,
    practitioner_url,
    render,
    slot_text,
)
from colloque.web.session import signed_in

router = APIRouter(include_in_schema=False)

BOOKING_ENTRY = "src/booking.ts"


def booking_url(practice_id: UUID, practitioner_id: UUID, slot: str, visit_type_id: UUID) -> str:
    query = f"slot={quote(slot, safe='')}&visit_type={visit_type_id}"
    return f"/book/{practice_id}/{practitioner_id}?{query}"


def key_directory_pin(settings: Settings) -> dict[str, Any]:
    """What the browser pins: the same values a Python client is configured with. A server that
    is not honest can serve another pin too: the browser's remembered state and an out-of-band
    comparison are what catch it (docs/threat-model.md)."""
    return {
        "origin": settings.key_directory_origin,
        "logPublicKey": base64.b64encode(LogKey.from_settings(settings).public_key).decode(),
        "witnesses": {w.name: base64.b64encode(w.public_key).decode() for w in settings.witnesses},
        "threshold": settings.key_directory_witness_threshold,
    }


def _slot(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@router.api_route(
    "/book/{practice_text}/{practitioner_text}",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
)
def booking_page(
    request: Request,
    practice_text: str,
    practitioner_text: str,
    db: DB,
    lang_cookie: LangParam = None,
) -> Response:
    page = page_for(request, lang_cookie)
    try:
        practice_id, practitioner_id = UUID(practice_text), UUID(practitioner_text)
    except ValueError:
        return error_page(page, 404, "error.not_found")
    slot = _slot(request.query_params.get("slot"))
    if slot is None:
        return error_page(page, 400, "error.bad_query")
    try:
        with db.read() as session:
            practice = scheduling.get_practice(session, practice_id=practice_id)
            agendas = timetable.list_practice_agendas(session, practice_id=practice_id)
    except NotFound:
        return error_page(page, 404, "error.not_found")
    found = next(((p, vts) for p, vts in agendas if p.practitioner_id == practitioner_id), None)
    if found is None or not found[1]:
        return error_page(page, 404, "error.not_found")
    practitioner, visit_types = found
    zone = ZoneInfo(practice.timezone)
    local = slot.astimezone(zone)
    wanted = request.query_params.get("visit_type", "")
    chosen = next((vt for vt in visit_types if str(vt.visit_type_id) == wanted), visit_types[0])
    settings: Settings = request.app.state.settings
    data = {
        "lang": page.language.value,
        "practiceId": str(practice.practice_id),
        "practitionerId": str(practitioner.practitioner_id),
        "practitionerName": full_name(practitioner),
        "practiceName": practice.name,
        "address": f"{practice.address}, {practice.postcode} {practice.city}",
        "timezone": practice.timezone,
        "slot": local.isoformat(),
        "visitTypes": [
            {
                "id": str(vt.visit_type_id),
                "label": vt.label,
                "durationMinutes": vt.duration_minutes,
                "reminders": vt.reminders,
            }
            for vt in visit_types
        ],
        "visitTypeId": str(chosen.visit_type_id),
        "practitionerUrl": practitioner_url(practice.practice_id, practitioner.practitioner_id),
        "pin": key_directory_pin(settings),
        # Who the page was asked for by: the unlock form shows the address and asks only for the
        # password; none, and the page offers to log in or sign up in place.
        "email": who.email if (who := signed_in(request)) is not None else None,
    }
    assets: Assets = request.app.state.web_assets
    island = assets.entry(BOOKING_ENTRY)
    # The log-in and sign-up forms, loaded when asked for: their files with their integrity.
    data["lazy"] = {
        chunk: [{"path": "/" + asset.path, "integrity": asset.integrity} for asset in files]
        for chunk, files in island.lazy.items()
    }
    return render(
        page,
        "book.html",
        name=full_name(practitioner),
        practice=practice,
        slot=slot_text(local, page.language),
        booking_data=json_for_html(data),
        island=island,
        next_path=quote(request.url.path + "?" + request.url.query, safe=""),
    )
