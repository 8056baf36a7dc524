"""The command line: clear messages and non-zero exits for bad input, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


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


def test_migrate_sqlite(tmp_path: Path) -> None:
    result = run("migrate", env_extra={"COLLOQUE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "colloque.sqlite3").exists()
