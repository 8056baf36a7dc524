"""Structured logs. Events carry ids and counts, never personal data or secrets.

Tracebacks are written without local variables, and a database error's message is replaced by
its type and SQLSTATE: a database server's message can quote row values (PostgreSQL's "Failing
row contains (...)", "invalid input syntax for type integer: ..."), and the statement's
parameters are hidden by the engines themselves (``hide_parameters``).
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import IO, Any, TextIO

import structlog
from sqlalchemy.exc import StatementError

#: What uvicorn logs when an exception leaves the application: the app's own 500 handler has
#: already logged it, with the request id and the safe formatter (api/problems.py).
_UVICORN_APP_EXCEPTION = "Exception in ASGI application"
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def configure(*, json: bool, file: TextIO | None = None, cache: bool = True) -> None:
    """Log to ``file`` (stderr by default); ``cache=False`` lets tests configure again."""
    structlog.configure(
        processors=processors(json=json),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(file=file or sys.stderr),
        cache_logger_on_first_use=cache,
    )


def processors(*, json: bool) -> list[structlog.types.Processor]:
    if json:
        return [
            *_common(),
            structlog.processors.ExceptionRenderer(exception_formatter=_format_for_json),
            structlog.processors.JSONRenderer(),
        ]
    return [
        *_common(),
        structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_format_for_console),
    ]


def _common() -> list[structlog.types.Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def format_exception(exc: BaseException) -> str:
    """The traceback of ``exc`` and the exceptions it was raised from: frames, types and
    messages, without local variables, and without the messages of database errors."""
    chain: list[tuple[BaseException, str | None]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link: str | None = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    lines: list[str] = []
    for error, next_link in reversed(chain):
        if error.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(error.__traceback__))
        lines.append(_describe(error) + "\n")
        if next_link is not None:
            lines.append(next_link)
    return "".join(lines)


def _describe(error: BaseException) -> str:
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    if isinstance(error, StatementError):
        original = error.orig
        cause = _database_code(original) if original is not None else ""
        return f"{name}: {type(original).__name__}{cause} (message hidden) [SQL: {error.statement}]"
    if _is_driver_error(error):
        return f"{name}{_database_code(error)}: (message hidden)"
    if _quotes_input(error):
        return f"{name}: (message hidden)"
    return "".join(traceback.format_exception_only(type(error), error)).rstrip("\n")


def _database_code(error: BaseException) -> str:
    code = getattr(error, "sqlstate", None) or getattr(error, "sqlite_errorname", None)
    return f" [{code}]" if code else ""


def _is_driver_error(error: BaseException) -> bool:
    module = type(error).__module__
    return module.startswith(("psycopg", "sqlite3", "_sqlite3"))


def _quotes_input(error: BaseException) -> bool:
    """Validation errors repeat the values they refused (pydantic's ``input_value=...``)."""
    return type(error).__name__.endswith("ValidationError")


def _format_for_json(exc_info: Any) -> str:
    return format_exception(exc_info[1])


def _format_for_console(sio: IO[str], exc_info: Any) -> None:
    sio.write("\n" + format_exception(exc_info[1]))


class WithoutAppTracebacks(logging.Filter):
    """Drops uvicorn's own copy of an application error's traceback (see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_UVICORN_APP_EXCEPTION)
