"""Checking what a live server sends against the asset manifest of a build.

End-to-end encryption in a browser trusts the JavaScript the server sends. An auditor who builds
the same commit gets the same files and the same ``asset-manifest.json`` (the build is
deterministic); this compares a page of a running server with it: every script and stylesheet the
page loads must come from the server's own origin, carry an integrity attribute equal to the
manifest's hash, and be, byte for byte, what the manifest lists. An inline script, which no
manifest can cover, is a failure too. Workers a script starts (the crypto worker) carry no
integrity attribute, since browsers have none for workers: every ``/assets/...`` file a checked
script names, and every chunk it imports, is fetched and compared too, and followed in turn. The fetching is a parameter, so tests run it in process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

#: GET an absolute URL: (status, body after any content encoding is undone).
Fetch = Callable[[str], tuple[int, bytes]]

ASSET_MANIFEST_PATH = "/asset-manifest.json"
_LINKED = {"stylesheet", "modulepreload", "preload"}
#: An asset a script loads by itself (a worker, a chunk), as Vite writes its URL.
_NAMED_ASSET = re.compile(rb"/(assets/[A-Za-z0-9_.-]+\.js)\b")
#: A chunk a script imports, relative to the script (``import ... from "./client-<hash>.js"``).
_IMPORTED_CHUNK = re.compile(rb"[\"']\./([A-Za-z0-9_.-]+\.js)[\"']")


@dataclass(frozen=True, slots=True)
class Finding:
    what: str
    ok: bool
    detail: str


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)

    def add(self, what: str, ok: bool, detail: str) -> None:
        self.findings.append(Finding(what, ok, detail))


@dataclass(frozen=True, slots=True)
class _Tag:
    kind: str
    url: str | None  # None: an inline script
    integrity: str | None


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[_Tag] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script":
            if "src" in values:
                self.tags.append(_Tag("script", values["src"], values.get("integrity")))
            elif values.get("type", "").lower() != "application/json":
                self.tags.append(_Tag("inline script", None, None))
        elif tag == "link" and _LINKED & set(values.get("rel", "").lower().split()):
            self.tags.append(_Tag("link", values.get("href", ""), values.get("integrity")))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _sri(sha256_hex: str) -> str:
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def read_manifest(content: bytes) -> dict[str, str]:
    files = json.loads(content)["files"]
    if not isinstance(files, dict):
        raise ValueError("an asset manifest holds a 'files' object")
    return {str(path): str(digest) for path, digest in files.items()}


def _compare(report: Report, url: str, path: str, expected: str, fetch: Fetch) -> bytes:
    """Fetches one asset and reports whether it is the manifest's; returns what was served."""
    status, content = fetch(url)
    actual = hashlib.sha256(content).hexdigest()
    if status != 200 or actual != expected:
        report.add(path, False, f"served {status}, sha256 {actual}, not {expected}")
    else:
        report.add(path, True, f"sha256 {actual}")
    return content


def _follow(
    report: Report,
    url: str,
    content: bytes,
    manifest: Mapping[str, str],
    fetch: Fetch,
    checked: set[str],
) -> None:
    """Checks what a checked script loads by itself, and what those load in turn: a page's
    script imports shared chunks, and one of them starts the crypto worker."""
    named = [m.decode() for m in _NAMED_ASSET.findall(content)]
    base = urlsplit(url).path.rsplit("/", 1)[0].lstrip("/")
    named += [f"{base}/{m.decode()}" for m in _IMPORTED_CHUNK.findall(content)]
    for loaded in named:
        if loaded in manifest and loaded not in checked:
            checked.add(loaded)
            loaded_url = urljoin(url, "/" + loaded)
            served = _compare(report, loaded_url, loaded, manifest[loaded], fetch)
            _follow(report, loaded_url, served, manifest, fetch, checked)


def verify_page(page_url: str, manifest: Mapping[str, str], fetch: Fetch) -> Report:
    report = Report()
    status, body = fetch(page_url)
    if status != 200:
        report.add(page_url, False, f"the page answered {status}")
        return report
    parser = _Tags()
    parser.feed(body.decode("utf-8", errors="replace"))
    checked: set[str] = set()
    for tag in parser.tags:
        if tag.url is None:
            report.add(page_url, False, "an inline script, which no manifest covers")
            continue
        url = urljoin(page_url, tag.url)
        if _origin(url) != _origin(page_url):
            report.add(url, False, "loaded from another origin")
            continue
        path = urlsplit(url).path.lstrip("/")
        expected = manifest.get(path)
        if expected is None:
            report.add(path, False, "not in the manifest")
            continue
        if tag.integrity != _sri(expected):
            report.add(path, False, f"the {tag.kind} tag's integrity is not the manifest's hash")
            continue
        _follow(report, url, _compare(report, url, path, expected, fetch), manifest, fetch, checked)
    scheme, netloc = _origin(page_url)
    published_status, published = fetch(f"{scheme}://{netloc}{ASSET_MANIFEST_PATH}")
    if published_status != 200:
        report.add(ASSET_MANIFEST_PATH, False, f"answered {published_status}")
    elif read_manifest(published) != dict(manifest):
        report.add(ASSET_MANIFEST_PATH, False, "the published manifest differs from yours")
    else:
        report.add(ASSET_MANIFEST_PATH, True, "the same as yours")
    return report
