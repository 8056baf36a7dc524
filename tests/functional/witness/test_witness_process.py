"""``colloque witness serve`` as a real process: it cosigns growth, refuses rollbacks and forks,
and keeps what it cosigned across a restart."""

from __future__ import annotations

from pathlib import Path

import httpx2
from typer.testing import CliRunner

from colloque.cli.main import app
from colloque.crypto import transparency, witness
from tests.unit.witness.test_witness import LOG_PUBLIC, ORIGIN, body, grow, hashes, note
from tests.witnesses import running_witness, witness_key

NAME = "witness.test/process"


def _post(url: str, text: str) -> httpx2.Response:
    return httpx2.post(f"{url}/add-checkpoint", content=text, timeout=10)


def test_a_witness_process_keeps_its_state_across_a_restart(tmp_path: Path) -> None:
    log = hashes(10)
    with running_witness(tmp_path, NAME, {ORIGIN: LOG_PUBLIC}) as running:
        answer = _post(running.url, grow(log[:4], 0))
        assert answer.status_code == 200, answer.text
        checkpoint = witness.verify_witnessed_checkpoint(
            note(log[:4]) + answer.text,
            origin=ORIGIN,
            log_public_key=LOG_PUBLIC,
            witnesses={NAME: running.public_key},
            threshold=1,
        )
        assert checkpoint.tree_size == 4
    with running_witness(tmp_path, NAME, {ORIGIN: LOG_PUBLIC}) as again:
        assert again.public_key == running.public_key  # the same key, from its data directory
        stale = _post(again.url, grow(log[:6], 0))
        assert (stale.status_code, stale.text) == (409, "4\n")
        assert stale.headers["content-type"] == "text/x.tlog.size"
        smaller = _post(again.url, body(4, [], note(log[:3])))
        assert smaller.status_code == 400  # old above the checkpoint's size: never a smaller tree
        rolled_back = _post(again.url, grow(log[:3], 0))
        assert rolled_back.status_code == 409
        proof = [bytes(32), *grow_proof(log, 4)[1:]]
        assert _post(again.url, body(4, proof, note(log))).status_code == 422
        assert _post(again.url, grow(log, 4)).status_code == 200


def grow_proof(log: list[bytes], old: int) -> list[bytes]:
    return transparency.consistency_proof(log, old)


def test_witness_key_prints_the_line_to_configure(tmp_path: Path) -> None:
    public = witness_key(tmp_path, NAME)
    assert witness_key(tmp_path, NAME) == public


def test_witness_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = [
        (["witness", "key", "--data-dir", str(tmp_path), "--name", "two words"], "--name"),
        (["witness", "serve", "--data-dir", str(tmp_path), "--name", "w", "--log", "x"], "ORIGIN="),
        (
            ["witness", "serve", "--data-dir", str(tmp_path), "--name", "w", "--log", "o=abc"],
            "32 bytes",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output
    seed = "07" * 32
    result = runner.invoke(
        app,
        ["witness", "key", "--data-dir", str(tmp_path / "given"), "--name", "w"],
        env={"COLLOQUE_WITNESS_KEY": seed},
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "given").exists()
    result = runner.invoke(
        app,
        ["witness", "key", "--data-dir", str(tmp_path), "--name", "w"],
        env={"COLLOQUE_WITNESS_KEY": "short"},
    )
    assert result.exit_code == 2
    assert "32 random bytes" in result.output
    (tmp_path / "blocked").write_text("")
    result = runner.invoke(
        app, ["witness", "key", "--data-dir", str(tmp_path / "blocked" / "d"), "--name", "w"]
    )
    assert result.exit_code == 2
    assert "cannot make" in result.output


def test_serve_refuses_a_threshold_above_the_witnesses(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "colloque.cli", "serve"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **os.environ,
            "COLLOQUE_DATA_DIR": str(tmp_path),
            "COLLOQUE_KEY_DIRECTORY_WITNESS_THRESHOLD": "1",
        },
    )
    assert result.returncode == 2
    assert "COLLOQUE_KEY_DIRECTORY_WITNESS_THRESHOLD is above" in result.stderr
    assert "Traceback" not in result.stderr
