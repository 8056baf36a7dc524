"""Security headers on every response: each OpenAPI operation's (anonymous and signed in), a 404,
a 422, the docs, a page and an asset; no `server` header; /docs and /openapi.json off in
production unless enabled (api/headers.py, docs/threat-model.md)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from colloque.api.app import create_app as create_api
from colloque.api.headers import (
    CONTENT_SECURITY_POLICY,
    STRICT_TRANSPORT_SECURITY,
    SecurityHeaders,
)
from colloque.clock import SettableClock
from colloque.config import Environment, MailBackend, Settings
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.web.assets import ASSET_MANIFEST, DEFAULT_DIST_DIR
from colloque.web.security import IMMUTABLE
from tests.factories import World, build_world
from tests.functional.authorization.conftest import make_app
from tests.functional.test_openapi import _operations
from tests.server import running_server

EVERYWHERE = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def check(response: httpx2.Response, *, cache: str = "no-store", where: object = None) -> None:
    where = where or (response.request.method, response.request.url.path)
    for name, value in EVERYWHERE.items():
        assert response.headers.get(name) == value, (where, name, response.status_code)
    assert response.headers.get("cache-control") == cache, where
    assert "server" not in response.headers, where
    # Development: no HSTS (test_hsts_in_production_only).
    assert "strict-transport-security" not in response.headers, where


def _url(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda _m: str(uuid.uuid4()), path)


@pytest.fixture
def world(sqlite_db: Database, clock: SettableClock) -> World:
    return build_world(sqlite_db, clock)


def test_every_operation_answers_with_the_headers(
    sqlite_db: Database, clock: SettableClock, world: World
) -> None:
    app, _sleeps = make_app(sqlite_db, clock)
    spec: dict[str, Any] = app.openapi()
    signed_in = {"Authorization": f"Bearer {world.holder.token}"}
    statuses: set[int] = set()
    with TestClient(app) as client:
        for method, path, _operation in sorted(_operations(spec), key=lambda o: "logout" in o[1]):
            for headers in ({}, signed_in):
                answer = client.request(method, _url(path), headers=headers, json={})
                statuses.add(answer.status_code)
                check(answer, where=(method, path, bool(headers)))
        check(client.get("/api/v1/no-such-route"))
        check(client.get("/openapi.json"))
        check(client.get("/docs"))
        check(client.get("/docs/assets/swagger-init.js"))
    # Successes with personal data, refusals, missing objects and invalid bodies among them.
    assert {200, 401, 404, 422} <= statuses


def test_a_page_and_an_asset_keep_their_caching(sqlite_db: Database, clock: SettableClock) -> None:
    if not (DEFAULT_DIST_DIR / ASSET_MANIFEST).is_file():
        pytest.fail("the web assets are not built: run scripts/web-build (scripts/test does)")
    app = create_app(Settings(run_refresher=False), database=sqlite_db, clock=clock)
    with TestClient(app) as client:
        page = client.get("/")
        check(page, cache="no-cache")
        asset = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
        assert asset is not None
        check(client.get(asset[1]), cache=IMMUTABLE)
        check(client.get("/assets/missing.js"))
        check(client.get("/no-such-page"))


def test_docs_and_the_openapi_are_off_in_production_unless_enabled(
    sqlite_db: Database, clock: SettableClock
) -> None:
    assert Settings(environment=Environment.PRODUCTION).effective_api_docs is False
    assert Settings(environment=Environment.PRODUCTION, api_docs=True).effective_api_docs
    assert Settings().effective_api_docs
    app = create_api(Settings(run_refresher=False, api_docs=False), database=sqlite_db, clock=clock)
    with TestClient(app) as client:
        for path in ("/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
            answer = client.get(path)
            assert answer.status_code == 404, path
            check(answer)
    # Still made in-process, for the web app's types and the tests.
    assert "/api/v1/auth/prelogin" in app.openapi()["paths"]


def test_a_production_app_sends_hsts_and_no_docs(sqlite_db: Database, clock: SettableClock) -> None:
    settings = Settings(
        run_refresher=False,
        environment=Environment.PRODUCTION,
        secret_key=SecretStr("k" * 40),
        database_url="postgresql://x/y",
        mail_backend=MailBackend.SMTP,
        key_directory_log_key=SecretStr(bytes(range(32)).hex()),
        audit_signing_key_file=Path("/run/keys/colloque-audit"),
    )
    app = create_api(settings, database=sqlite_db, clock=clock)
    with TestClient(app) as client:
        for path in ("/docs", "/openapi.json", "/healthz"):
            answer = client.get(path)
            assert answer.status_code == (200 if path == "/healthz" else 404), path
            assert answer.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY
            assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def _hello(_request: object) -> PlainTextResponse:
    return PlainTextResponse("hello", headers={"Cache-Control": "no-cache"})


def _boom(_request: object) -> PlainTextResponse:
    raise RuntimeError("boom")


def test_hsts_in_production_only_and_on_errors_too() -> None:
    inner = Starlette(routes=[Route("/", _hello), Route("/boom", _boom)])
    for production in (True, False):
        app = SecurityHeaders(inner, production=production)
        with TestClient(app, raise_server_exceptions=False) as client:
            for path in ("/", "/boom"):
                answer = client.get(path)
                assert answer.headers["x-frame-options"] == "DENY"
                assert answer.headers.get("strict-transport-security") == (
                    STRICT_TRANSPORT_SECURITY if production else None
                )
            # A header the response set itself is kept.
            assert client.get("/").headers["cache-control"] == "no-cache"


@pytest.fixture
def served(sqlite_db: Database, clock: SettableClock) -> Iterator[str]:
    app = create_api(Settings(run_refresher=False), database=sqlite_db, clock=clock)
    with running_server(app) as url:
        yield url


def test_a_real_server_sends_no_server_header(served: str) -> None:
    with httpx2.Client(base_url=served) as client:
        for path in ("/healthz", "/api/v1/no-such-route"):
            answer = client.get(path)
            assert "server" not in answer.headers, path
            assert answer.headers["x-content-type-options"] == "nosniff"
