""" "Who accessed my records": the access history of the account's own patient record and of its
relatives' (``accesslog.history``), newest first, one patient or all, paged.

The server renders it whole and it works without JavaScript: the patient filter is a GET form,
the pages are links. A row says when (in the practice's time zone), which practice, who (the
account itself, a practitioner by the public name the search shows, or a role), what it did to
which kinds of item, and whose record; never an account, a credential or an address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colloque.accesslog.history import YOU, Access, list_access_history
from colloque.api.deps import DB, AnyPrincipal, ClockDep
from colloque.audit.objects import ObjectKind
from colloque.errors import InvalidInput, NotFound
from colloque.principal import Role
from colloque.web.rendering import LangParam, Page, error_page, page_for, render
from colloque.web.session import has_account, login_redirect, private

router = APIRouter(include_in_schema=False)

PATH = "/me/access-history"
PAGE_SIZE = 50
#: The last part of an action (``booking:appointment:view``) that says it only read.
READ_VERBS = frozenset({"view", "list", "search", "read", "check"})
ACTORS = frozenset({YOU, "anonymous", "patient", *(role.value for role in Role)})
VERBS = ("read", "changed", "denied")
#: Every key the page builds (the catalogue test checks each one is in both languages).
KEYS = frozenset(
    {f"access.actor.{actor}" for actor in ACTORS}
    | {f"access.kind.{kind.value}" for kind in ObjectKind}
    | {f"access.verb.{verb}" for verb in VERBS}
)


def _when(instant: datetime, timezone: str | None, page: Page) -> str:
    zone = ZoneInfo(timezone or "UTC")
    text = format_datetime(
        instant.astimezone(zone), format="EEEE d MMMM y, HH:mm", locale=page.language.value
    )
    return text if timezone else f"{text} UTC"


def _who(access: Access, page: Page) -> str:
    if access.practitioner_name:
        return page.t("access.actor.named", name=access.practitioner_name)
    actor = access.actor if access.actor in ACTORS else "patient"
    return page.t(f"access.actor.{actor}")


def _what(access: Access, page: Page) -> str:
    if access.outcome == "denied":
        verb = "denied"
    else:
        verb = "read" if access.action.rsplit(":", 1)[-1] in READ_VERBS else "changed"
    kinds = [page.t(f"access.kind.{kind}") for kind in access.object_kinds if kind in _KINDS]
    return page.t(f"access.verb.{verb}", items=", ".join(kinds) or "-")


_KINDS = frozenset(kind.value for kind in ObjectKind)


def _row(access: Access, page: Page, names: dict[UUID, str]) -> dict[str, Any]:
    return {
        "when": _when(access.at, access.practice_timezone, page),
        "practice": access.practice_name or page.t("access.no_practice"),
        "who": _who(access, page),
        "what": _what(access, page),
        "whose": names.get(access.patient_id, ""),
        "denied": access.outcome == "denied",
    }


@router.get(PATH, response_class=HTMLResponse)
def access_history_page(
    request: Request,
    db: DB,
    clock: ClockDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    if not has_account(principal):
        return login_redirect(request)
    page = page_for(request, lang_cookie)
    asked = request.query_params.get("patient") or None
    before = request.query_params.get("before") or None
    try:
        patient_id = UUID(asked) if asked else None
    except ValueError:  # not an id: like a patient that is not the account's
        return private(request, error_page(page, 404, "error.not_found"))
    try:
        with db.write() as session:  # reading the log is itself logged
            try:
                listed = list_access_history(
                    session,
                    now=clock.now(),
                    principal=principal,
                    patient_id=patient_id,
                    before=before,
                    limit=PAGE_SIZE,
                )
            except InvalidInput:  # a cursor this page did not make: the first page
                listed = list_access_history(
                    session, now=clock.now(), principal=principal, patient_id=patient_id
                )
    except NotFound:  # not a patient of this account looks like no patient
        return private(request, error_page(page, 404, "error.not_found"))
    names = {
        patient.patient_id: f"{patient.first_name} {patient.last_name}"
        for patient in listed.patients
    }
    older = None
    if listed.next_before:
        query = {"patient": str(patient_id)} if patient_id else {}
        older = f"{PATH}?{urlencode({**query, 'before': listed.next_before})}"
    response = render(
        page,
        "access_history.html",
        patients=[
            {"id": str(key), "name": name, "selected": key == patient_id}
            for key, name in names.items()
        ],
        rows=[_row(access, page, names) for access in listed.accesses],
        older=older,
    )
    return private(request, response)
