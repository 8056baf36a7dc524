"""The practice's audit log, ``/practice/{practice_id}/audit``, for its admins: who among its
members (and the operators it let in) did what, filtered by member, patient, action and time,
newest first (``accesslog.practice_log``).

The server renders it whole, without JavaScript: the filters are a GET form whose times are the
practice's wall-clock times, the pages are links that keep the filters. An event shows its
objects by kind (the ids behind a disclosure), its credential and the client's network, never the
full address.
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

from colloque.accesslog.practice_log import LogFilter, LoggedEvent, LogPage, list_practice_log
from colloque.accounts.services import member_names
from colloque.api.deps import DB, AnyPrincipal, ClockDep
from colloque.audit.services import AuditAction
from colloque.authorization.policy import Action
from colloque.errors import InvalidInput
from colloque.scheduling.services import get_practice
from colloque.web import practice_section
from colloque.web.practice_entry import enter
from colloque.web.rendering import LangParam, Page, render
from colloque.web.session import private

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FIELDS = ("member", "patient", "action", "from", "to")


class _Refused(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def _uuid(asked: dict[str, str], field: str) -> UUID | None:
    text = asked.get(field)
    if not text:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise _Refused(field, "not an id") from None


def _instant(asked: dict[str, str], field: str, zone: ZoneInfo) -> datetime | None:
    """A ``datetime-local`` value, read in the practice's time zone (or with its own offset)."""
    text = asked.get(field)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Refused(field, "not a date and time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def _filter(asked: dict[str, str], zone: ZoneInfo) -> LogFilter:
    action = asked.get("action") or None
    if action is not None and action not in _ACTIONS:
        raise _Refused("action", "not an action")
    return LogFilter(
        member_id=_uuid(asked, "member"),
        patient_id=_uuid(asked, "patient"),
        action=AuditAction(action) if action else None,
        start=_instant(asked, "from", zone),
        end=_instant(asked, "to", zone),
    )


_ACTIONS = frozenset(action.value for action in AuditAction)
_SYSTEM = frozenset({"worker", "cli", "internal"})


def _event(event: LoggedEvent, page: Page, zone: ZoneInfo) -> dict[str, Any]:
    local = event.at.astimezone(zone)
    # An account deleted since is its id alone. Without an account: Colloque's own work (the
    # worker composing a confirmation, a command), or a visitor who was not signed in.
    member = event.member_name or (str(event.member_id) if event.member_id else None)
    if member is None:
        system = event.interface in _SYSTEM
        member = page.t("audit.system") if system else page.t("audit.anonymous")
    return {
        "when": format_datetime(local, format="d MMM y, HH:mm:ss", locale=page.language.value),
        "member": member,
        "role": event.role,
        "action": event.action,
        "outcome": page.t("audit.allowed")
        if event.outcome == "allowed"
        else page.t("audit.denied", reason=event.reason or ""),
        "denied": event.outcome != "allowed",
        "objects": [
            {
                "kind": kind,
                "count": page.t("audit.ids", count=len(ids)),
                "ids": [str(i) for i in ids],
            }
            for kind, ids in event.objects.items()
        ],
        "credential": str(event.credential_id) if event.credential_id else "",
        "network": event.client_prefix or "",
    }


@router.get(practice_section.PREFIX + "/{practice_text}/audit", response_class=HTMLResponse)
def practice_audit_page(
    request: Request,
    practice_text: str,
    db: DB,
    clock: ClockDep,
    principal: AnyPrincipal,
    lang_cookie: LangParam = None,
) -> Response:
    entered = enter(request, principal, lang_cookie, practice_text, Action.PRACTICE_AUDIT_VIEW)
    if isinstance(entered, Response):
        return entered
    page, practice_id = entered.page, entered.practice_id
    asked = {field: request.query_params.get(field, "").strip() for field in FIELDS}
    before = request.query_params.get("before") or None
    refused: _Refused | None = None
    listed = LogPage(events=[], next_before=None)
    with db.write() as session:  # reading the log is itself logged
        practice = get_practice(session, practice_id=practice_id)
        zone = ZoneInfo(practice.timezone)
        names = member_names(session, practice_id=practice_id)
        try:
            listed = list_practice_log(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=practice_id,
                where=_filter(asked, zone),
                before=before,
                limit=PAGE_SIZE,
            )
        except _Refused as error:
            refused = error
        except InvalidInput as error:
            refused = _Refused(error.field or "", error.detail)
    filters = {field: value for field, value in asked.items() if value}
    older = (
        f"{request.url.path}?{urlencode({**filters, 'before': listed.next_before})}"
        if listed.next_before
        else None
    )
    response = render(
        page,
        "practice_audit.html",
        422 if refused is not None else 200,
        practice_name=practice.name,
        section_links=practice_section.section_links(principal, practice_id),
        audit_path=practice_section.audit_url(practice_id),
        asked=asked,
        members=sorted(
            ({"id": str(key), "name": name} for key, name in names.items()),
            key=lambda member: member["name"],
        ),
        actions=sorted(_ACTIONS),
        refused=refused,
        events=[_event(event, page, zone) for event in listed.events],
        older=older,
    )
    return private(request, response)
