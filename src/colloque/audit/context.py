"""Where the acting principal came from: the interface, the request id, the client address.

These are facts about the request, not about the principal, and the services that write audit
events should not have to pass them along. The HTTP middleware binds them for each request
(``api/observability.py``), the CLI and the worker bind their interface once; :func:`current`
reads them. A context variable follows the request into the thread that runs a synchronous
endpoint (Starlette copies the context), as structlog's request id already does.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from colloque.audit.interfaces import ReadObserver


class Interface(enum.StrEnum):
    API = "api"
    #: The server-rendered pages (the same session, another entry point).
    WEB = "web"
    CLI = "cli"
    WORKER = "worker"
    #: Code called directly (tests, a Python embedding) with nothing bound.
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class RequestContext:
    interface: Interface = Interface.INTERNAL
    request_id: str | None = None
    #: The client's address as the server saw it (after a trusted proxy's headers): kept in full
    #: for the configured retention only (``audit.addresses``).
    client_address: str | None = None


_NOTHING_BOUND = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("colloque_audit_context", default=_NOTHING_BOUND)


def current() -> RequestContext:
    return _current.get()


@contextmanager
def bound(context: RequestContext) -> Iterator[None]:
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def bind_for_process(interface: Interface) -> None:
    """For a CLI command or the worker: everything it does from here on is that interface's."""
    _current.set(RequestContext(interface=interface))


_observer: ContextVar[ReadObserver | None] = ContextVar("colloque_audit_observer", default=None)


def observer() -> ReadObserver | None:
    """What watches this request's events (``audit.services.record`` tells it), if anything."""
    return _observer.get()


@contextmanager
def observed(watcher: ReadObserver) -> Iterator[None]:
    """Bound by the HTTP layer around each request: the anomaly counters."""
    token = _observer.set(watcher)
    try:
        yield
    finally:
        _observer.reset(token)
