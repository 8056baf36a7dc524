"""HTTP helpers of the account routes: cookies, refusals that must leave a trace, and 429s."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from colloque.accounts.devices import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE, DeviceClaim
from colloque.accounts.interfaces import Refusal, Throttled
from colloque.accounts.mailing import MailQueue
from colloque.accounts.passwords import Reopened
from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE, NewSession, SessionKind
from colloque.api.problems import problem
from colloque.api.routes.account_schemas import SessionOut, SignedUpOut
from colloque.errors import ColloqueError
from colloque.storage.engine import Database

T = TypeVar("T")


class AccountsRoute(APIRoute):
    """Domain errors answered as the app answers them, plus two things: a 429 carries
    ``Retry-After``, and mail queued before the error (a lock notice) is still sent, after the
    answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def accounts_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except ColloqueError as exc:
                response = await _problem_of(request, exc)
                queue: MailQueue | None = getattr(request.state, "mail_queue", None)
                if queue is not None:
                    response.background = queue.background
                return response

        return accounts_handler


async def _problem_of(request: Request, exc: ColloqueError) -> Response:
    if isinstance(exc, Throttled):
        return problem(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            headers={"Retry-After": str(exc.retry_after)},
            extra={"retry_after": exc.retry_after},
        )
    app_handler = request.app.exception_handlers[ColloqueError]
    response: Response = await app_handler(request, exc)
    return response


def attempt(
    database: Database, work: Callable[[Session], T], mail: MailQueue, *, write: bool = True
) -> T:
    """Run ``work`` in one transaction. On a Refusal, nothing of it is kept; the refusal's trace
    is written in a transaction of its own with any notice it mails, and the refusal's error
    raised."""
    try:
        with database.write() if write else database.read() as session:
            return work(session)
    except Refusal as refusal:
        with database.write() as session:
            mail.queue(session, refusal.record(session))
        raise refusal.error from None


def session_out(new: NewSession, response: Response, *, secure: bool) -> SessionOut:
    """The session for the body; a cookie session's token goes into cookies instead.

    The cookies have no Max-Age: they end with the browser session (shared computers are common
    where care happens), and the server ends them sooner by its own timeouts.
    """
    if new.kind is SessionKind.COOKIE:
        assert new.csrf_token is not None
        response.set_cookie(
            SESSION_COOKIE,
            new.token,
            path="/",
            secure=secure,
            httponly=True,
            samesite="strict",
        )
        response.set_cookie(
            CSRF_COOKIE, new.csrf_token, path="/", secure=secure, httponly=False, samesite="strict"
        )
    return SessionOut(
        kind=new.kind.value,
        token=new.token if new.kind is not SessionKind.COOKIE else None,
        csrf_token=new.csrf_token,
        expires_at=new.expires_at,
        idle_timeout_seconds=int(new.idle_timeout.total_seconds()) if new.idle_timeout else None,
    )


def known_device(request: Request) -> DeviceClaim:
    """The device cookie (sent to the sign-in routes only): a known device of the account is not
    held by the locks an attacker's attempts from elsewhere set (docs/accounts.md)."""
    return DeviceClaim(
        token=request.cookies.get(DEVICE_COOKIE), user_agent=request.headers.get("user-agent")
    )


def reopened_out(reopened: Reopened, response: Response, *, secure: bool) -> SignedUpOut:
    """A recovery's or a key reset's answer: the new session, and the device remembered as a
    login remembers it."""
    remember_device(response, reopened.device_token, secure=secure)
    return SignedUpOut(
        account_id=reopened.account_id,
        session=session_out(reopened.session, response, secure=secure),
    )


def remember_device(response: Response, token: str, *, secure: bool) -> None:
    """The device's token, sent back only to the sign-in routes. It outlives sessions on
    purpose (that is how a device is recognised) and survives logging out."""
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_COOKIE_MAX_AGE,
        path="/api/v1/auth",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_cookies(response: Response, *, secure: bool) -> None:
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=httponly, samesite="strict")
