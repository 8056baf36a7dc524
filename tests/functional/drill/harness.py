"""What the server-compromise drill needs: a real server process, and a search of its leftovers.

The server runs as ``uvicorn colloque.api.main:app`` in its own process, with access logs on and
debug logging, writing to a file: what an operator, a log pipeline or an intruder would see.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from tests.server import free_port


def encodings(canary: str) -> dict[str, bytes]:
    """The forms in which a leaked canary would show up in a dump, a log or a file.

    Base64 is tried at the three byte alignments a canary can have inside a longer encoded
    value; the characters at both ends, which depend on the neighbouring bytes, are trimmed.
    """
    raw = canary.encode("utf-8")
    forms: dict[str, bytes] = {
        "utf-8": raw,
        "utf-16-le": canary.encode("utf-16-le"),
        "hex": binascii.hexlify(raw),
        "HEX": binascii.hexlify(raw).upper(),
        "url": urllib.parse.quote(canary).encode(),
        "url-plus": urllib.parse.quote_plus(canary).encode(),
        "json-ascii": json.dumps(canary)[1:-1].encode(),
    }
    for shift in range(3):
        padded = b"\0" * shift + raw
        for name, encode in (
            ("base64", base64.b64encode),
            ("base64url", base64.urlsafe_b64encode),
        ):
            text = encode(padded).rstrip(b"=")
            # Drop the characters that mix in the unknown neighbouring bytes.
            start = (shift * 4 + 2) // 3
            forms[f"{name}+{shift}"] = text[start:-2]
    return forms


@dataclass(frozen=True)
class Finding:
    artifact: str
    canary: str
    encoding: str


def search(artifacts: Mapping[str, bytes], canaries: Iterable[str]) -> list[Finding]:
    found = []
    for canary in canaries:
        forms = encodings(canary)
        for artifact, content in artifacts.items():
            lowered = content.lower()
            for encoding, form in forms.items():
                haystack = lowered if encoding in ("hex", "HEX") else content
                needle = form.lower() if encoding in ("hex", "HEX") else form
                if needle in haystack:
                    found.append(Finding(artifact, canary, encoding))
    return found


def files_under(root: Path, label: str) -> dict[str, bytes]:
    return {
        f"{label}/{path.relative_to(root)}": path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def pg_dump(url: str) -> bytes:
    """A plain-format dump, as a backup job would take it."""
    parsed = httpx2.URL(url.replace("postgresql+psycopg://", "postgresql://"))
    command = [
        "pg_dump",
        "--no-owner",
        "--format=plain",
        "--host",
        parsed.host or "127.0.0.1",
        "--port",
        str(parsed.port or 5432),
        "--username",
        parsed.username or "postgres",
        parsed.path.lstrip("/"),
    ]
    return subprocess.run(command, check=True, capture_output=True, timeout=300).stdout


@contextmanager
def server_process(env: Mapping[str, str], log_path: Path) -> Iterator[str]:
    """``colloque.api.main:app`` in a child process, logging everything to ``log_path``."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "colloque.api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "debug",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(log_path.read_text(errors="replace")[-2000:])
                try:
                    if httpx2.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
