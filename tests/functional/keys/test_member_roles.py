"""An admin gives a member another role (``PATCH /api/v1/practices/{id}/members/{account}``):
signed where the practice signs its memberships, the row and the chain agreeing afterwards, the
practitioners' key taken from whoever leaves that role; unsigned where it does not."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.audit.models import AuditEvent
from colloque.client import ApiError
from colloque.clock import SettableClock
from colloque.crypto.statements import Role as GroupRole
from colloque.crypto.statements import sign_membership
from colloque.ids import new_id
from colloque.practicekeys import services
from colloque.practicekeys.groups import CLINICAL
from colloque.practicekeys.models import PracticeKeyWrap
from colloque.scheduling.models import PracticeMember
from colloque.storage.engine import Database
from tests.functional.keys.conftest import (
    Keyed,
    add,
    add_practitioner,
    keyed,
    new_agenda,
    new_practice,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.fixture
def team(db: Database, clock: SettableClock, http: TestClient) -> dict[str, Any]:
    """A practice with a signed chain, a practice group and a practitioners' group: an admin, a
    secretary and two practitioners (all attested), and a spare agenda no one is linked to."""
    people = {n: keyed(db, clock, n) for n in ("admin", "sec", "doc", "doc2")}
    practice = new_practice(db, clock, people["admin"])
    add(db, practice, people["sec"])
    add_practitioner(db, clock, practice, people["doc"], people["admin"])
    add_practitioner(db, clock, practice, people["doc2"], people["admin"])
    clients = {n: p.client(http) for n, p in people.items()}
    clients["admin"].practice_keys.create_group(practice)
    clients["doc"].practice_keys.create_clinical_group(practice)
    agenda = new_agenda(db, clock, practice, people["admin"], "Libre")
    return {"practice": practice, "people": people, "clients": clients, "agenda": agenda}


def _patch(http: TestClient, practice: UUID, who: Keyed, account: UUID, body: Any) -> Any:
    return http.patch(
        f"/api/v1/practices/{practice}/members/{account}", json=body, headers=who.headers
    )


def _problem(response: Any, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json().get("field") == field


def _row(db: Database, practice: UUID, account: UUID) -> tuple[str, UUID | None]:
    with db.read() as session:
        member = session.get_one(PracticeMember, (practice, account))
        return member.role, member.practitioner_id


def _clinical_holders(db: Database, practice: UUID) -> set[UUID]:
    with db.read() as session:
        return set(
            session.scalars(
                select(PracticeKeyWrap.account_id).where(
                    PracticeKeyWrap.practice_id == practice, PracticeKeyWrap.clinical.is_(True)
                )
            )
        )


def test_a_practitioner_becomes_a_secretary_and_back_signed(
    db: Database, http: TestClient, team: Any
) -> None:
    practice, people, clients = team["practice"], team["people"], team["clients"]
    admin, doc = clients["admin"], clients["doc"]
    doc2 = people["doc2"].account_id
    assert _clinical_holders(db, practice) == {people["doc"].account_id, doc2}
    sequence = admin.practice_keys.change_role(practice, doc2, GroupRole.SECRETARY)
    assert sequence == 5  # genesis, secretary, two practitioners, then this change
    # The row and the chain agree; the practitioners' key is no longer theirs and is due.
    assert _row(db, practice, doc2) == ("secretary", None)
    chain = admin.key_directory.membership_chain(practice)
    assert chain is not None
    assert chain.members()[doc2] is GroupRole.SECRETARY
    assert _clinical_holders(db, practice) == {people["doc"].account_id}
    with db.read() as session:
        assert services.rotation_due(session, practice_id=practice, group=CLINICAL)
        # The practice group is every member's: unchanged.
        assert not services.rotation_due(session, practice_id=practice)
        actions = list(session.scalars(select(AuditEvent.action)))
    assert "accounts:member:change" in actions
    # The next practitioner's client rotates, for the practitioners the chain attests now.
    assert doc.healthy_clinical_key(practice).epoch == 2
    with db.read() as session:
        holders = set(
            session.scalars(
                select(PracticeKeyWrap.account_id).where(
                    PracticeKeyWrap.clinical.is_(True), PracticeKeyWrap.epoch == 2
                )
            )
        )
    assert holders == {people["doc"].account_id}

    # Back to practitioner (another agenda): they wait for a practitioner's client to wrap.
    admin.practice_keys.change_role(practice, doc2, GroupRole.PRACTITIONER, team["agenda"])
    assert _row(db, practice, doc2) == ("practitioner", team["agenda"])
    assert doc.practice_keys.wrap_for_pending(practice, clinical=True) == 1
    assert clients["doc2"].practice_keys.open_group_key(practice, clinical=True).epoch == 2


def test_a_secretary_becomes_an_admin_who_can_sign(
    db: Database, http: TestClient, team: Any
) -> None:
    practice, people, clients = team["practice"], team["people"], team["clients"]
    sec = people["sec"].account_id
    clients["admin"].practice_keys.change_role(practice, sec, GroupRole.ADMIN)
    assert _row(db, practice, sec) == ("admin", None)
    # The new admin signs the next change; the first may now step down, leaving an admin.
    clients["sec"].practice_keys.change_role(
        practice, people["admin"].account_id, GroupRole.SECRETARY
    )
    assert _row(db, practice, people["admin"].account_id) == ("secretary", None)
    assert not _clinical_holders(db, practice) & {sec, people["admin"].account_id}


def test_a_practice_without_a_chain_changes_the_row_alone(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    admin, sec = keyed(db, clock, "admin"), keyed(db, clock, "sec")
    practice = new_practice(db, clock, admin)
    add(db, practice, sec)
    agenda = new_agenda(db, clock, practice, admin, "Libre")
    statement = sign_membership(
        group_id=practice,
        sequence=1,
        previous=bytes(32),
        member_id=sec.account_id,
        role=GroupRole.PRACTITIONER,
        signer=admin.client(http).practice_keys._me,
    )
    body = {"role": "practitioner", "practitioner_id": str(agenda)}
    with_statement = {**body, "statement": b64(statement.to_leaf())}
    _problem(_patch(http, practice, admin, sec.account_id, with_statement), 422, "statement")
    changed = _patch(http, practice, admin, sec.account_id, body)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "account_id": str(sec.account_id),
        "role": "practitioner",
        "practitioner_id": str(agenda),
    }
    assert (
        admin.client(http).practice_keys.change_role(practice, sec.account_id, GroupRole.SECRETARY)
        is None
    )
    assert _row(db, practice, sec.account_id) == ("secretary", None)
    # Same role: 409, nothing changes. The last admin cannot step down.
    _problem(_patch(http, practice, admin, sec.account_id, {"role": "secretary"}), 409, "role")
    _problem(_patch(http, practice, admin, admin.account_id, {"role": "secretary"}), 409, "role")
    assert _row(db, practice, admin.account_id) == ("admin", None)


def test_the_route_checks_what_it_can(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, people, clients = team["practice"], team["people"], team["clients"]
    admin, sec, doc = people["admin"], people["sec"], people["doc"]
    target = sec.account_id
    chain = clients["admin"].key_directory.membership_chain(practice)
    assert chain is not None

    def signed(
        member: UUID, role: GroupRole, *, sequence: int | None = None, by: Any = None
    ) -> str:
        statement = sign_membership(
            group_id=practice,
            sequence=chain.sequence + 1 if sequence is None else sequence,
            previous=chain.head,
            member_id=member,
            role=role,
            signer=(by or clients["admin"]).practice_keys._me,
        )
        return b64(statement.to_leaf())

    admin_body = {"role": "admin", "statement": signed(target, GroupRole.ADMIN)}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"role": "operator"}, 422, "role"),
        ({"role": "admin"}, 422, "statement"),
        ({"role": "admin", "statement": b64(b"\x01\x0b" + bytes(20))}, 422, "statement"),
        ({"role": "admin", "statement": signed(doc.account_id, GroupRole.ADMIN)}, 422, "statement"),
        ({"role": "admin", "statement": signed(target, GroupRole.SECRETARY)}, 422, "statement"),
        (
            {"role": "practitioner", "statement": signed(target, GroupRole.PRACTITIONER)},
            422,
            "practitioner_id",
        ),
        ({**admin_body, "practitioner_id": str(team["agenda"])}, 422, "practitioner_id"),
        ({"role": "practitioner", "practitioner_id": str(new_id())}, 422, "practitioner_id"),
        # Signed by a practitioner, not an admin of the chain; at a sequence already taken.
        (
            {"role": "admin", "statement": signed(target, GroupRole.ADMIN, by=clients["doc"])},
            422,
            "statement",
        ),
        (
            {
                "role": "admin",
                "statement": signed(target, GroupRole.ADMIN, sequence=chain.sequence),
            },
            409,
            "statement",
        ),
        ({"role": "secretary"}, 409, "role"),
    ]
    for body, status, field in cases:
        _problem(_patch(http, practice, admin, target, body), status, field)
    assert _row(db, practice, target) == ("secretary", None)
    # Not for a secretary or a practitioner (403); a stranger and a non-member: 404.
    _problem(_patch(http, practice, sec, doc.account_id, admin_body), 403)
    _problem(_patch(http, practice, doc, target, admin_body), 403)
    stranger = keyed(db, clock, "stranger")
    _problem(_patch(http, practice, stranger, target, admin_body), 404)
    _problem(_patch(http, practice, admin, stranger.account_id, {"role": "admin"}), 404)
    # The chain moved on between signing and sending: 409, nothing changed.
    clients["admin"].practice_keys.attest_member(practice, target, GroupRole.SECRETARY)
    _problem(_patch(http, practice, admin, target, admin_body), 409, "statement")
    assert _row(db, practice, target) == ("secretary", None)
    with db.read() as session:
        assert "accounts:member:change" not in set(session.scalars(select(AuditEvent.action)))


def test_the_client_refuses_a_removal_as_a_role_change(http: TestClient, team: Any) -> None:
    with pytest.raises(ValueError, match="a role a member can hold"):
        team["clients"]["admin"].practice_keys.change_role(
            team["practice"], team["people"]["sec"].account_id, GroupRole.REMOVED
        )


def test_the_last_admin_of_a_signed_practice_stays(db: Database, team: Any) -> None:
    practice, people, clients = team["practice"], team["people"], team["clients"]
    with pytest.raises(ApiError) as refused:
        clients["admin"].practice_keys.change_role(
            practice, people["admin"].account_id, GroupRole.SECRETARY
        )
    assert (refused.value.status, refused.value.problem.get("field")) == (409, "role")
    assert _row(db, practice, people["admin"].account_id) == ("admin", None)
