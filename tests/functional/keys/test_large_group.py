"""A group of 1,000 members rotates in one request, in as many queries as a group of three."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from fastapi.testclient import TestClient

from colloque.accounts.services import do_add_member, do_create_account
from colloque.clock import SettableClock
from colloque.crypto import groups
from colloque.crypto.keys import UserKeys
from colloque.keydirectory.services import publish_bindings
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.functional.keys.conftest import LOG, keyed, new_practice
from tests.querycount import count_queries
from tests.unit.crypto.helpers import new_user


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _members(db: Database, clock: SettableClock, practice: uuid.UUID, n: int) -> list[UserKeys]:
    """``n`` secretaries with keys in the directory (made in one transaction, for speed)."""
    users = []
    with db.write() as session:
        for i in range(n):
            account = do_create_account(
                session, now=clock.now(), display_name=f"Member {i}", account_id=uuid.uuid4()
            )
            do_add_member(
                session, practice_id=practice, account_id=account.account_id, role=Role.SECRETARY
            )
            users.append(new_user(account.account_id))
        bindings = [b for u in users for b in (u.encryption_binding(), u.signing_binding())]
        publish_bindings(session, bindings=bindings, now=clock.now(), log=LOG)
    return users


def _rotation_queries(db: Database, clock: SettableClock, http: TestClient, n: int) -> int:
    admin = keyed(db, clock, f"admin{n}")
    practice = new_practice(db, clock, admin)
    users = [admin.client(http).unlocked_keys, *_members(db, clock, practice, n - 1)]
    path = f"/api/v1/practices/{practice}/key-group"
    first = groups.create_group(practice, members=[u.encryption_binding() for u in users])

    def wraps(rotation: groups.GroupRotation) -> list[dict[str, str]]:
        return [{"account_id": str(a), "wrap": b64(w)} for a, w in rotation.wraps.items()]

    body: dict[str, Any] = {"public_key": b64(first.group_key.public_key), "wraps": wraps(first)}
    assert http.post(path, json=body, headers=admin.headers).status_code == 201
    leaving = users.pop()
    removed = http.delete(
        f"/api/v1/practices/{practice}/members/{leaving.user_id}", headers=admin.headers
    )
    assert removed.status_code == 204
    second = groups.rotate_group_key(
        first.group_key, members=[u.encryption_binding() for u in users]
    )
    body = {
        "epoch": 2,
        "public_key": b64(second.group_key.public_key),
        "wraps": wraps(second),
    }
    with count_queries(db) as statements:
        answer = http.post(path + "/rotations", json=body, headers=admin.headers)
    assert answer.status_code == 201, answer.text
    mine = http.get(path, headers=admin.headers).json()
    assert [w["epoch"] for w in mine["wraps"]] == [2, 1]
    return len(statements)


def test_a_thousand_members_rotate_in_constant_queries(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    small = _rotation_queries(db, clock, http, 3)
    large = _rotation_queries(db, clock, http, 1000)
    assert 0 < large == small
