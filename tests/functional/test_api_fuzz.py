"""Schemathesis fuzzes every operation of the OpenAPI document: whatever it sends, the answer is
never a server error, every error is a problem document, and every answer is one the document
declares: its status, its content type and its body's schema.

The app is built at import time because schemathesis reads the schema while pytest collects.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.conftest import T0
from tests.factories import build_world


def _fuzzed_app() -> Any:
    path = Path(tempfile.mkdtemp(prefix="colloque-fuzz-")) / "fuzz.sqlite3"
    upgrade(f"sqlite:///{path}")
    database = Database(f"sqlite:///{path}")
    clock = SettableClock(T0)
    world = build_world(database, clock)
    app = create_app(Settings(run_refresher=False), database=database, clock=clock)
    app.state.fuzz_token = world.holder.token
    return app


APP = _fuzzed_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_error(case: Any) -> None:
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {APP.state.fuzz_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
    assert response.status_code < 500, (case.method, case.path, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"] == ["application/problem+json"]
