"""SoftHSM2 tokens for the PKCS#11 signer's tests, from Debian's softhsm2 (scripts/softhsm).

SoftHSM reads its configuration (``SOFTHSM2_CONF``: where its tokens live) once per process, when
the module is first loaded, and sees only the tokens that existed then: a process makes all the
tokens it needs first, in a directory of its own.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

PIN = "4821"
SO_PIN = "9731"
_INIT_TOKEN = ("softhsm2-util", "--init-token", "--free")
_MODULES = (
    Path("/usr/lib/softhsm/libsofthsm2.so"),
    Path("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"),
    Path("/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"),
)


def softhsm_module() -> Path:
    """The SoftHSM2 PKCS#11 module; fails (never skips) without it, as the browser tests do."""
    module = next((path for path in _MODULES if path.exists()), None)
    if module is None or shutil.which("softhsm2-util") is None:
        pytest.fail("SoftHSM2 is missing: run scripts/softhsm (apt-get install softhsm2)")
    return module


def make_tokens(directory: Path, labels: Iterable[str]) -> Path:
    """Initialised tokens (user PIN :data:`PIN`) in ``directory``; returns the configuration
    file to point ``SOFTHSM2_CONF`` at."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    for label in labels:
        subprocess.run(
            [*_INIT_TOKEN, "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
            env={"SOFTHSM2_CONF": str(conf), "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
            timeout=60,
        )
    return conf
