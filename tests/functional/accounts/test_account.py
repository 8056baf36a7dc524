"""The signed-in account: changing its address, deleting it, an operator disabling it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.models import (
    AccessToken,
    Account,
    Credentials,
    KeyBundleRow,
    TotpFactor,
)
from colloque.accounts.services import do_add_member, principal_for_account
from colloque.audit.models import AuditEvent
from colloque.booking.models import Appointment
from colloque.booking.waitlist.models import WaitlistEntry
from colloque.booking.waitlist.services import do_join_waitlist
from colloque.clock import SettableClock
from colloque.delivery.channels import Channels
from colloque.erasure.services import do_disable_account
from colloque.errors import Forbidden, NotFound
from colloque.notifications.models import AccountMail, OutboxMessage
from colloque.patients.models import Patient
from colloque.patients.registry import remember_patient
from colloque.patients.services import Relationship
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.factories import Person, book, build_world, make_patient
from tests.functional.accounts.conftest import (
    bearer,
    login_body,
    register,
    totp_now,
)
from tests.functional.notifications.conftest import delivery_for, smtp_to
from tests.functional.test_api import assert_problem
from tests.smtp import Inbox

LOGIN = "/api/v1/auth/login"


def _token(http: TestClient, email: str) -> str:
    response = http.post(LOGIN, json=login_body(http, email))
    assert response.status_code == 200, response.text
    token: str = response.json()["session"]["token"]
    return token


def test_change_of_address(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    person = register(db, clock, "ana@example.test")
    assert_problem(
        http.post(
            "/api/v1/me/email", json={"email": "x@example.test"}, headers=bearer(person.token)
        ),
        403,
    )
    headers = bearer(_token(http, person.email))
    assert_problem(
        http.post("/api/v1/me/email", json={"email": "nope"}, headers=headers), 422, "email"
    )
    started = http.post("/api/v1/me/email", json={"email": "Ana.New@example.test"}, headers=headers)
    assert started.status_code == 202, started.text
    challenge_id = started.json()["challenge_id"]
    code = inbox.code("ana.new@example.test")
    wrong = "000000" if code != "000000" else "111111"
    confirm = "/api/v1/me/email/confirm"
    assert_problem(
        http.post(confirm, json={"challenge_id": challenge_id, "code": wrong}, headers=headers),
        422,
        "code",
    )
    done = http.post(confirm, json={"challenge_id": challenge_id, "code": code}, headers=headers)
    assert done.status_code == 204, done.text
    assert "remplacée" in inbox.last_text("ana@example.test")
    assert http.post(LOGIN, json=login_body(http, "ana.new@example.test")).status_code == 200
    assert_problem(http.post(LOGIN, json=login_body(http, "ana@example.test")), 401)
    with db.read() as session:
        assert session.get_one(Account, person.account_id).email == "ana.new@example.test"
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "accounts:email:change" in actions


def test_an_address_taken_meanwhile_is_refused_at_confirmation(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    register(db, clock, "ben@example.test")
    person = register(db, clock, "ana@example.test")
    headers = bearer(_token(http, person.email))
    started = http.post("/api/v1/me/email", json={"email": "ben@example.test"}, headers=headers)
    assert started.status_code == 202  # the same answer as for a free address
    body = {"challenge_id": started.json()["challenge_id"], "code": inbox.code("ben@example.test")}
    taken = http.post("/api/v1/me/email/confirm", json=body, headers=headers)
    assert_problem(taken, 422, "email")
    # Someone else's challenge is no challenge.
    other = register(db, clock, "cleo@example.test")
    assert_problem(
        http.post("/api/v1/me/email/confirm", json=body, headers=bearer(_token(http, other.email))),
        422,
        "code",
    )


MONDAY_10 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_deletion_keeps_appointments_and_removes_personal_data(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    world = build_world(db, clock)
    person = register(db, clock, "ana@example.test")
    holder = Person(person.account_id, person.token)
    own = make_patient(db, clock, holder, "Ana", "Martin")
    child = make_patient(db, clock, holder, "Léo", "Martin", Relationship.CHILD, date(2019, 1, 1))
    partner = make_patient(db, clock, holder, "Sam", "Martin", Relationship.PARTNER)
    known = make_patient(db, clock, holder, "Eva", "Martin", Relationship.PARENT, date(1950, 1, 1))
    with db.write() as session:  # a practice knows Eva without any appointment yet
        remember_patient(session, practice_id=world.practice_id, patient_id=known, now=clock.now())
    appointment = book(db, clock, world, MONDAY_10, person=holder, patient_id=own)
    with db.write() as session:
        entry = do_join_waitlist(
            session,
            now=clock.now(),
            principal=holder.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=20,
            patient_id=child,
            first_day=date(2026, 3, 10),
            last_day=date(2026, 3, 20),
        )
        entry_key = (entry.practice_id, entry.entry_id)
    # The confirmation is sent: the account's inbox lists it, until the account goes.
    assert delivery_for(db, clock, Channels(email=smtp_to(inbox))).run_until_idle().sent >= 1
    with db.read() as session:
        received = select(OutboxMessage).where(
            OutboxMessage.recipient_account_id == person.account_id
        )
        assert len(session.scalars(received).all()) == 1
    token = _token(http, person.email)
    assert_problem(http.delete("/api/v1/me", headers=bearer(person.token)), 403)  # no re-auth
    gone = http.delete("/api/v1/me", headers=bearer(token))
    assert gone.status_code == 204, gone.text
    assert "supprimé" in inbox.last_text("ana@example.test")
    with db.read() as session:
        assert session.get(Account, person.account_id) is None
        assert session.get(Credentials, person.account_id) is None
        assert session.get(KeyBundleRow, person.account_id) is None
        assert (
            session.scalars(
                select(AccessToken).where(AccessToken.account_id == person.account_id)
            ).all()
            == []
        )
        kept = session.get_one(Patient, own)
        assert kept.holder_account_id is None
        assert kept.first_name == "Ana"  # the practice's record of a patient it saw
        held = session.get_one(Appointment, (world.practice_id, appointment.appointment_id))
        assert held.patient_id == own
        assert session.get(Patient, child) is None
        assert session.get(Patient, partner) is None
        assert session.get_one(Patient, known).holder_account_id is None
        assert session.get(WaitlistEntry, entry_key) is None
        assert session.scalars(received).all() == []
        assert (
            session.scalars(
                select(AccountMail).where(AccountMail.account_id == person.account_id)
            ).all()
            == []
        )
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "accounts:account:delete" in actions
    assert_problem(http.get("/api/v1/me", headers=bearer(token)), 401)
    assert_problem(http.post(LOGIN, json=login_body(http, person.email)), 401)


def test_deletion_with_mfa_and_a_waiting_entry(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    world = build_world(db, clock)
    person = register(db, clock, "ana@example.test")
    holder = Person(person.account_id, person.token)
    own = make_patient(db, clock, holder, "Ana", "Martin")
    with db.write() as session:
        do_join_waitlist(
            session,
            now=clock.now(),
            principal=holder.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=20,
            patient_id=own,
            first_day=date(2026, 3, 3),
            last_day=date(2026, 3, 20),
        )
    token = _token(http, person.email)
    secret = http.post("/api/v1/me/mfa/totp", headers=bearer(token)).json()["secret"]
    http.post(
        "/api/v1/me/mfa/totp/confirm",
        json={"code": totp_now(secret, clock)},
        headers=bearer(token),
    )
    assert http.delete("/api/v1/me", headers=bearer(token)).status_code == 204
    with db.read() as session:
        assert session.get(TotpFactor, person.account_id) is None
        assert session.get(Patient, own) is None
        assert session.scalars(select(WaitlistEntry)).all() == []


def test_practice_members_cannot_delete_here(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    world = build_world(db, clock)
    person = register(db, clock, "ana@example.test")
    with db.write() as session:
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=person.account_id,
            role=Role.SECRETARY,
        )
    assert_problem(http.delete("/api/v1/me", headers=bearer(_token(http, person.email))), 409)


def test_an_operator_disables_an_account(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    operator = register(db, clock, "ops@example.test")
    token = _token(http, person.email)
    with db.write() as session:
        session.get_one(Account, operator.account_id).is_operator = True
    with db.read() as session:
        ops = principal_for_account(session, session.get_one(Account, operator.account_id))
        user = principal_for_account(session, session.get_one(Account, person.account_id))
    with pytest.raises(Forbidden), db.write() as session:
        do_disable_account(session, now=clock.now(), principal=user, account_id=operator.account_id)
    with pytest.raises(NotFound), db.write() as session:
        do_disable_account(session, now=clock.now(), principal=ops, account_id=uuid4())
    with db.write() as session:
        do_disable_account(session, now=clock.now(), principal=ops, account_id=person.account_id)
    for credential in (token, person.token):
        assert_problem(http.get("/api/v1/me", headers=bearer(credential)), 401)
    assert_problem(http.post(LOGIN, json=login_body(http, person.email)), 401)
    with db.read() as session:
        assert (
            session.scalars(
                select(AccessToken).where(AccessToken.account_id == person.account_id)
            ).all()
            == []
        )
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "accounts:account:disable" in actions
