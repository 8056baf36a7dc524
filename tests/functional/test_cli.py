"""The command line: clear messages and non-zero exits for bad input, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from colloque.clock import SystemClock


def run(
    *args: str, env_extra: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "colloque.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["demo", "--practitioners", "0", "--no-serve"],
            "--practitioners must be between 1 and 10000",
        ),
        (
            ["demo", "--appointments", "2000000", "--no-serve"],
            "--appointments must be between 0 and 1000000",
        ),
        (["demo", "--practitioners", "many"], "Invalid value"),
        (["migrate", "--database-url", "mysql://nope"], "unsupported database"),
        (
            ["migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/nothing"],
            "migration failed",
        ),
        (["serve", "--port", "0"], "Invalid value"),
        (["bogus"], "No such command"),
    ],
)
def test_bad_arguments(args: list[str], message: str, tmp_path: Path) -> None:
    result = run(*args, env_extra={"COLLOQUE_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert message in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_production_refuses_default_secret(tmp_path: Path) -> None:
    result = run(
        "migrate",
        env_extra={"COLLOQUE_ENVIRONMENT": "production", "COLLOQUE_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "COLLOQUE_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_start_without_its_own_log_key(tmp_path: Path) -> None:
    result = run(
        "migrate",
        env_extra={
            "COLLOQUE_ENVIRONMENT": "production",
            "COLLOQUE_SECRET_KEY": "a-production-secret-of-at-least-32-characters",
            "COLLOQUE_DATABASE_URL": f"sqlite:///{tmp_path / 'colloque.sqlite3'}",
            "COLLOQUE_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 2
    assert "COLLOQUE_KEY_DIRECTORY_LOG_KEY must be set in production" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_serve_with_containment_off(tmp_path: Path) -> None:
    """Every other setting fit for production: the switch alone stops ``serve`` before it
    migrates or listens."""
    result = run(
        "serve",
        env_extra={
            "COLLOQUE_ENVIRONMENT": "production",
            "COLLOQUE_SECRET_KEY": "a-production-secret-of-at-least-32-characters",
            "COLLOQUE_DATABASE_URL": f"sqlite:///{tmp_path / 'colloque.sqlite3'}",
            "COLLOQUE_DATA_DIR": str(tmp_path),
            "COLLOQUE_KEY_DIRECTORY_LOG_KEY": "6b" * 32,
            "COLLOQUE_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-signing-key"),
            "COLLOQUE_CONTAINMENT_ENABLED": "false",
        },
    )
    assert result.returncode == 2
    assert "COLLOQUE_CONTAINMENT_ENABLED=false is refused in production" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "colloque.sqlite3").exists()


def test_migrate_sqlite_creates_the_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "there" / "yet"
    result = run("migrate", env_extra={"COLLOQUE_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    assert (data_dir / "colloque.sqlite3").exists()


def test_demo_loads_and_prints_logins(tmp_path: Path) -> None:
    """The README's first command on a fresh data directory (without serving)."""
    data_dir = tmp_path / "var"
    result = run(
        "demo",
        "--no-serve",
        "--practitioners",
        "20",
        "--patients",
        "50",
        "--appointments",
        "500",
        env_extra={"COLLOQUE_DATA_DIR": str(data_dir), "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8000" in result.stdout
    for email in ("patient@", "secretary@", "practitioner@", "admin@"):
        assert email in result.stdout
    assert "tilleul-marmotte-horizon-patient" in result.stdout
    again = run("demo", "--no-serve", env_extra={"COLLOQUE_DATA_DIR": str(data_dir)})
    assert again.returncode == 0, again.stderr
    assert "demo data not loaded again" in again.stdout
    # Every start prints the URL, the logins with new tokens and the Try lines, never wrapped
    # (the output is a pipe here, and COLUMNS is not set).
    assert "http://127.0.0.1:8000" in again.stdout
    # The web pages first, with the showcase GP's page, then the API.
    printed = again.stdout.splitlines()
    web = next(i for i, line in enumerate(printed) if "open http://127.0.0.1:8000/ in a" in line)
    assert "/practitioners/" in printed[web + 1]
    assert web < next(i for i, line in enumerate(printed) if line.startswith("API: "))
    first_tokens = _tokens(result.stdout)
    tokens = _tokens(again.stdout)
    assert len(tokens) == 4
    assert not set(tokens) & set(first_tokens)
    assert all(len(token) > 40 for token in tokens)
    [booking] = [
        line
        for line in again.stdout.splitlines()
        if "-d " in line and "/api/v1/appointments" in line
    ]
    assert f"Bearer {tokens[0]}" in booking
    assert "pin_key_directory(origin=" in again.stdout


def _tokens(stdout: str) -> list[str]:
    return [line.split()[1] for line in stdout.splitlines() if line.strip().startswith("token ")]


def test_the_worker_sweeps_old_undescribed_documents(tmp_path: Path) -> None:
    env = {"COLLOQUE_DATA_DIR": str(tmp_path)}
    assert run("migrate", env_extra=env).returncode == 0
    orphan = tmp_path / "blobs" / "documents" / str(uuid.uuid4()) / str(uuid.uuid4())
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"never described")
    long_ago = (SystemClock().now() - timedelta(days=3)).timestamp()
    os.utime(orphan, (long_ago, long_ago))
    result = run("worker", "--once", env_extra=env)
    assert result.returncode == 0, result.stderr
    printed = " ".join(result.stdout.split())  # the console wraps long lines
    assert "swept 1 documents never described, 0 temporary files" in printed
    assert not orphan.exists()
