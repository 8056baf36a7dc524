"""A login whose account is deleted or disabled between the proof check and the session: a 401
like any failed login, never a 500, and no session is left behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from colloque.accounts.models import AccessToken, Account
from colloque.api.routes import account_web, auth
from colloque.clock import SettableClock
from colloque.storage.engine import Database
from tests.functional.accounts.conftest import login_body, register
from tests.functional.test_api import assert_problem


def _after_the_proof(db: Database, change: Callable[[Any], None]) -> Callable[..., Any]:
    """``attempt`` that runs ``change`` in its own transaction once the read-only proof check
    is over, as a deletion committing at that moment would."""
    real = account_web.attempt

    def attempt(*args: Any, write: bool = True) -> Any:
        result = real(*args, write=write)
        if not write:
            with db.write() as session:
                change(session)
        return result

    return attempt


@pytest.mark.parametrize("what", ["deleted", "disabled"])
def test_login_racing_the_account_is_a_401(
    http: TestClient,
    db: Database,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
    what: str,
) -> None:
    person = register(db, clock, "racer@example.test")
    body = login_body(http, person.email)

    def change(session: Any) -> None:
        account = session.get_one(Account, person.account_id)
        if what == "deleted":
            session.delete(account)
        else:
            session.execute(
                update(Account).where(Account.account_id == person.account_id).values(disabled=True)
            )

    monkeypatch.setattr(auth, "attempt", _after_the_proof(db, change))
    response = http.post("/api/v1/auth/login", json=body)
    assert_problem(response, 401)
    with db.read() as session:
        sessions = session.scalar(
            select(func.count())
            .select_from(AccessToken)
            .where(AccessToken.account_id == person.account_id, AccessToken.kind != "issued")
        )
    assert sessions == 0
