"""RFC 9457 problem details for every error, including the framework's own.

Every problem body carries the request's id as ``request_id`` (api/requestids.py), so that a
user's report can be matched with the server's log lines.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request, routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from colloque.accounts.interfaces import MassChangeUnconfirmed
from colloque.api.denials import note_denied
from colloque.api.requestids import REQUEST_ID_HEADER, current_request_id, request_id_of
from colloque.authorization.probing import REMAINING_HEADER, ProbingLocked, note_miss
from colloque.errors import (
    AppointmentsAffected,
    ColloqueError,
    Duplicate,
    Forbidden,
    NotFound,
    RuleViolation,
    UnusableId,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://colloque.invalid/problems/"

log = structlog.get_logger("colloque.api")


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
) -> JSONResponse:
    """A problem response; ``request_id`` defaults to the id of the request being handled."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    request_id = request_id or current_request_id()
    if request_id is not None:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def too_large(detail: str) -> JSONResponse:
    """413, as :class:`colloque.errors.TooLarge` answers it."""
    return problem(413, "too-large", "Content too large", detail, field="body")


def _field_of(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(location[-1] if location else "request")


#: Every 401 names the scheme to use (RFC 9110 section 11.6.1); cookie sessions come from login.
WWW_AUTHENTICATE = {"WWW-Authenticate": "Bearer"}


def _allowed_methods(request: Request) -> str:
    """Every method of every route whose path matches, for a 405's ``Allow`` (a path's methods
    are spread over several routes, and Starlette names only those of the first one)."""
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    methods: set[str] = set()
    for context in routing.iter_route_contexts(request.app.routes):
        regex = getattr(context, "path_regex", None)
        if regex is not None and context.methods and regex.match(path):
            methods |= set(context.methods)
    return ", ".join(sorted(methods))


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ColloqueError)
    headers: dict[str, str] | None = None
    if isinstance(exc, NotFound | Forbidden):
        await note_denied(request, reason=exc.code)
    if isinstance(exc, UnusableId) or (isinstance(exc, NotFound) and exc.counts_as_miss):
        # Counted against the credential and the address (probing detection); the answer stays
        # the same, with how many misses remain before a slow-down, until past the lock. A used
        # client-chosen id is a guess at somebody else's object as much as a 404 is.
        verdict = await note_miss(request)
        if verdict is not None and verdict.refused:
            exc = ProbingLocked(retry_after=verdict.retry_after)
        elif verdict is not None:
            headers = {REMAINING_HEADER: str(verdict.remaining)}
    extra: dict[str, Any] = {}
    if isinstance(exc, RuleViolation):
        extra["rule"] = exc.rule
    if isinstance(exc, Duplicate):
        extra["existing_id"] = str(exc.existing_id)
    if isinstance(exc, AppointmentsAffected):
        extra["count"] = len(exc.appointments)
        extra["appointments"] = [
            {"appointment_id": str(appointment_id), "starts_at": starts_at.isoformat()}
            for appointment_id, starts_at in exc.appointments
        ]
    if isinstance(exc, MassChangeUnconfirmed):
        extra["count"] = exc.count
        extra["window_seconds"] = exc.window_seconds
    if hasattr(exc, "retry_after"):
        headers = {"Retry-After": str(exc.retry_after)}
    if exc.status == 401:
        headers = WWW_AUTHENTICATE
    return problem(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        field=exc.field,
        extra=extra or None,
        headers=headers,
    )


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Never echo the input back: it may hold personal data.
    errors = [
        {"field": _field_of(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in exc.errors()
    ]
    first = errors[0]["field"] if errors else None
    detail = f"{first}: {errors[0]['message']}" if errors else "the request is not valid"
    return problem(422, "invalid-input", "Invalid input", detail, field=first, errors=errors)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 413:  # a body counted past its route's limit (api/limits.py)
        return too_large(exc.detail)
    titles = {
        400: "Bad request",
        404: "Not found",
        405: "Method not allowed",
        401: "Authentication required",
    }
    title = titles.get(exc.status_code, "Error")
    code = title.lower().replace(" ", "-")
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    if exc.status_code == 401:
        headers.update(WWW_AUTHENTICATE)
    return problem(exc.status_code, code, title, detail, headers=headers or None)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette calls this outside the observability middleware: the id comes from the request.
    request_id = request_id_of(request)
    log.error("unhandled_error", error_type=type(exc).__name__, request_id=request_id, exc_info=exc)
    return problem(
        500,
        "internal-error",
        "Internal error",
        "something went wrong on our side",
        request_id=request_id,
        headers={REQUEST_ID_HEADER: request_id} if request_id else None,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ColloqueError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
