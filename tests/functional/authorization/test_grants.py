"""Operator access: nothing without a grant, read-only with one, for at most 72 hours, audited."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from colloque.accounts.grants import (
    active_grants,
    do_grant_operator_access,
    do_revoke_operator_access,
)
from colloque.accounts.models import Account
from colloque.audit.models import AuditEvent
from colloque.authorization.models import OperatorGrant
from colloque.clock import SettableClock
from colloque.errors import Conflict, Forbidden, InvalidInput, NotFound
from colloque.principal import Membership, Role
from colloque.storage.engine import Database
from tests.conftest import T0
from tests.factories import World, book
from tests.functional.authorization.conftest import auth, make_operator
from tests.problems import same_bytes_but_request_id

MON_0900 = T0 + timedelta(hours=1)
DAY = {"from": "2026-03-02T00:00:00Z", "until": "2026-03-03T00:00:00Z"}


def grants_url(world: World) -> str:
    return f"/api/v1/practices/{world.practice_id}/operator-grants"


def grant(db: Database, clock: SettableClock, world: World, operator_id: uuid.UUID) -> uuid.UUID:
    with db.write() as session:
        row = do_grant_operator_access(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            operator_account_id=operator_id,
            duration=timedelta(hours=1),
        )
        return row.grant_id


def audit_actions(db: Database, **where: Any) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.scalars(select(AuditEvent).filter_by(**where).order_by(AuditEvent.at))
        return [(row.action, row.actor_role) for row in rows]


def test_operators_see_nothing_without_a_grant_and_only_read_with_one(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    operator = make_operator(db, clock)
    appointment = book(db, clock, world, MON_0900)
    agenda = f"/api/v1/practices/{world.practice_id}/agenda"
    detail = f"/api/v1/practices/{world.practice_id}/appointments/{appointment.appointment_id}"
    missing = f"/api/v1/practices/{world.practice_id}/appointments/{uuid.uuid4()}"
    before = client.get(agenda, params=DAY, headers=auth(operator))
    assert before.status_code == 404
    assert same_bytes_but_request_id(
        client.get(detail, headers=auth(operator)).content,
        client.get(missing, headers=auth(operator)).content,
    )

    created = client.post(
        grants_url(world),
        json={"operator_account_id": str(operator.account_id), "duration_minutes": 60},
        headers=auth(world.admin),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["active"] is True
    assert body["granted_by_account_id"] == str(world.admin.account_id)
    assert body["expires_at"] == "2026-03-02T08:00:00Z"

    seen = client.get(agenda, params=DAY, headers=auth(operator))
    assert seen.status_code == 200, seen.text
    assert [a["appointment_id"] for a in seen.json()] == [str(appointment.appointment_id)]
    assert client.get(detail, headers=auth(operator)).status_code == 200
    assert client.get("/api/v1/me", headers=auth(operator)).json()["memberships"] == [
        {"practice_id": str(world.practice_id), "role": "operator", "practitioner_id": None}
    ]
    for method, url, payload in (
        ("POST", f"{detail}/cancel", {"reason": "practice_closed"}),
        ("PATCH", f"/api/v1/practices/{world.practice_id}/settings", {"hold_minutes": 20}),
        ("GET", grants_url(world), None),
    ):
        # Any version: the role is refused before the version is compared.
        headers = auth(operator) | {"If-Match": '"any"'}
        refused = client.request(method, url, json=payload, headers=headers)
        assert refused.status_code == 403, (method, url, refused.text)

    assert audit_actions(db, object_kind="operator_grant") == [
        ("security:operator_access:grant", "admin")
    ]
    assert ("booking:appointment:view", "operator") in audit_actions(
        db, actor_account_id=operator.account_id
    )
    assert ("scheduling:agenda:view", "operator") in audit_actions(
        db, actor_account_id=operator.account_id
    )

    clock.advance(timedelta(minutes=60))
    assert client.get(agenda, params=DAY, headers=auth(operator)).status_code == 404
    listed = client.get(grants_url(world), headers=auth(world.admin)).json()
    assert [(g["grant_id"], g["active"]) for g in listed] == [(body["grant_id"], False)]


def test_only_the_practice_admin_grants(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    operator = make_operator(db, clock)
    payload = {"operator_account_id": str(operator.account_id), "duration_minutes": 60}
    assert client.post(grants_url(world), json=payload).status_code == 401
    assert same_bytes_but_request_id(
        client.post(grants_url(world), json=payload, headers=auth(world.holder)).content,
        client.post(
            f"/api/v1/practices/{uuid.uuid4()}/operator-grants",
            json=payload,
            headers=auth(world.holder),
        ).content,
    )
    for person in (world.secretary, world.doctor):
        assert client.post(grants_url(world), json=payload, headers=auth(person)).status_code == 403
    # An operator cannot grant itself anything.
    assert client.post(grants_url(world), json=payload, headers=auth(operator)).status_code == 404


@pytest.mark.parametrize(("minutes", "status"), [(0, 422), (72 * 60 + 1, 422), (72 * 60, 201)])
def test_grants_last_at_most_72_hours(
    client: TestClient,
    db: Database,
    clock: SettableClock,
    world: World,
    minutes: int,
    status: int,
) -> None:
    operator = make_operator(db, clock)
    response = client.post(
        grants_url(world),
        json={"operator_account_id": str(operator.account_id), "duration_minutes": minutes},
        headers=auth(world.admin),
    )
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["field"] == "duration_minutes"


def test_grant_service_checks(db: Database, clock: SettableClock, world: World) -> None:
    operator = make_operator(db, clock)
    admin = world.admin.principal(db)

    def attempt(account_id: uuid.UUID, duration: timedelta) -> None:
        with db.write() as session:
            do_grant_operator_access(
                session,
                now=clock.now(),
                principal=admin,
                practice_id=world.practice_id,
                operator_account_id=account_id,
                duration=duration,
            )

    with pytest.raises(InvalidInput) as too_long:
        attempt(operator.account_id, timedelta(hours=72, seconds=1))
    assert too_long.value.field == "duration_minutes"
    with pytest.raises(InvalidInput):
        attempt(operator.account_id, timedelta(0))
    for account_id in (world.holder.account_id, uuid.uuid4()):
        with pytest.raises(NotFound) as caught:
            attempt(account_id, timedelta(hours=1))
        assert caught.value.field == "operator_account_id"
    with db.write() as session:
        row = session.get(Account, operator.account_id)
        assert row is not None
        row.disabled = True
    with pytest.raises(NotFound):
        attempt(operator.account_id, timedelta(hours=1))
    with pytest.raises(Forbidden), db.write() as session:
        do_grant_operator_access(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            operator_account_id=operator.account_id,
            duration=timedelta(hours=1),
        )


def test_revoking_ends_access_at_once(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    operator = make_operator(db, clock)
    grant_id = grant(db, clock, world, operator.account_id)
    agenda = f"/api/v1/practices/{world.practice_id}/agenda"
    assert client.get(agenda, params=DAY, headers=auth(operator)).status_code == 200
    url = f"{grants_url(world)}/{grant_id}"
    assert client.delete(url, headers=auth(world.secretary)).status_code == 403
    revoked = client.delete(url, headers=auth(world.admin))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    assert revoked.json()["revoked_at"] == "2026-03-02T07:00:00Z"
    assert client.get(agenda, params=DAY, headers=auth(operator)).status_code == 404
    again = client.delete(url, headers=auth(world.admin))
    assert again.status_code == 409
    missing = client.delete(f"{grants_url(world)}/{uuid.uuid4()}", headers=auth(world.admin))
    assert missing.status_code == 404
    assert [
        action
        for action, _role in audit_actions(db, object_kind="operator_grant", outcome="allowed")
    ] == [
        "security:operator_access:grant",
        "security:operator_access:revoke",
    ]
    # The secretary's 403 and the missing grant's 404 (audit.denials).
    assert sorted(audit_actions(db, object_kind="operator_grant", outcome="denied")) == [
        ("security:access:denied", "admin"),
        ("security:access:denied", "secretary"),
    ]
    with pytest.raises(Conflict), db.write() as session:
        do_revoke_operator_access(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            grant_id=grant_id,
        )


def test_active_grants_and_the_principal(db: Database, clock: SettableClock, world: World) -> None:
    operator = make_operator(db, clock)
    expired = grant(db, clock, world, operator.account_id)
    clock.advance(timedelta(hours=2))
    with db.read() as session:
        assert active_grants(session, operator.account_id, clock.now()) == {}
    revoked = grant(db, clock, world, operator.account_id)
    with db.write() as session:
        do_revoke_operator_access(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            grant_id=revoked,
        )
    live = grant(db, clock, world, operator.account_id)
    assert len({expired, revoked, live}) == 3
    with db.read() as session:
        grants = active_grants(session, operator.account_id, clock.now())
        assert grants == {world.practice_id: Membership(role=Role.OPERATOR)}


def test_grant_listing_is_newest_first(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    operator = make_operator(db, clock)
    first = grant(db, clock, world, operator.account_id)
    clock.advance(timedelta(minutes=5))
    second = grant(db, clock, world, operator.account_id)
    listed = client.get(grants_url(world), headers=auth(world.admin)).json()
    assert [g["grant_id"] for g in listed] == [str(second), str(first)]
    assert all(g["active"] for g in listed)


@pytest.mark.parametrize(
    ("lifetime", "accepted"),
    [
        (timedelta(hours=72), True),
        (timedelta(hours=72, seconds=1), False),
        (timedelta(0), False),
    ],
)
def test_the_database_refuses_longer_grants(
    db: Database, clock: SettableClock, world: World, lifetime: timedelta, accepted: bool
) -> None:
    """The 72-hour limit is a CHECK constraint too, in each dialect's date arithmetic."""
    operator = make_operator(db, clock)
    row = OperatorGrant(
        practice_id=world.practice_id,
        grant_id=uuid.uuid4(),
        operator_account_id=operator.account_id,
        granted_by_account_id=world.admin.account_id,
        granted_at=clock.now(),
        expires_at=clock.now() + lifetime,
        revoked_at=None,
        revoked_by_account_id=None,
    )
    if accepted:
        with db.write() as session:
            session.add(row)
        return
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(row)
