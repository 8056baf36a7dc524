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
from colloque.crypto.statements import (
    GENESIS_PREVIOUS,
    MembershipStatement,
    sign_group_epoch,
    sign_membership,
)
from colloque.crypto.statements import Role as GroupRole
from colloque.keydirectory.services import publish_bindings
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.functional.keys.conftest import LOG, Keyed, keyed, new_practice
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


def _attest(
    http: TestClient,
    admin: Keyed,
    practice: uuid.UUID,
    signer: UserKeys,
    chain: list[MembershipStatement],
    steps: list[tuple[uuid.UUID, GroupRole]],
) -> list[MembershipStatement]:
    """``chain`` extended by ``steps`` signed by the admin (its genesis first, if empty)."""
    added: list[MembershipStatement] = []
    if not chain:
        steps = [(signer.user_id, GroupRole.ADMIN), *steps]
    for member, role in steps:
        so_far = [*chain, *added]
        added.append(
            sign_membership(
                group_id=practice,
                sequence=len(so_far) + 1,
                previous=so_far[-1].leaf_hash() if so_far else GENESIS_PREVIOUS,
                member_id=member,
                role=role,
                signer=signer,
            )
        )
    answer = http.post(
        f"/api/v1/practices/{practice}/key-group/memberships",
        json={"statements": [b64(s.to_leaf()) for s in added]},
        headers=admin.headers,
    )
    assert answer.status_code == 201, answer.text
    return [*chain, *added]


def _rotation_queries(db: Database, clock: SettableClock, http: TestClient, n: int) -> int:
    admin = keyed(db, clock, f"admin{n}")
    practice = new_practice(db, clock, admin)
    users = [admin.client(http).unlocked_keys, *_members(db, clock, practice, n - 1)]
    path = f"/api/v1/practices/{practice}/key-group"
    signer = users[0]
    # The admin's genesis, then every member attested: one append of n signed statements.
    chain = _attest(
        http, admin, practice, signer, [], [(u.user_id, GroupRole.SECRETARY) for u in users[1:]]
    )
    first = groups.create_group(practice, members=[u.encryption_binding() for u in users])

    def wraps(rotation: groups.GroupRotation) -> list[dict[str, str]]:
        return [{"account_id": str(a), "wrap": b64(w)} for a, w in rotation.wraps.items()]

    def statement(key: groups.GroupKey) -> str:
        signed = sign_group_epoch(
            group_key=key.encryption_binding(),
            membership_sequence=len(chain),
            members=[(u.user_id, u.epoch) for u in users],
            signer=signer,
        )
        return b64(signed.to_leaf())

    body: dict[str, Any] = {
        "public_key": b64(first.group_key.public_key),
        "wraps": wraps(first),
        "statement": statement(first.group_key),
    }
    assert http.post(path, json=body, headers=admin.headers).status_code == 201
    leaving = users.pop()
    chain = _attest(http, admin, practice, signer, chain, [(leaving.user_id, GroupRole.REMOVED)])
    second = groups.rotate_group_key(
        first.group_key, members=[u.encryption_binding() for u in users]
    )
    body = {
        "epoch": 2,
        "public_key": b64(second.group_key.public_key),
        "wraps": wraps(second),
        "statement": statement(second.group_key),
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
