"""Request ids: one per request, in the ``X-Request-ID`` header, the logs and problem bodies.

The observability middleware (``colloque.api.observability``) decides the id, stores it on the
request (``request.state.request_id``) and, for the time the request runs inside it, binds it
into structlog's context variables, so that every log event of the request carries it.
"""

from __future__ import annotations

import re
import uuid

import structlog
from starlette.requests import Request

REQUEST_ID_HEADER = "X-Request-ID"
STATE_KEY = "request_id"
#: What an id from a trusted proxy may look like: uuids, hex, base64 and the dotted or dashed
#: forms proxies make; nothing that could break a log line (no spaces, quotes or controls).
_VALID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def is_valid(candidate: str) -> bool:
    return _VALID.fullmatch(candidate) is not None


def current_request_id() -> str | None:
    """The id of the request being handled, inside the middleware; ``None`` elsewhere."""
    request_id = structlog.contextvars.get_contextvars().get(STATE_KEY)
    return request_id if isinstance(request_id, str) else None


def request_id_of(request: Request) -> str | None:
    """The id the middleware gave this request (also after it has returned)."""
    request_id: str | None = getattr(request.state, STATE_KEY, None)
    return request_id
