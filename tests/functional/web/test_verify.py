"""``colloque verify-web``: a page and every asset it loads against a build's manifest."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from typer.testing import CliRunner

from colloque.cli.main import app as cli
from colloque.config import Settings
from colloque.web.app import create_app
from colloque.web.assets import ASSET_MANIFEST, DEFAULT_DIST_DIR
from colloque.web.verify import Fetch, read_manifest, verify_page
from tests.functional.web.conftest import Site
from tests.server import running_server

BASE = "http://testserver"


def _fetch(site: Site) -> Fetch:
    def fetch(url: str) -> tuple[int, bytes]:
        response = site.client.get(url)
        return response.status_code, response.content

    return fetch


def _built() -> dict[str, str]:
    return read_manifest((DEFAULT_DIST_DIR / ASSET_MANIFEST).read_bytes())


def test_a_page_of_our_build_matches(site: Site) -> None:
    report = verify_page(BASE + site.practitioner_url, _built(), _fetch(site))
    assert report.ok, report.findings
    checked = {finding.what for finding in report.findings}
    assert any(what.endswith(".js") for what in checked)
    assert "/asset-manifest.json" in checked


def test_a_file_that_is_not_the_build_is_reported(site: Site) -> None:
    manifest = _built()
    # A script the practitioner page loads (the build has others, e.g. the crypto worker).
    script = next(path for path in manifest if "slot-picker" in path and path.endswith(".js"))
    manifest[script] = hashlib.sha256(b"another build").hexdigest()
    report = verify_page(BASE + site.practitioner_url, manifest, _fetch(site))
    assert not report.ok
    failed = {finding.what for finding in report.findings if not finding.ok}
    assert failed == {script, "/asset-manifest.json"}


def _sri(content: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(content).digest()).decode()


def test_inline_foreign_unlisted_or_altered_scripts_fail() -> None:
    good, bad = b"console.log(1)", b"console.log(2)"
    manifest = {"assets/a.js": hashlib.sha256(good).hexdigest()}
    page = (
        f'<script type="module" src="/assets/a.js" integrity="{_sri(good)}"></script>'
        "<script>steal()</script>"
        '<script type="application/json">{"fine": true}</script>'
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="/assets/b.css">'
        '<link rel="icon" href="/favicon.ico">'
    ).encode()
    served = {
        "https://site.test/page": (200, page),
        "https://site.test/assets/a.js": (200, bad),
        "https://site.test/asset-manifest.json": (200, json.dumps({"files": manifest}).encode()),
    }
    report = verify_page("https://site.test/page", manifest, lambda url: served[url])
    details = [(f.what, f.ok, f.detail) for f in report.findings]
    assert details[0][:2] == ("assets/a.js", False)
    assert "an inline script" in details[1][2]
    assert details[2][:2] == ("https://cdn.example/x.js", False)
    assert details[3][:2] == ("assets/b.css", False)
    assert details[4] == ("/asset-manifest.json", True, "the same as yours")
    assert len(details) == 5
    assert not report.ok
    missing = verify_page("https://site.test/gone", manifest, lambda url: (404, b""))
    assert not missing.ok


def test_the_command_against_a_running_server(site: Site, tmp_path: Path) -> None:
    app = create_app(Settings(run_refresher=False), database=site.db, clock=site.clock)
    runner = CliRunner()
    with running_server(app) as url:
        page = url + site.practitioner_url
        result = runner.invoke(cli, ["verify-web", page, str(DEFAULT_DIST_DIR / ASSET_MANIFEST)])
        assert result.exit_code == 0, result.output
        assert "the web client matches your build" in result.output
        other = tmp_path / "other.json"
        manifest = _built()
        manifest[next(iter(manifest))] = "0" * 64
        other.write_text(json.dumps({"version": 1, "files": manifest}))
        result = runner.invoke(cli, ["verify-web", page, str(other)])
        assert result.exit_code == 1
        assert "FAIL" in result.output
        assert "differs from your build" in result.output
        not_a_manifest = tmp_path / "nothing.json"
        not_a_manifest.write_text("[]")
        assert runner.invoke(cli, ["verify-web", page, str(not_a_manifest)]).exit_code == 2
        assert runner.invoke(cli, ["verify-web", "ftp://x", str(other)]).exit_code == 2


def test_the_worker_a_script_starts_is_checked_too(site: Site) -> None:
    """Browsers have no integrity attribute for workers: verify-web fetches the crypto worker
    that the crypto client names and compares it with the manifest."""
    manifest = _built()
    vite = json.loads((DEFAULT_DIST_DIR / ".vite" / "manifest.json").read_text())
    client = vite["src/crypto/client.ts"]["file"]
    (worker,) = (c["file"] for c in vite.values() if c.get("isWorker"))
    sri = "sha256-" + base64.b64encode(bytes.fromhex(manifest[client])).decode()
    page = f'<script type="module" src="/{client}" integrity="{sri}"></script>'.encode()
    served = _fetch(site)

    def fetch(url: str) -> tuple[int, bytes]:
        return (200, page) if url.endswith("/booking") else served(url)

    report = verify_page(BASE + "/booking", manifest, fetch)
    assert report.ok, report.findings
    assert worker in {finding.what for finding in report.findings}
    manifest[worker] = hashlib.sha256(b"another worker").hexdigest()
    failed = {f.what for f in verify_page(BASE + "/booking", manifest, fetch).findings if not f.ok}
    assert failed == {worker, "/asset-manifest.json"}
