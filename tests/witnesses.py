"""Key directory witnesses as real processes (``colloque witness serve``) on loopback ports."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from tests.server import free_port

_COMMAND = (sys.executable, "-m", "colloque.cli", "witness")


@dataclass(frozen=True)
class RunningWitness:
    name: str
    public_key: bytes
    url: str

    @property
    def entry(self) -> str:
        """Its entry in COLLOQUE_KEY_DIRECTORY_WITNESSES."""
        return f"{self.name}={base64.b64encode(self.public_key).decode()}@{self.url}"


def witness_key(data_dir: Path, name: str) -> bytes:
    """The witness's public key, made in ``data_dir`` if needed (``colloque witness key``)."""
    out = subprocess.run(
        [*_COMMAND, "key", "--data-dir", str(data_dir), "--name", name],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    line_name, _, key = out.strip().partition("=")
    assert line_name == name, out
    return base64.b64decode(key)


@contextmanager
def running_witness(
    data_dir: Path, name: str, logs: Mapping[str, bytes], *, port: int | None = None
) -> Iterator[RunningWitness]:
    public_key = witness_key(data_dir, name)
    port = port or free_port()
    command = [*_COMMAND, "serve"]
    command += ["--data-dir", str(data_dir), "--name", name, "--port", str(port)]
    for origin, key in logs.items():
        command += ["--log", f"{origin}={base64.b64encode(key).decode()}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr
    assert stderr is not None
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the witness exited: {stderr.read()!r}")
            try:
                httpx2.get(f"{url}/add-checkpoint", timeout=1)
                break
            except httpx2.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the witness did not start") from None
                time.sleep(0.05)
        yield RunningWitness(name, public_key, url)
    finally:
        process.terminate()
        process.wait(timeout=20)
        stderr.close()
