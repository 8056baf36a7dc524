"""A practitioner of one practice joins another by invitation, their account's consent: the second
practice gets an agenda of the same practitioner, with no hours, and one person stays in one place
at a time across the two (hours elsewhere, the busy ledger, the slots offered)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from colloque.accounts.invitations import do_accept_invitation
from colloque.accounts.models import PracticeInvitation
from colloque.accounts.sessions import SessionKind, open_session
from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.errors import Conflict
from colloque.ids import new_id
from colloque.principal import Role
from colloque.scheduling.models import Practice, PracticeMember, PracticePractitioner
from colloque.scheduling.services import do_create_practice
from colloque.storage.engine import Database
from tests.factories import (
    DOCTOR_EMAIL,
    Person,
    World,
    add_second_practice,
    build_world,
    make_person,
    register_at_practice,
)
from tests.functional.accounts.conftest import bearer, register
from tests.functional.accounts.test_invitations import ACCEPT, _token_in
from tests.functional.test_api import assert_problem
from tests.smtp import Inbox

SATURDAY = date(2026, 3, 7)
SAT_1000 = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)  # 10:00 in Paris


@dataclass
class Other:
    """Another practice, run by its own admin, who has nothing to do with the world's."""

    practice_id: UUID
    admin: Person


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def other(db: Database, clock: SettableClock) -> Other:
    admin = make_person(db, clock, "Admin Bruno")
    with db.write() as session:
        practice = do_create_practice(
            session,
            now=clock.now(),
            principal=admin.principal(db),
            name="Maison de santé Voltaire",
            address="40 boulevard Voltaire",
            postcode="75011",
            city="Paris",
            latitude=48.8601,
            longitude=2.3724,
        )
        return Other(practice_id=practice.practice_id, admin=admin)


def invite(http: TestClient, other: Other, body: dict[str, Any]) -> Any:
    return http.post(
        f"/api/v1/practices/{other.practice_id}/invitations",
        json=body,
        headers=bearer(other.admin.token),
    )


def invite_elsewhere(http: TestClient, inbox: Inbox, other: Other, email: str) -> str:
    created = invite(
        http, other, {"email": email, "role": "practitioner", "practises_elsewhere": True}
    )
    assert created.status_code == 201, created.text
    return _token_in(inbox, email)


def test_a_practitioner_joins_a_second_practice_and_stays_one_person(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox, world: World, other: Other
) -> None:
    created = invite(
        http, other, {"email": DOCTOR_EMAIL, "role": "practitioner", "practises_elsewhere": True}
    )
    assert created.status_code == 201, created.text
    assert created.json()["practises_elsewhere"] is True
    assert created.json()["practitioner_id"] is None
    token = _token_in(inbox, DOCTOR_EMAIL)
    assert "Vous exercez déjà dans un autre cabinet" in inbox.last_text(DOCTOR_EMAIL)
    pending = http.get(
        f"/api/v1/practices/{other.practice_id}/invitations", headers=bearer(other.admin.token)
    ).json()
    assert [(i["role"], i["practises_elsewhere"]) for i in pending] == [("practitioner", True)]

    accepted = http.post(ACCEPT, json={"token": token}, headers=bearer(world.doctor.token))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {
        "practice_id": str(other.practice_id),
        "role": "practitioner",
        "practitioner_id": str(world.practitioner_id),
    }
    with db.read() as session:
        agenda = session.get_one(PracticePractitioner, (other.practice_id, world.practitioner_id))
        practice = session.get_one(Practice, other.practice_id)
        member = session.get_one(PracticeMember, (other.practice_id, world.doctor.account_id))
        events = session.execute(
            select(AuditEvent.action, AuditEvent.object_id, AuditEvent.actor_account_id).where(
                AuditEvent.practice_id == other.practice_id
            )
        ).all()
    assert (agenda.specialty, agenda.city_key) == ("general_practice", practice.city_key)
    # The default rules: the world's own agenda has other ones.
    assert (agenda.slot_step_minutes, agenda.min_notice_minutes, agenda.max_horizon_days) == (
        15,
        120,
        90,
    )
    assert (member.role, member.practitioner_id) == ("practitioner", world.practitioner_id)
    assert ("scheduling:agenda:change", world.practitioner_id, world.doctor.account_id) in events
    assert any(action == "accounts:invitation:accept" for action, _, _ in events)

    # The new practice sets the hours: never over the practitioner's hours at the first one.
    agenda_url = f"/api/v1/practices/{other.practice_id}/practitioners/{world.practitioner_id}"
    staff = bearer(other.admin.token)
    visit = http.post(
        f"{agenda_url}/visit-types",
        json={"label": "Consultation", "duration_minutes": 20},
        headers=staff,
    )
    assert visit.status_code == 201, visit.text
    visit_id = visit.json()["visit_type_id"]
    monday = {"weekday": 0, "start_minute": 600, "end_minute": 660, "visit_type_ids": [visit_id]}
    assert_problem(http.post(f"{agenda_url}/openings", json=monday, headers=staff), 422)
    saturday = {**monday, "weekday": 5, "start_minute": 540, "end_minute": 720}
    assert http.post(f"{agenda_url}/openings", json=saturday, headers=staff).status_code == 201

    def offered() -> set[datetime]:
        found = http.get(
            f"{agenda_url}/slots",
            params={"visit_type_id": visit_id, "from": SATURDAY.isoformat(), "days": 1},
        )
        assert found.status_code == 200, found.text
        return {datetime.fromisoformat(slot["starts_at"]) for slot in found.json()}

    before = offered()
    assert SAT_1000 in before
    # The first practice's desk books the practitioner there at that time (outside its hours):
    # the second practice no longer offers it, nor lets anybody book it.
    register_at_practice(db, clock, world, world.holder_patient_id)
    desk = http.post(
        f"/api/v1/practices/{world.practice_id}/appointments",
        json={
            "practitioner_id": str(world.practitioner_id),
            "patient_id": str(world.holder_patient_id),
            "starts_at": SAT_1000.isoformat(),
            "duration_minutes": 20,
            "outside_hours_confirmed": True,
        },
        headers=bearer(world.secretary.token),
    )
    assert desk.status_code == 201, desk.text
    step = timedelta(minutes=15)
    assert before - offered() == {SAT_1000 - step, SAT_1000, SAT_1000 + step}
    taken = http.post(
        "/api/v1/appointments",
        json={
            "practice_id": str(other.practice_id),
            "practitioner_id": str(world.practitioner_id),
            "patient_id": str(world.stranger_patient_id),
            "starts_at": SAT_1000.isoformat(),
            "duration_minutes": 20,
        },
        headers=bearer(world.stranger.token),
    )
    assert assert_problem(taken, 409)["type"].endswith("/slot-taken")


def test_only_a_practitioner_elsewhere_accepts_and_only_once_per_practice(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox, world: World, other: Other
) -> None:
    # An account that is no practitioner anywhere: a secretary of the world, a new account.
    newcomer = register(db, clock, "new.person@example.test")
    for email, token_of in (
        ("secretary.sam@example.test", world.secretary.token),
        ("new.person@example.test", newcomer.token),
    ):
        token = invite_elsewhere(http, inbox, other, email)
        refused = http.post(ACCEPT, json={"token": token}, headers=bearer(token_of))
        assert "account you practise with" in assert_problem(refused, 422, "token")["detail"]
    # A practice they joined already (add_second_practice accepts such an invitation) ...
    bis = Other(add_second_practice(db, clock, world, overlapping=False).practice_id, world.admin)
    token = invite_elsewhere(http, inbox, bis, DOCTOR_EMAIL)
    refused = http.post(ACCEPT, json={"token": token}, headers=bearer(world.doctor.token))
    assert "already a member" in assert_problem(refused, 409)["detail"]
    # ... and that they left since: their agenda stays there.
    left = http.delete(
        f"/api/v1/practices/{bis.practice_id}/members/{world.doctor.account_id}",
        headers=bearer(world.admin.token),
    )
    assert left.status_code == 204, left.text
    refused = http.post(ACCEPT, json={"token": token}, headers=bearer(world.doctor.token))
    assert "already has an agenda" in assert_problem(refused, 409)["detail"]
    # Nothing of any refusal was written: no membership, no new agenda, every invitation unused.
    with db.read() as session:
        joined = session.scalars(
            select(PracticeMember.practice_id).where(
                PracticeMember.account_id.in_(
                    [world.secretary.account_id, newcomer.account_id, world.doctor.account_id]
                )
            )
        ).all()
        agendas = session.scalars(
            select(PracticePractitioner.practice_id).where(
                PracticePractitioner.practice_id == other.practice_id
            )
        ).all()
        used = session.scalars(
            select(PracticeInvitation.practice_id).where(
                PracticeInvitation.accepted_at.is_not(None)
            )
        ).all()
    # The secretary and the doctor at the world's practice, as before.
    assert joined == [world.practice_id] * 2
    assert agendas == []
    assert used == [bis.practice_id]  # add_second_practice's own


def test_the_account_must_act_as_one_practitioner(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox, world: World, other: Other
) -> None:
    """An account that is two practitioners (two practices each made one for the same person):
    which one to bring is not guessed."""
    third = make_person(db, clock, "Admin Chloé")
    with db.write() as session:
        practice = do_create_practice(
            session,
            now=clock.now(),
            principal=third.principal(db),
            name="Cabinet Tiers",
            address="1 place d'Italie",
            postcode="75013",
            city="Paris",
            latitude=48.8313,
            longitude=2.3557,
        )
        third_id = practice.practice_id
    created = http.post(
        f"/api/v1/practices/{third_id}/practitioners",
        json={"first_name": "Claire", "last_name": "Martin", "specialty": "general_practice"},
        headers=bearer(third.token),
    )
    assert created.status_code == 201, created.text
    own_id = created.json()["practitioner_id"]
    joined = http.post(
        f"/api/v1/practices/{third_id}/invitations",
        json={"email": DOCTOR_EMAIL, "role": "practitioner", "practitioner_id": own_id},
        headers=bearer(third.token),
    )
    assert joined.status_code == 201, joined.text
    first = _token_in(inbox, DOCTOR_EMAIL)
    assert http.post(ACCEPT, json={"token": first}, headers=bearer(world.doctor.token)).is_success
    token = invite_elsewhere(http, inbox, other, DOCTOR_EMAIL)
    assert_problem(
        http.post(ACCEPT, json={"token": token}, headers=bearer(world.doctor.token)), 422, "token"
    )


def test_the_kind_of_invitation_is_checked(
    db: Database, http: TestClient, inbox: Inbox, world: World, other: Other
) -> None:
    body = {"email": DOCTOR_EMAIL, "role": "practitioner", "practises_elsewhere": True}
    for bad, field in (
        ({"practitioner_id": str(world.practitioner_id)}, "practitioner_id"),
        ({"role": "secretary"}, "practises_elsewhere"),
        ({"role": "admin"}, "practises_elsewhere"),
        ({"practises_elsewhere": "perhaps"}, "practises_elsewhere"),
    ):
        assert_problem(invite(http, other, {**body, **bad}), 422, field)
    assert inbox.messages == []
    # The database holds the same rule, whatever writes the row.
    row = {
        "practice_id": world.practice_id,
        "email": DOCTOR_EMAIL,
        "created_at": datetime(2026, 3, 2, tzinfo=UTC),
        "expires_at": datetime(2026, 3, 9, tzinfo=UTC),
    }
    for role, practitioner_id, elsewhere in (
        (Role.PRACTITIONER, world.practitioner_id, True),
        (Role.PRACTITIONER, None, False),
        (Role.SECRETARY, None, True),
        (Role.SECRETARY, world.practitioner_id, False),
    ):
        with pytest.raises(IntegrityError), db.write() as session:
            session.execute(
                insert(PracticeInvitation).values(
                    **row,
                    invitation_id=new_id(),
                    token_hash=bytes(32),
                    role=role.value,
                    practitioner_id=practitioner_id,
                    practises_elsewhere=elsewhere,
                )
            )
    for role, practitioner_id, elsewhere in (
        (Role.PRACTITIONER, world.practitioner_id, False),
        (Role.PRACTITIONER, None, True),
        (Role.SECRETARY, None, False),
    ):
        with db.write() as session:
            session.execute(
                insert(PracticeInvitation).values(
                    **row,
                    invitation_id=new_id(),
                    token_hash=new_id().bytes * 2,
                    role=role.value,
                    practitioner_id=practitioner_id,
                    practises_elsewhere=elsewhere,
                )
            )


def test_bringing_ones_agenda_needs_the_second_factor(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox, world: World, other: Other
) -> None:
    """Accepting blocks the practitioner's time at the practice they come from: a session that
    has not passed their second factor there cannot."""
    token = invite_elsewhere(http, inbox, other, DOCTOR_EMAIL)
    with db.write() as session:
        unverified = open_session(
            session,
            now=clock.now(),
            account_id=world.doctor.account_id,
            kind=SessionKind.BEARER,
            mfa_verified=False,
        )
    refused = http.post(ACCEPT, json={"token": token}, headers=bearer(unverified.token))
    assert "two-factor" in assert_problem(refused, 403)["detail"]
    with db.read() as session:
        assert session.get(PracticePractitioner, (other.practice_id, world.practitioner_id)) is None
        assert session.get(PracticeMember, (other.practice_id, world.doctor.account_id)) is None
    accepted = http.post(ACCEPT, json={"token": token}, headers=bearer(world.doctor.token))
    assert accepted.status_code == 200, accepted.text


@pytest.mark.postgres
def test_two_acceptances_at_once_make_one_membership_and_a_409(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox, world: World, other: Other
) -> None:
    """The same account accepts two invitations to one practice at the same moment: the second
    waits for the first (the account's row is locked) and then finds its membership."""
    first = invite_elsewhere(http, inbox, other, DOCTOR_EMAIL)
    second = invite_elsewhere(http, inbox, other, DOCTOR_EMAIL)
    principal = world.doctor.principal(db)
    outcome: list[BaseException | None] = []

    def accept_second() -> None:
        try:
            with db.write() as session:
                do_accept_invitation(session, now=clock.now(), principal=principal, token=second)
        except BaseException as error:  # handed to the test's thread, whatever it is
            outcome.append(error)
        else:
            outcome.append(None)

    waiting = threading.Thread(target=accept_second)
    with db.write() as session:
        do_accept_invitation(session, now=clock.now(), principal=principal, token=first)
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive(), "the second acceptance did not wait for the first"
    waiting.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], Conflict), outcome[0]
    with db.read() as session:
        assert session.get(PracticeMember, (other.practice_id, world.doctor.account_id))
