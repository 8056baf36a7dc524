"""Rotating COLLOQUE_SECRET_KEY: ``colloque rotate-secret`` re-seals every TOTP seed, so nobody
enrols again; a wrong old secret changes nothing and says so. Both databases, the real services
(enrolment and login through the API), the real command (Typer's runner, in-process)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner, Result

from colloque.accounts.models import TotpFactor
from colloque.accounts.secrets import ResealReport, do_reseal_totp_seeds
from colloque.api.app import create_app
from colloque.cli.main import app as cli
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.keydirectory.config import LogKey
from colloque.server_keys import ServerKeys
from colloque.storage.engine import Database
from tests.functional.accounts.conftest import (
    SECRET,
    Registered,
    bearer,
    login_body,
    make_settings,
    register,
    totp_now,
)
from tests.functional.test_api import assert_problem
from tests.smtp import Inbox

NEW_SECRET = "the-next-secret-key-of-at-least-32-characters"
LOGIN = "/api/v1/auth/login"


def _app(db: Database, clock: SettableClock, port: int, secret: str) -> FastAPI:
    return create_app(make_settings(port, secret_key=SecretStr(secret)), database=db, clock=clock)


def _enrol(http: TestClient, clock: SettableClock, person: Registered) -> str:
    """Log in, set TOTP up and confirm it; returns the seed the authenticator app holds."""
    login = http.post(LOGIN, json=login_body(http, person.email))
    assert login.status_code == 200, login.text
    token = login.json()["session"]["token"]
    setup = http.post("/api/v1/me/mfa/totp", headers=bearer(token))
    assert setup.status_code == 200, setup.text
    seed: str = setup.json()["secret"]
    confirm = http.post(
        "/api/v1/me/mfa/totp/confirm", json={"code": totp_now(seed, clock)}, headers=bearer(token)
    )
    assert confirm.status_code == 200, confirm.text
    return seed


def _log_in_with_totp(http: TestClient, clock: SettableClock, email: str, seed: str) -> int:
    needs_code = http.post(LOGIN, json=login_body(http, email))
    assert_problem(needs_code, 401)
    return http.post(LOGIN, json=login_body(http, email, totp=totp_now(seed, clock))).status_code


def _rotate(db: Database, old_secret_file: str, *, new_secret: str = NEW_SECRET) -> Result:
    url = db.url.render_as_string(hide_password=False)
    return CliRunner().invoke(
        cli,
        ["rotate-secret", "--old-secret-file", old_secret_file, "--database-url", url],
        env={"COLLOQUE_SECRET_KEY": new_secret},
    )


def _sealed(db: Database) -> dict[object, bytes]:
    with db.read() as session:
        return {f.account_id: f.sealed_secret for f in session.scalars(select(TotpFactor))}


def test_rotating_the_secret_keeps_every_totp_enrolment(
    db: Database, clock: SettableClock, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    port = smtp[1]
    people = [register(db, clock, f"member{n}@example.test") for n in range(3)]
    with TestClient(_app(db, clock, port, SECRET), base_url="https://testserver") as http:
        seeds = {person.email: _enrol(http, clock, person) for person in people}
    before = _sealed(db)
    old_secret = tmp_path / "old-secret"
    old_secret.write_text(SECRET + "\n")

    rotated = _rotate(db, str(old_secret))

    assert rotated.exit_code == 0, rotated.output
    assert "re-sealed 3 TOTP seeds" in rotated.output
    after = _sealed(db)
    assert after.keys() == before.keys()
    assert all(after[account] != before[account] for account in before)
    clock.advance(timedelta(seconds=30))  # a code is accepted once: the next step's
    with TestClient(_app(db, clock, port, NEW_SECRET), base_url="https://testserver") as http:
        for email, seed in seeds.items():
            assert _log_in_with_totp(http, clock, email, seed) == 200
    # Run again (say, after an interruption): every seed is already under the new secret.
    again = _rotate(db, str(old_secret))
    assert again.exit_code == 0, again.output
    assert "re-sealed 0 TOTP seeds" in again.output
    assert "3 were already under it" in again.output
    assert _sealed(db) == after


def test_a_wrong_old_secret_changes_nothing(
    db: Database, clock: SettableClock, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    port = smtp[1]
    old, new, other = (register(db, clock, f"{n}@example.test") for n in ("old", "new", "other"))
    with TestClient(_app(db, clock, port, SECRET), base_url="https://testserver") as http:
        seed = _enrol(http, clock, old)
    with TestClient(_app(db, clock, port, NEW_SECRET), base_url="https://testserver") as http:
        _enrol(http, clock, new)  # already under the new secret
    before = _sealed(db)
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-old-secret-but-long-enough-anyway")

    refused = _rotate(db, str(wrong))

    assert refused.exit_code == 2
    assert "1 of 2 TOTP seeds open under neither" in refused.output
    assert "Nothing was changed" in refused.output
    assert "Traceback" not in refused.output
    assert _sealed(db) == before
    clock.advance(timedelta(seconds=30))
    with TestClient(_app(db, clock, port, SECRET), base_url="https://testserver") as http:
        assert _log_in_with_totp(http, clock, old.email, seed) == 200

    # The right old secret, but one seed under a third: the seed it could re-seal is not
    # re-sealed either (one transaction).
    with TestClient(
        _app(db, clock, port, "a-third-secret-" * 3), base_url="https://testserver"
    ) as h:
        _enrol(h, clock, other)
    before = _sealed(db)
    right = tmp_path / "right"
    right.write_text(SECRET)
    refused = _rotate(db, str(right))
    assert refused.exit_code == 2
    assert "1 of 3 TOTP seeds open under neither" in refused.output
    assert _sealed(db) == before


def test_the_service_reports_what_it_did(
    db: Database, clock: SettableClock, smtp: tuple[Inbox, int]
) -> None:
    """``do_reseal_totp_seeds`` on its own, as a script would call it (no progress callback)."""
    port = smtp[1]
    with TestClient(_app(db, clock, port, SECRET), base_url="https://testserver") as http:
        _enrol(http, clock, register(db, clock, "member@example.test"))
    old, new = ServerKeys.from_secret(SECRET), ServerKeys.from_secret(NEW_SECRET)
    with db.write() as session:
        assert do_reseal_totp_seeds(session, old=old, new=new) == ResealReport(1, 0)
    with db.write() as session:
        assert do_reseal_totp_seeds(session, old=old, new=new) == ResealReport(0, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("\n", "holds no secret"),
        (NEW_SECRET + "\n", "the old secret is COLLOQUE_SECRET_KEY itself"),
    ],
)
def test_the_old_secret_file_is_checked(
    db: Database, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "old-secret"
    if content is not None:
        path.write_text(content)
    refused = _rotate(db, str(path))
    assert refused.exit_code == 2
    assert message in refused.output
    assert "Traceback" not in refused.output


def test_the_old_secret_can_come_from_standard_input(db: Database) -> None:
    url = db.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        cli,
        ["rotate-secret", "--old-secret-file", "-", "--database-url", url],
        env={"COLLOQUE_SECRET_KEY": NEW_SECRET},
        input=SECRET + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "re-sealed 0 TOTP seeds under the new secret; 0 were already under it" in result.output


def test_the_legacy_log_key_keeps_a_log_made_before_the_setting_existed() -> None:
    """Upgrading: the key printed is the one earlier versions derived from the secret, and it
    prints in production, which refuses to start until it is set."""
    production = {
        "COLLOQUE_ENVIRONMENT": "production",
        "COLLOQUE_SECRET_KEY": SECRET,
        "COLLOQUE_KEY_DIRECTORY_ORIGIN": "colloque.test/key-directory",
    }
    result = CliRunner().invoke(cli, ["legacy-log-key"], env=production)
    assert result.exit_code == 0, result.output
    line, comment = result.output.splitlines()
    name, _, value = line.partition("=")
    assert name == "COLLOQUE_KEY_DIRECTORY_LOG_KEY"
    earlier = hmac.new(SECRET.encode(), b"colloque/key-directory/log-signing/v1", hashlib.sha256)
    assert base64.b64decode(value) == earlier.digest()
    settings = Settings(
        key_directory_origin="colloque.test/key-directory",
        key_directory_log_key=SecretStr(value),
        secret_key=SecretStr(NEW_SECRET),
    )
    public = base64.b64encode(LogKey.from_settings(settings).public_key).decode()
    assert comment.startswith(f"# log public key {public} ")
    refused = CliRunner().invoke(cli, ["legacy-log-key"], env={"COLLOQUE_PORT": "0"})
    assert refused.exit_code == 2
    assert "invalid configuration" in refused.output
