"""HTTP routes of sessions and devices: an account's own (list, end one, end the others) and a
practice admin's view of a member's (list, end them all). docs/accounts.md, "Sessions and
devices"."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Response, status

from colloque.accounts.login import do_log_out_elsewhere
from colloque.accounts.session_list import (
    SessionInfo,
    do_end_member_sessions,
    do_end_own_session,
    list_member_sessions,
    list_own_sessions,
)
from colloque.api.deps import DB, ClockDep, CurrentPrincipal, CurrentSession, Mail, SettingsDep
from colloque.api.routes.account_schemas import LoggedOutElsewhereOut
from colloque.api.routes.account_web import clear_cookies
from colloque.api.schemas import Out

router = APIRouter(tags=["sessions"])


class OpenSessionOut(Out):
    #: The session's id: the one the audit log names it by (not its token, nor its hash).
    session_id: UUID
    #: ``cookie``: a browser; ``token``: a bearer token (an API client, the CLI, an integration).
    kind: Literal["cookie", "token"]
    #: The software it was opened from, without versions ("Firefox / Linux"), or ``unknown``.
    browser: str
    #: The network prefix it was opened from (/24, /48), or null when unknown: no GeoIP.
    place: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    #: The session making this request.
    current: bool


class SessionsOut(Out):
    sessions: list[OpenSessionOut]


class EndedSessionsOut(Out):
    ended_sessions: int


def _out(sessions: list[SessionInfo]) -> SessionsOut:
    return SessionsOut(
        sessions=[
            OpenSessionOut(
                session_id=info.session_id,
                kind="cookie" if info.kind == "cookie" else "token",
                browser=info.label,
                place=info.place,
                created_at=info.created_at,
                last_used_at=info.last_used_at,
                expires_at=info.expires_at,
                current=info.current,
            )
            for info in sessions
        ]
    )


@router.get(
    "/api/v1/me/sessions",
    response_model=SessionsOut,
    summary="My open sessions and devices",
    description=(
        "Every open session of the account: browsers (cookie) and bearer tokens, with the "
        "software, the network prefix it was opened from, when it was opened and last used; "
        "``current`` marks this one."
    ),
)
def my_sessions(resolved: CurrentSession, database: DB, clock: ClockDep) -> SessionsOut:
    with database.read() as session:
        return _out(list_own_sessions(session, now=clock.now(), resolved=resolved))


@router.delete(
    "/api/v1/me/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="End one of my sessions",
    description=(
        "Ends the session at once: its next request answers 401. Ending the current one is "
        "logging out (the browser's cookies are cleared). Another account's session answers "
        "404, like one that does not exist."
    ),
)
def end_my_session(
    session_id: UUID,
    resolved: CurrentSession,
    database: DB,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    with database.write() as session:
        current = do_end_own_session(
            session, now=clock.now(), resolved=resolved, session_id=session_id
        )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if current:
        clear_cookies(response, secure=settings.effective_cookie_secure)
    return response


@router.post(
    "/api/v1/me/sessions/revoke-others",
    response_model=LoggedOutElsewhereOut,
    summary="End every other session of mine",
    description="The same as ``POST /api/v1/auth/logout/others``: this session stays open.",
)
def end_my_other_sessions(
    resolved: CurrentSession, database: DB, clock: ClockDep
) -> LoggedOutElsewhereOut:
    with database.write() as session:
        ended = do_log_out_elsewhere(session, now=clock.now(), resolved=resolved)
    return LoggedOutElsewhereOut(ended_sessions=ended)


MEMBER = "/api/v1/practices/{practice_id}/members/{account_id}"


@router.get(
    MEMBER + "/sessions",
    response_model=SessionsOut,
    summary="A member's open sessions (admins)",
    description="Practice admins see a member's open sessions; 404 for a non-member.",
)
def member_sessions(
    practice_id: UUID, account_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> SessionsOut:
    with db.write() as session:
        return _out(
            list_member_sessions(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=practice_id,
                account_id=account_id,
            )
        )


@router.post(
    MEMBER + "/sessions/revoke",
    response_model=EndedSessionsOut,
    summary="End every session of a member (admins)",
    description=(
        "Practice admins end every session of a member (browsers, API clients, issued tokens): "
        "a lost phone, a leaked token. The member is told by mail and signs in again with MFA. "
        "404 for a non-member."
    ),
)
def end_member_sessions(
    practice_id: UUID,
    account_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    mail: Mail,
) -> EndedSessionsOut:
    with db.write() as session:
        ended = do_end_member_sessions(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            account_id=account_id,
        )
        mail.queue(session, ended.notice)
    return EndedSessionsOut(ended_sessions=ended.count)
