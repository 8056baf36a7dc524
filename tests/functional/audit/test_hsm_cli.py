"""``colloque audit hsm-keygen`` and the server's use of the token's key, through the CLI."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.softhsm import PIN, make_tokens, softhsm_module

TOKEN = "colloque-audit"


@pytest.fixture
def token_env(tmp_path: Path) -> dict[str, str]:
    """A fresh token and the settings that name it; each command is a process of its own."""
    module = softhsm_module()
    conf = make_tokens(tmp_path / "softhsm", [TOKEN])
    return {
        "SOFTHSM2_CONF": str(conf),
        "COLLOQUE_DATA_DIR": str(tmp_path / "data"),
        "COLLOQUE_AUDIT_PKCS11_MODULE": str(module),
        "COLLOQUE_AUDIT_PKCS11_TOKEN_LABEL": TOKEN,
        "COLLOQUE_AUDIT_PKCS11_PIN": PIN,
        "COLLOQUE_AUDIT_ORIGIN": "colloque.example/audit",
    }


def colloque(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The command's result, its standard error on one line (the console wraps it)."""
    result = subprocess.run(
        [sys.executable, "-m", "colloque.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    result.stderr = " ".join(result.stderr.split())
    return result


def test_keygen_prints_the_key_the_server_then_signs_with(token_env: dict[str, str]) -> None:
    made = colloque("audit", "hsm-keygen", env=token_env)
    assert made.returncode == 0, made.stderr
    public = made.stdout.rsplit("public key: ", 1)[1].strip()
    assert len(base64.b64decode(public)) == 32
    shown = colloque("audit", "key", env=token_env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"colloque.example/audit={public}"
    again = colloque("audit", "hsm-keygen", env=token_env)
    assert again.returncode != 0
    assert "already holds a key labelled 'colloque-audit'" in again.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"COLLOQUE_AUDIT_PKCS11_PIN": "0000"}, "is wrong"),
        ({"COLLOQUE_AUDIT_PKCS11_TOKEN_LABEL": "elsewhere"}, "no token 'elsewhere'"),
        ({"COLLOQUE_AUDIT_PKCS11_MODULE": ""}, "set COLLOQUE_AUDIT_PKCS11_MODULE"),
    ],
    ids=["wrong-pin", "no-token", "no-module"],
)
def test_keygen_says_what_is_wrong(
    token_env: dict[str, str], change: dict[str, str], message: str
) -> None:
    result = colloque("audit", "hsm-keygen", env={**token_env, **change})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "0000" not in result.stderr


def test_the_server_refuses_to_start_without_the_token_key(token_env: dict[str, str]) -> None:
    result = colloque("audit", "key", env=token_env)
    assert result.returncode != 0
    assert "holds no Ed25519 key labelled 'colloque-audit'" in result.stderr
    assert "hsm-keygen" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
