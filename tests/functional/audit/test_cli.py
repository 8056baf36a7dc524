"""``colloque audit``: exit codes and messages, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from colloque.audit.models import AuditEvent
from colloque.cli.main import app
from colloque.clock import SettableClock
from colloque.storage.engine import Database
from tests.functional.audit.conftest import PRACTICE_A, tampering, write_events


@pytest.fixture
def environment(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COLLOQUE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLLOQUE_DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("COLLOQUE_AUDIT_ORIGIN", "colloque.test/audit")
    monkeypatch.setenv("COLLOQUE_AUDIT_WITNESS_DIR", str(tmp_path / "witness"))
    # One event per round: ``checkpoint`` goes on until the queue is empty.
    monkeypatch.setenv("COLLOQUE_AUDIT_SEQUENCER_ROUND", "1")
    monkeypatch.setenv("COLLOQUE_KEY_DIRECTORY_WITNESSES", f"w.test={'A' * 43}=@http://127.0.0.1:1")
    return tmp_path


def _run(*args: str) -> Result:
    result = CliRunner().invoke(app, ["audit", *args], env={"COLUMNS": "400"})
    assert "Traceback" not in result.output
    return result


def test_checkpoint_verify_status_and_key(
    db: Database, clock: SettableClock, environment: Path
) -> None:
    status = _run("status")
    assert status.exit_code == 0, status.output
    assert "no checkpoint yet" in status.output
    assert "pending: 0 events, the oldest waiting for none" in status.output
    write_events(db, clock, 3, [PRACTICE_A, None])
    status = _run("status")
    assert "log of practice aaaaaaaa-0000-4000-8000-000000000001: 0 events, 2 pending" in (
        status.output
    )
    signed = _run("checkpoint")
    assert signed.exit_code == 0, signed.output
    assert "checkpoint of size 3 signed, exported 3, cosigned by 0 witnesses" in signed.output
    assert "no new events" in _run("checkpoint").output
    verified = _run("verify", "--no-progress")
    assert verified.exit_code == 0, verified.output
    assert "consistent: 3 events in 2 logs, 3 heads, 3 checkpoints" in verified.output
    status = _run("status")
    assert "global log: 1 events, 0 pending" in status.output
    assert "latest checkpoint: size 3" in status.output
    assert "file witness" in status.output
    assert "up to size 3" in status.output
    assert "witness w.test: cosigned up to size 0" in status.output
    key = _run("key")
    assert key.output.startswith("colloque.test/audit=")
    assert (environment / "audit-signing-key").exists()


def test_verify_names_the_first_inconsistency(
    db: Database, clock: SettableClock, environment: Path
) -> None:
    ids = write_events(db, clock, 2, [PRACTICE_A])
    assert _run("checkpoint").exit_code == 0
    with tampering(db) as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.event_id == ids[1]).values(actor_role="admin")
        )
    result = _run("verify")
    assert result.exit_code == 1
    assert f"index 1, event {ids[1]}: the event differs from its leaf" in result.output


def test_an_unusable_signing_key_exits_with_a_message(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "audit-signing-key"
    key.write_text("00" * 32)
    key.chmod(0o644)
    monkeypatch.setenv("COLLOQUE_AUDIT_SIGNING_KEY_FILE", str(key))
    monkeypatch.setenv("COLLOQUE_DATABASE_URL", sqlite_db.url.render_as_string())
    for command in ("verify", "checkpoint", "key"):
        result = _run(command)
        assert result.exit_code == 2
        assert "open to other users" in result.output
    # Status needs no key; without a file witness it shows none.
    status = _run("status")
    assert status.exit_code == 0
    assert "file witness" not in status.output


def test_serve_refuses_an_unusable_signing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "audit-signing-key"
    key.write_text("00" * 32)
    key.chmod(0o604)
    monkeypatch.setenv("COLLOQUE_AUDIT_SIGNING_KEY_FILE", str(key))
    monkeypatch.setenv("COLLOQUE_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "open to other users" in result.output
    assert "Traceback" not in result.output
