"""Helpers of the HTTP tests: the in-process app on the test database, bearer headers, problems."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from tests.factories import Person


def app_client(db: Database, clock: SettableClock) -> TestClient:
    """The app on ``db`` with ``clock``; use it as a context manager."""
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    return TestClient(app, raise_server_exceptions=True)


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.token}"}


def problem(
    response: Any,
    status: int,
    *,
    field: str | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """Check a problem+json answer: its status, and its ``field`` and ``rule`` when given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body.get("field") == field, body
    assert body.get("rule") == rule, body
    return body
