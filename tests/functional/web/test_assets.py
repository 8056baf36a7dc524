"""The built assets (scripts/web-build, which scripts/test runs first): Subresource Integrity on
every tag, immutable caching, the published manifest, and the JavaScript weight of the pages."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from starlette.datastructures import MutableHeaders

from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.web.assets import ASSET_MANIFEST, DEFAULT_DIST_DIR, AssetsError, load_assets
from colloque.web.security import (
    CONTENT_SECURITY_POLICY,
    IMMUTABLE,
    WORKER_CONTENT_SECURITY_POLICY,
    asset_headers,
    page_headers,
)
from tests.functional.web.conftest import Site

#: The issue's budget for a public page's first load, compressed.
PAGE_BUDGET_BYTES = 100 * 1024


@pytest.fixture(autouse=True)
def built() -> None:
    if not (DEFAULT_DIST_DIR / ASSET_MANIFEST).is_file():
        pytest.fail("the web assets are not built: run scripts/web-build (scripts/test does)")


def _tags(html: str) -> list[tuple[str, str]]:
    """(served path, integrity) of every script and stylesheet tag."""
    found = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(/assets/[^"]+)"[^>]*>', html)
    tags = re.findall(r"<(?:script|link rel=\"stylesheet\")[^>]*>", html)
    pairs = []
    for tag in tags:
        path = re.search(r'(?:src|href)="([^"]+)"', tag)
        integrity = re.search(r'integrity="([^"]+)"', tag)
        if path is None:
            continue  # inert JSON data
        assert integrity is not None, tag
        pairs.append((path[1], integrity[1]))
    assert sorted(p for p, _ in pairs) == sorted(found)
    return pairs


def test_every_script_and_style_carries_the_integrity_of_what_is_served(site: Site) -> None:
    for url in ("/", "/search?specialty=general_practice", site.practitioner_url):
        pairs = _tags(site.client.get(url).text)
        assert pairs, url
        for path, integrity in pairs:
            served = site.client.get(path)
            assert served.status_code == 200
            digest = base64.b64encode(hashlib.sha256(served.content).digest()).decode()
            assert integrity == f"sha256-{digest}"
            assert served.headers["cache-control"] == IMMUTABLE
            assert served.headers["x-content-type-options"] == "nosniff"
            kind = "text/javascript" if path.endswith(".js") else "text/css"
            assert served.headers["content-type"].startswith(kind)
    practitioner = site.client.get(site.practitioner_url).text
    assert re.search(r'<script type="module" src="/assets/slot-picker-[^"]+\.js"', practitioner)


def test_the_manifest_lists_every_served_file_with_its_sha256(site: Site) -> None:
    response = site.client.get("/asset-manifest.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    files = json.loads(response.content)["files"]
    on_disk = sorted(
        path.relative_to(DEFAULT_DIST_DIR).as_posix()
        for path in (DEFAULT_DIST_DIR / "assets").iterdir()
        if path.suffix not in (".gz", ".br")
    )
    assert sorted(files) == on_disk
    for path, digest in files.items():
        assert hashlib.sha256(site.client.get(f"/{path}").content).hexdigest() == digest


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("br, gzip", "br"),
        ("gzip, deflate", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("identity", None),
        ("", None),
    ],
)
def test_assets_are_sent_precompressed_when_the_browser_takes_it(
    site: Site, accept: str, encoding: str | None
) -> None:
    files = json.loads(site.client.get("/asset-manifest.json").content)["files"]
    path = next(p for p in files if p.endswith(".js"))
    with site.client.stream("GET", f"/{path}", headers={"Accept-Encoding": accept}) as response:
        raw = b"".join(response.iter_raw())
        headers = response.headers
    assert headers.get("content-encoding") == encoding
    assert headers["vary"] == "Accept-Encoding"
    assert headers["cache-control"] == IMMUTABLE
    original = (DEFAULT_DIST_DIR / path).read_bytes()
    if encoding == "gzip":
        assert gzip.decompress(raw) == original
    elif encoding == "br":
        assert raw == (DEFAULT_DIST_DIR / f"{path}.br").read_bytes()
        assert len(raw) < len(original)
    else:
        assert raw == original


@pytest.mark.parametrize(
    "path",
    [
        "/assets/nothing.js",
        "/assets/..%2F..%2Fpyproject.toml",
        "/assets/%2E%2E%2Fasset-manifest.json",
    ],
)
def test_only_listed_files_are_served(site: Site, path: str) -> None:
    assert site.client.get(path).status_code == 404


def test_a_file_changed_after_the_build_is_refused_at_start(tmp_path: Path) -> None:
    copy = tmp_path / "dist"
    shutil.copytree(DEFAULT_DIST_DIR, copy)
    script = next((copy / "assets").glob("*.js"))
    script.write_text(script.read_text() + "\n// altered\n")
    with pytest.raises(AssetsError, match=script.name):
        load_assets(copy)


def test_without_a_build_the_pages_still_work(
    sqlite_db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    settings = Settings(run_refresher=False, web_dist_dir=tmp_path)
    client = TestClient(create_app(settings, database=sqlite_db, clock=clock))
    home = client.get("/")
    assert home.status_code == 200
    assert "<script" not in home.text
    assert "stylesheet" not in home.text
    assert client.get("/asset-manifest.json").status_code == 404


def test_production_adds_hsts() -> None:
    for apply in (page_headers, asset_headers):
        headers = MutableHeaders()
        apply(headers, production=True)
        assert headers["strict-transport-security"].startswith("max-age=63072000")
        headers = MutableHeaders()
        apply(headers, production=False)
        assert "strict-transport-security" not in headers


def _compressed(site: Site, url: str) -> int:
    total = 0
    for path, _ in _tags(site.client.get(url).text):
        total += len(gzip.compress(site.client.get(path).content, compresslevel=9, mtime=0))
    return total


def test_the_public_pages_stay_under_their_weight_budget(site: Site) -> None:
    # Built assets are deterministic: their sizes are, too (docs/benchmarks.md records them).
    search = _compressed(site, "/search?specialty=general_practice")
    practitioner = _compressed(site, site.practitioner_url)
    print(f"gzip -9 of the assets: search {search} B, practitioner {practitioner} B")
    assert search < PAGE_BUDGET_BYTES
    assert practitioner < PAGE_BUDGET_BYTES


def test_only_the_crypto_worker_gets_webassembly(site: Site) -> None:
    assets = load_assets(None)
    (worker,) = assets.workers
    assert worker.startswith("assets/crypto-worker-")
    answer = site.client.get(f"/{worker}")
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == WORKER_CONTENT_SECURITY_POLICY
    for path in assets.files:
        if path != worker:
            # Every other response has the one policy (api/headers.py), without WebAssembly.
            policy = site.client.get(f"/{path}").headers["content-security-policy"]
            assert policy == CONTENT_SECURITY_POLICY
    page = site.client.get(site.practitioner_url)
    assert "wasm" not in page.headers["content-security-policy"]


def test_a_worker_missing_from_the_asset_manifest_is_refused_at_start(tmp_path: Path) -> None:
    copy = tmp_path / "dist"
    shutil.copytree(DEFAULT_DIST_DIR, copy)
    manifest = json.loads((copy / ASSET_MANIFEST).read_text())
    manifest["files"] = {p: h for p, h in manifest["files"].items() if "crypto-worker" not in p}
    (copy / ASSET_MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(AssetsError, match="worker"):
        load_assets(copy)


def test_a_page_gets_the_styles_of_the_shared_components_it_imports() -> None:
    """A component several entries share (the unlock form, the "who can open what" legend) is
    a chunk of its own, with its stylesheet listed on that chunk: the entry's page links it."""
    vite = json.loads((DEFAULT_DIST_DIR / ".vite" / "manifest.json").read_text())
    assets = load_assets(DEFAULT_DIST_DIR)
    shared = 0
    for name, chunk in vite.items():
        if not chunk.get("isEntry"):
            continue
        styles = [style.path for style in assets.entry(name).styles]
        for imported in chunk.get("imports", []):
            for css in vite[imported].get("css", []):
                assert css in styles, (name, css)
                shared += 1
        assert len(styles) == len(set(styles)), name
    assert shared > 0
