"""What the client needs of HTTP, and the one error the server's answers become.

The client takes any object with the shape of ``httpx2.Client`` (Starlette's TestClient is one):
:class:`HttpClient` for JSON calls, :class:`StreamingHttp` for document streams. A problem
answer (RFC 9457) raises :class:`ApiError`. This module imports nothing else of the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol
from urllib.parse import urlencode

Json = dict[str, Any]


class ApiError(Exception):
    """A problem answer (RFC 9457) from the server."""

    def __init__(self, status: int, problem: Json) -> None:
        super().__init__(f"{status}: {problem.get('detail', 'error')}")
        self.status = status
        self.problem = problem
        self.code = str(problem.get("type", "")).rsplit("/", 1)[-1]
        self.field: str | None = problem.get("field")


class RawResponse(Protocol):
    @property
    def status_code(self) -> int: ...

    def json(self) -> Any: ...


class HttpResponse(RawResponse, Protocol):
    @property
    def content(self) -> bytes: ...


class StreamedResponse(RawResponse, Protocol):
    def iter_bytes(self) -> Iterator[bytes]: ...

    def read(self) -> bytes: ...


class HttpClient(Protocol):
    """What JSON calls need of an HTTP client: ``httpx2.Client`` (or Starlette's TestClient)."""

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse: ...

    def close(self) -> None: ...


class StreamingHttp(Protocol):
    """What documents need of the HTTP client: a streamed request body and a streamed answer."""

    def request(
        self, method: str, url: str, *, content: Iterable[bytes], headers: dict[str, str]
    ) -> RawResponse: ...

    def stream(
        self, method: str, url: str, *, headers: dict[str, str]
    ) -> AbstractContextManager[StreamedResponse]: ...


class Request(Protocol):
    """An API call as the signed-in user: the JSON answer, ``None`` for an empty one."""

    def __call__(self, method: str, path: str, *, json: Json | None = None) -> Any: ...


def raise_for_problem(response: RawResponse) -> None:
    """Raise :class:`ApiError` if ``response`` is a problem answer (its body already read)."""
    if response.status_code >= 400:
        raise ApiError(response.status_code, response.json())


def with_query(path: str, **params: object) -> str:
    """``path`` with the parameters that are not ``None`` as its query string."""
    present = {key: str(value) for key, value in params.items() if value is not None}
    return f"{path}?{urlencode(present)}" if present else path
