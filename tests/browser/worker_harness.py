"""The crypto harness page of the browser tests: a page served from the test build (web/dist-test,
made by ``scripts/web-build --test``) under the application's real page and asset headers, whose
script exposes the worker as ``window.colloqueCrypto``; and the helpers that call it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, Page

from colloque.clock import Clock, SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.web.assets import ASSET_MANIFEST, DEFAULT_DIST_DIR, load_assets
from colloque.web.security import page_headers
from tests.server import running_server

TEST_DIST_DIR = DEFAULT_DIST_DIR.parent / "dist-test"
HARNESS_PATH = "/test/crypto-harness"
HARNESS_ENTRY = "test/crypto-harness.ts"


@dataclass
class Harness:
    url: str
    requests: list[str] = field(default_factory=list)


def harness_app(database: Database, clock: Clock | None, dist: Path) -> Any:
    assets = load_assets(dist)
    app = create_app(Settings(run_refresher=False), database=database, clock=clock, assets=assets)
    harness = assets.entry(HARNESS_ENTRY).scripts
    tags = "".join(
        f'<script type="module" src="/{s.path}" integrity="{s.integrity}"></script>'
        for s in harness
    )
    html = f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>crypto</title>{tags}</head><body></body></html>'

    def harness_page() -> HTMLResponse:
        response = HTMLResponse(html)
        page_headers(response.headers, production=False)
        return response

    app.add_api_route(HARNESS_PATH, harness_page, methods=["GET"], include_in_schema=False)
    return app


def serve(database: Database, clock: SettableClock, dist: Path) -> Iterator[Harness]:
    if not (dist / ASSET_MANIFEST).is_file():
        pytest.fail(f"{dist} is not built: run scripts/web-build --test (scripts/test does)")
    with running_server(harness_app(database, clock, dist)) as url:
        yield Harness(url)


def open_harness(browser: Browser, harness: Harness) -> Page:
    context = browser.new_context()
    context.on("request", lambda request: harness.requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(harness.url + HARNESS_PATH)
    return page


def ready_page(browser: Browser, harness: Harness) -> Iterator[Page]:
    """The harness page once the worker is up; afterwards, no request may have left for another
    origin."""
    page = open_harness(browser, harness)
    page.wait_for_selector("body[data-ready=true]", state="attached")
    yield page
    page.context.close()
    foreign = [url for url in harness.requests if not url.startswith(harness.url + "/")]
    assert not foreign, f"requests left for another origin: {foreign}"


def hexed(data: bytes) -> str:
    return "hex:" + data.hex()


def unhexed(value: str) -> bytes:
    assert value.startswith("hex:"), value
    return bytes.fromhex(value[4:])


def call(page: Page, op: str, params: dict[str, Any]) -> Any:
    outcome = page.evaluate(
        "([op, params]) => window.colloqueCrypto.callJson(op, params)", [op, params]
    )
    assert outcome["ok"], f"{op} failed: {outcome}"
    return outcome["result"]


def failure(page: Page, op: str, params: dict[str, Any]) -> str:
    outcome = page.evaluate(
        "([op, params]) => window.colloqueCrypto.callJson(op, params)", [op, params]
    )
    assert not outcome["ok"], f"{op} should have failed"
    return str(outcome["kind"])


def binding_json(binding: Any) -> dict[str, Any]:
    return {
        "subjectKind": int(binding.subject_kind),
        "subjectId": str(binding.subject_id),
        "purpose": int(binding.purpose),
        "epoch": binding.epoch,
        "publicKey": hexed(binding.public_key),
    }
