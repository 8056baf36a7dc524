"""Practice invitations: mailed, accepted once by the invited address, within 7 days."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.models import PracticeInvitation
from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.scheduling.models import PracticeMember
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.accounts.conftest import (
    bearer,
    register,
)
from tests.functional.test_api import assert_problem
from tests.smtp import Inbox

ACCEPT = "/api/v1/invitations/accept"


def _invite(http: TestClient, world: World, body: dict[str, Any]) -> Any:
    return http.post(
        f"/api/v1/practices/{world.practice_id}/invitations",
        json=body,
        headers=bearer(world.admin.token),
    )


def _token_in(inbox: Inbox, email: str) -> str:
    found = re.search(r"(?m)^([A-Za-z0-9_-]{64})\r?$", inbox.last_text(email))
    assert found, "no invitation token in the mail"
    return found.group(1)


def test_invite_and_accept(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    world = build_world(db, clock)
    created = _invite(
        http,
        world,
        {
            "email": "Dr.New@example.test",
            "role": "practitioner",
            "practitioner_id": str(world.practitioner_id),
        },
    )
    assert created.status_code == 201, created.text
    invitation = created.json()
    assert invitation["email"] == "dr.new@example.test"
    assert "token" not in invitation
    token = _token_in(inbox, "dr.new@example.test")
    assert "Cabinet du Test" in inbox.last_text("dr.new@example.test")
    with db.read() as session:
        row = session.scalars(select(PracticeInvitation)).one()
    assert token.encode() not in row.token_hash
    pending = http.get(
        f"/api/v1/practices/{world.practice_id}/invitations", headers=bearer(world.admin.token)
    )
    assert [i["invitation_id"] for i in pending.json()] == [invitation["invitation_id"]]
    invitee = register(db, clock, "dr.new@example.test")
    accepted = http.post(ACCEPT, json={"token": token}, headers=bearer(invitee.token))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {
        "practice_id": str(world.practice_id),
        "role": "practitioner",
        "practitioner_id": str(world.practitioner_id),
    }
    with db.read() as session:
        member = session.get_one(PracticeMember, (world.practice_id, invitee.account_id))
        actions = session.scalars(select(AuditEvent.action)).all()
    assert member.role == "practitioner"
    assert "accounts:invitation:create" in actions
    assert "accounts:invitation:accept" in actions
    # Single use, and no longer pending.
    again = http.post(ACCEPT, json={"token": token}, headers=bearer(invitee.token))
    assert_problem(again, 422, "token")
    assert (
        pending.json()
        != http.get(
            f"/api/v1/practices/{world.practice_id}/invitations", headers=bearer(world.admin.token)
        ).json()
    )


def test_wrong_account_expired_and_unknown(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    world = build_world(db, clock)
    _invite(http, world, {"email": "sec@example.test", "role": "secretary"})
    token = _token_in(inbox, "sec@example.test")
    stranger = register(db, clock, "someone.else@example.test")
    wrong = http.post(ACCEPT, json={"token": token}, headers=bearer(stranger.token))
    assert_problem(wrong, 403, "token")
    # A token-only account without an address is "another address" too.
    assert_problem(
        http.post(ACCEPT, json={"token": token}, headers=bearer(world.holder.token)), 403
    )
    for bogus in ("not-a-token", "A", "é", "A" * 64, token[:-4] + "AAAA"):
        assert_problem(
            http.post(ACCEPT, json={"token": bogus}, headers=bearer(stranger.token)), 404, "token"
        )
    clock.advance(timedelta(days=7))
    invitee = register(db, clock, "sec@example.test")
    late = http.post(ACCEPT, json={"token": token}, headers=bearer(invitee.token))
    assert_problem(late, 422, "token")
    assert "expired" in late.json()["detail"]
    assert_problem(http.post(ACCEPT, json={"token": token}), 401)


def test_revoke_and_already_member(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    world = build_world(db, clock)
    created = _invite(http, world, {"email": "sec@example.test", "role": "secretary"}).json()
    token = _token_in(inbox, "sec@example.test")
    url = f"/api/v1/practices/{world.practice_id}/invitations/{created['invitation_id']}"
    assert_problem(http.delete(url, headers=bearer(world.secretary.token)), 403)
    assert http.delete(url, headers=bearer(world.admin.token)).status_code == 204
    assert_problem(http.delete(url, headers=bearer(world.admin.token)), 404)
    invitee = register(db, clock, "sec@example.test")
    assert_problem(http.post(ACCEPT, json={"token": token}, headers=bearer(invitee.token)), 404)
    # The admin's own address, already a member.
    _invite(http, world, {"email": "admin.alice@example.test", "role": "secretary"})
    own = _token_in(inbox, "admin.alice@example.test")
    again = http.post(ACCEPT, json={"token": own}, headers=bearer(world.admin.token))
    assert_problem(again, 409)


def test_only_admins_invite_and_roles_are_checked(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    world = build_world(db, clock)
    url = f"/api/v1/practices/{world.practice_id}/invitations"
    body = {"email": "x@example.test", "role": "secretary"}
    assert_problem(http.post(url, json=body, headers=bearer(world.secretary.token)), 403)
    assert_problem(http.post(url, json=body, headers=bearer(world.holder.token)), 404)
    assert_problem(http.get(url, headers=bearer(world.secretary.token)), 403)
    for bad, field in (
        ({"role": "practitioner"}, "practitioner_id"),
        ({"role": "secretary", "practitioner_id": str(world.practitioner_id)}, "practitioner_id"),
        ({"role": "practitioner", "practitioner_id": str(world.practice_id)}, "practitioner_id"),
        ({"role": "operator"}, "role"),
        ({"role": "owner"}, "role"),
        ({"email": "not-an-address"}, "email"),
    ):
        assert_problem(_invite(http, world, {**body, **bad}), 422, field)
    assert inbox.messages == []
