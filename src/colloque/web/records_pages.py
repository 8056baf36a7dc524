""" "Messages and documents": what a patient and a practice exchange, end-to-end encrypted.

``/me/records`` lists each practice that knows the signed-in holder or one of their relatives;
``/me/records/{practice}/{patient}`` is the conversation and the documents of one of those pairs.
The server renders the shell only: the messages, the file names and the files are sealed, so a
component (web/src/records.ts) unlocks the keys in the crypto worker, fetches the sealed items
through the API and opens, seals, encrypts and decrypts them there.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.api.deps import DB, AnyPrincipal, ClockDep, SettingsDep
from colloque.crypto.documents import MAX_DOCUMENT_BYTES
from colloque.errors import NotFound
from colloque.patients.services import Relationship
from colloque.records import threads
from colloque.web.assets import Assets
from colloque.web.booking_page import key_directory_pin
from colloque.web.rendering import LangParam, Page, error_page, json_for_html, page_for, render
from colloque.web.session import has_account, login_redirect, private, signed_in

router = APIRouter(include_in_schema=False)

PATH = "/me/records"
ENTRY = "src/records.ts"


def record_url(practice_id: UUID, patient_id: UUID) -> str:
    return f"{PATH}/{practice_id}/{patient_id}"


def _who(page: Page, place: threads.Place) -> str:
    patient = place.patient
    if patient.relationship == Relationship.SELF:
        return page.t("records.for_self")
    return f"{patient.first_name} {patient.last_name}".strip()


@router.get(PATH, response_class=HTMLResponse)
def records_index(
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
        places = threads.list_places(session, now=clock.now(), principal=principal)
        practices: dict[UUID, dict[str, Any]] = {}
        for place in places:
            entry = practices.setdefault(
                place.practice_id, {"name": place.practice_name, "people": []}
            )
            entry["people"].append(
                {
                    "who": _who(page, place),
                    "url": record_url(place.practice_id, place.patient.patient_id),
                }
            )
    response = render(page, "records.html", practices=list(practices.values()))
    return private(request, response)


@router.get(PATH + "/{practice_text}/{patient_text}", response_class=HTMLResponse)
def record_page(
    request: Request,
    practice_text: str,
    patient_text: str,
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
    # A malformed id, an unknown one and someone else's get the same page: telling them apart
    # would tell a prober which patients a practice knows.
    not_found = private(request, error_page(page, 404, "error.not_found"))
    ids = _uuid(practice_text), _uuid(patient_text)
    if ids[0] is None or ids[1] is None:
        return not_found
    try:
        with db.write() as session:  # the read is audited
            place = threads.get_place(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=ids[0],
                patient_id=ids[1],
            )
    except NotFound:
        return not_found
    assets: Assets = request.app.state.web_assets
    island = {
        "lang": page.language.value,
        "practiceId": str(place.practice_id),
        "patientId": str(place.patient.patient_id),
        "practiceName": place.practice_name,
        "maxBytes": MAX_DOCUMENT_BYTES,
        "pin": key_directory_pin(settings),
        # The unlock form shows whose keys it opens and asks only for the password.
        "email": signed_in_as.email,
    }
    response = render(
        page,
        "record.html",
        practice_name=place.practice_name,
        who=_who(page, place),
        island=assets.entry(ENTRY),
        island_data=json_for_html(island),
    )
    return private(request, response)


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
