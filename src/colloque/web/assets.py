"""The built front-end assets: Vite's manifest to find an entry's files, and our asset manifest
(SHA-256 of every file) for Subresource Integrity and for anyone who wants to check what we serve.

The build (``scripts/web-build``) writes both into ``web/dist``. Files are checked against the
asset manifest when loaded, so a file changed on disk after the build is refused at start rather
than served with an integrity attribute that the browser would reject.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import colloque

#: Where ``scripts/web-build`` puts the assets in a source checkout.
DEFAULT_DIST_DIR = Path(colloque.__file__).resolve().parents[2] / "web" / "dist"
ASSET_MANIFEST = "asset-manifest.json"
VITE_MANIFEST = Path(".vite") / "manifest.json"


class AssetsError(RuntimeError):
    """The built assets are missing or do not match their manifest."""


@dataclass(frozen=True, slots=True)
class Asset:
    path: str  # relative to the dist folder, as served under /assets/..
    integrity: str  # the SRI attribute value


@dataclass(frozen=True, slots=True)
class EntryFiles:
    scripts: tuple[Asset, ...] = ()
    styles: tuple[Asset, ...] = ()
    #: The chunks the entry imports on demand (``import()``), by chunk name, each with the chunks
    #: it needs that the entry's tags did not load, deepest first. A dynamic import has no
    #: integrity attribute: the page hands these to its script, which preloads each with its
    #: integrity before importing (web/src/lib/checked-import.ts).
    lazy: Mapping[str, tuple[Asset, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Assets:
    root: Path
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256 hex
    entries: dict[str, EntryFiles] = field(default_factory=dict)
    manifest_bytes: bytes = b""
    #: Worker scripts (the crypto worker): served with the worker's own policy.
    workers: frozenset[str] = frozenset()

    @property
    def built(self) -> bool:
        return bool(self.entries)

    def entry(self, name: str) -> EntryFiles:
        """The script and style files of one Vite entry (``src/slot-picker.ts``). Without a
        build, none: the pages still work, without their JavaScript and styles."""
        return self.entries.get(name, EntryFiles())

    def file(self, path: str) -> Path | None:
        """A built file by its served path, only if the manifest lists it."""
        if path not in self.files:
            return None
        return self.root / path


def _integrity(sha256_hex: str) -> str:
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def _imported(vite: dict[str, dict[str, Any]], name: str) -> list[str]:
    """The chunks an entry imports (shared by several entries), deepest first. Each gets a
    script tag of its own with its integrity, before the entry: the browser then holds the
    checked module when the entry imports it, since a module import has no integrity of its own."""
    found: list[str] = []

    def visit(key: str) -> None:
        for child in vite[key].get("imports", []):
            visit(str(child))
            file = str(vite[str(child)]["file"])
            if file not in found:
                found.append(file)

    visit(name)
    return found


def _imported_styles(vite: dict[str, dict[str, Any]], name: str) -> list[str]:
    """The stylesheets of the chunks an entry imports, deepest chunk first, as ``_imported``."""
    by_file = {str(chunk["file"]): chunk for chunk in vite.values()}
    return [str(css) for file in _imported(vite, name) for css in by_file[file].get("css", [])]


def load_assets(root: Path | None) -> Assets:
    root = (root or DEFAULT_DIST_DIR).resolve()
    manifest_path = root / ASSET_MANIFEST
    if not manifest_path.is_file():
        return Assets(root=root)
    manifest_bytes = manifest_path.read_bytes()
    listed: dict[str, str] = json.loads(manifest_bytes)["files"]
    for path, digest in listed.items():
        actual = hashlib.sha256((root / path).read_bytes()).hexdigest()
        if actual != digest:
            raise AssetsError(f"{path} does not match the asset manifest; rebuild the assets")
    vite: dict[str, dict[str, Any]] = json.loads((root / VITE_MANIFEST).read_text())
    entries: dict[str, EntryFiles] = {}
    workers = frozenset(str(c["file"]) for c in vite.values() if c.get("isWorker"))
    for name, chunk in vite.items():
        if not chunk.get("isEntry"):
            continue
        own = str(chunk["file"])
        # A component shared by several entries (the unlock form, a legend) is a chunk of its
        # own whose styles Vite lists on that chunk: the page needs them as much as its own.
        css = [*_imported_styles(vite, name), *(str(c) for c in chunk.get("css", []))]
        css = list(dict.fromkeys(css))
        if own.endswith(".css"):
            scripts, styles = [], [own, *css]
        else:
            scripts, styles = [*_imported(vite, name), own], css
        lazy = {
            str(vite[str(key)]["name"]): [
                p
                for p in [*_imported(vite, str(key)), str(vite[str(key)]["file"])]
                if p not in scripts
            ]
            for key in chunk.get("dynamicImports", [])
        }
        entries[name] = EntryFiles(
            scripts=tuple(Asset(p, _integrity(listed[p])) for p in scripts),
            styles=tuple(Asset(p, _integrity(listed[p])) for p in styles),
            lazy={
                chunk_name: tuple(Asset(p, _integrity(listed[p])) for p in paths)
                for chunk_name, paths in lazy.items()
            },
        )
    if not workers <= listed.keys():
        raise AssetsError("a worker script is missing from the asset manifest; rebuild the assets")
    return Assets(
        root=root, files=listed, entries=entries, manifest_bytes=manifest_bytes, workers=workers
    )
