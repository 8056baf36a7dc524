"""The Python client's own checks: the password policy and calls made out of order."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from colloque.client import ApiError, NotLoggedIn, WeakPassword, check_password
from colloque.storage.engine import Database
from tests.functional.accounts.conftest import PASSWORD, new_client


def test_password_policy() -> None:
    check_password(PASSWORD)
    check_password("Tr0ub4dor&3 " * 6)  # 72 characters: long ones are fine
    check_password("x7#Lq!" + "a" * 94)  # judged on its first 72 characters
    with pytest.raises(WeakPassword, match="at least 12"):
        check_password("Sh0rt!pass")
    with pytest.raises(WeakPassword, match="at most 1024"):
        check_password("y" * 1025)
    with pytest.raises(WeakPassword) as caught:
        check_password("iloveyou1234")
    assert caught.value.suggestions
    with pytest.raises(WeakPassword):
        check_password("martin.dupont@example.test", user_inputs=["martin.dupont@example.test"])


def test_calls_out_of_order(db: Database, http: TestClient) -> None:
    client = new_client(http)
    for call in (
        lambda: client.account_id,
        lambda: client.reauthenticate(PASSWORD),
        lambda: client.change_password(PASSWORD, PASSWORD + "!"),
        client.me,
    ):
        with pytest.raises(NotLoggedIn):
            call()
    with pytest.raises(ApiError) as caught:
        client.search(specialty="astrology")
    assert caught.value.status == 422
    assert caught.value.field == "specialty"
