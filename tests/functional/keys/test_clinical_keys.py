"""The practitioners' key group (notes) through the API and the Python client: made, shared and
rotated by practitioners only, for practitioners only; removals and role changes rotate it."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from colloque.audit.models import AuditEvent
from colloque.client import ApiError, ColloqueClient, UnsignedClinicalGroup
from colloque.client.records import AwaitingPractitionersKey
from colloque.clock import SettableClock
from colloque.crypto import groups
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import Role as GroupRole
from colloque.crypto.statements import sign_group_epoch
from colloque.crypto.transparency import KeyBinding
from colloque.patients.registry import do_register_patient
from colloque.practicekeys import services
from colloque.practicekeys.groups import CLINICAL
from colloque.practicekeys.models import PracticeKeyWrap
from colloque.principal import Role
from colloque.scheduling.models import PracticeMember
from colloque.storage.engine import Database
from tests.functional.keys.conftest import add, add_practitioner, keyed, new_practice


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.fixture
def team(db: Database, clock: SettableClock, http: TestClient) -> dict[str, Any]:
    """A practice with a signed chain and a practice group: an admin, a secretary, two
    practitioners (all attested)."""
    people = {n: keyed(db, clock, n) for n in ("admin", "sec", "doc", "doc2")}
    practice = new_practice(db, clock, people["admin"])
    add(db, practice, people["sec"])
    add_practitioner(db, clock, practice, people["doc"], people["admin"])
    add_practitioner(db, clock, practice, people["doc2"], people["admin"])
    clients = {n: p.client(http) for n, p in people.items()}
    clients["admin"].practice_keys.create_group(practice)
    return {"practice": practice, "people": people, "clients": clients}


def _path(practice: UUID, suffix: str = "") -> str:
    return f"/api/v1/practices/{practice}/clinical-key-group{suffix}"


def _error(client: ColloqueClient, method: str, path: str, body: Any = None) -> ApiError:
    with pytest.raises(ApiError) as refused:
        client._request(method, path, json=body)
    return refused.value


def test_life_cycle_through_the_client(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, people, clients = team["practice"], team["people"], team["clients"]
    doc, doc2, sec, admin = (clients[n] for n in ("doc", "doc2", "sec", "admin"))
    missing = _error(doc, "GET", _path(practice))
    assert (missing.status, missing.problem["detail"]) == (
        404,
        "practitioners' key group not found",
    )
    epoch, members = doc.practice_keys.members(practice, clinical=True)
    assert epoch is None
    assert {m.account_id for m in members} == {people["doc"].account_id, people["doc2"].account_id}

    key = doc.practice_keys.create_clinical_group(practice)
    assert (key.group_id, key.epoch) == (clinical_group_id(practice), 1)
    assert doc2.practice_keys.open_group_key(practice, clinical=True) == key
    # Every member of the staff verifies what notes are sealed to; only practitioners hold it.
    assert sec.key_directory.clinical_key(practice) == key.encryption_binding()
    assert admin.key_directory.clinical_key(practice) == key.encryption_binding()
    for other in (sec, admin):
        assert _error(other, "GET", _path(practice)).status == 403
        assert _error(other, "GET", _path(practice, "/members")).status == 403
    # The practice group's own key is another one, and unchanged.
    assert doc.practice_keys.open_group_key(practice).group_id == practice
    with db.read() as session:
        assert services.current_epoch(session, practice_id=practice) == 1
        assert services.current_epoch(session, practice_id=practice, group=CLINICAL) == 1
        wrapped = set(
            session.scalars(
                select(PracticeKeyWrap.account_id).where(PracticeKeyWrap.clinical.is_(True))
            )
        )
        actions = set(session.scalars(select(AuditEvent.action)))
    assert wrapped == {people["doc"].account_id, people["doc2"].account_id}
    assert "keys:clinical_group:create" in actions
    assert (
        _error(doc, "POST", _path(practice), {"public_key": b64(bytes(32)), "wraps": []}).status
        == 409
    )

    # A new practitioner, once attested, gets the key from a colleague's client.
    newcomer = keyed(db, clock, "doc3")
    add_practitioner(db, clock, practice, newcomer, people["admin"])
    admin.practice_keys.attest_member(practice, newcomer.account_id, GroupRole.PRACTITIONER)
    assert doc.practice_keys.wrap_for_pending(practice, clinical=True) == 1
    assert newcomer.client(http).practice_keys.open_group_key(practice, clinical=True) == key

    # A practitioner leaves (a signed removal): the group is rotation-due, the next client rotates.
    admin.practice_keys.remove_member(practice, people["doc2"].account_id)
    with db.read() as session:
        assert services.rotation_due(session, practice_id=practice, group=CLINICAL)
    rotated = doc.healthy_clinical_key(practice)
    assert rotated.epoch == 2
    with db.read() as session:
        assert not services.rotation_due(session, practice_id=practice, group=CLINICAL)
        assert set(
            session.scalars(
                select(PracticeKeyWrap.account_id).where(
                    PracticeKeyWrap.clinical.is_(True), PracticeKeyWrap.epoch == 2
                )
            )
        ) == {people["doc"].account_id, newcomer.account_id}
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"keys:clinical_group:wrap", "keys:clinical_group:rotate"} <= actions
    # A secretary leaving does not make the practitioners' group rotation-due (the admin's
    # client rotates the practice group at once).
    admin.practice_keys.remove_member(practice, people["sec"].account_id)
    with db.read() as session:
        assert not services.rotation_due(session, practice_id=practice, group=CLINICAL)
        assert services.current_epoch(session, practice_id=practice) == 3


def test_a_member_attested_in_another_role_loses_the_practitioners_key(
    db: Database, team: Any
) -> None:
    practice, people, clients = team["practice"], team["people"], team["clients"]
    clients["doc"].practice_keys.create_clinical_group(practice)
    doc2 = people["doc2"].account_id
    with db.write() as session:  # the practice makes doc2 a secretary; an admin attests it
        session.execute(
            update(PracticeMember)
            .where(PracticeMember.practice_id == practice, PracticeMember.account_id == doc2)
            .values(role=Role.SECRETARY.value, practitioner_id=None)
        )
    clients["admin"].practice_keys.attest_member(practice, doc2, GroupRole.SECRETARY)
    with db.read() as session:
        assert services.rotation_due(session, practice_id=practice, group=CLINICAL)
        assert not services.rotation_due(session, practice_id=practice)
        held = session.scalars(
            select(PracticeKeyWrap.clinical).where(PracticeKeyWrap.account_id == doc2)
        ).all()
    assert held == [False]  # the practice group's wrap only
    assert clients["doc"].healthy_clinical_key(practice).epoch == 2


def _body(
    practice: UUID, signer: UserKeys, members: list[KeyBinding], sequence: int, *, epoch: int = 1
) -> dict[str, Any]:
    """A creation body for the practitioners' group, signed by ``signer``, wrapped for
    ``members`` (their encryption keys)."""
    rotation = groups.create_group(clinical_group_id(practice), members=members)
    key = rotation.group_key
    statement = sign_group_epoch(
        group_key=key.encryption_binding(),
        membership_sequence=sequence,
        members=[(m.subject_id, m.epoch) for m in members],
        signer=signer,
    )
    return {
        "public_key": b64(key.public_key),
        "wraps": [{"account_id": str(a), "wrap": b64(w)} for a, w in rotation.wraps.items()],
        "statement": b64(statement.to_leaf()),
    }


def test_the_server_checks_what_it_can(team: Any) -> None:
    practice, clients = team["practice"], team["clients"]
    doc, doc2, sec = clients["doc"], clients["doc2"], clients["sec"]
    chain = doc.key_directory.membership_chain(practice)
    assert chain is not None
    keys = {n: c.unlocked_keys for n, c in clients.items()}
    both = [keys["doc"].encryption_binding(), keys["doc2"].encryption_binding()]
    sequence = chain.sequence

    def refused(body: dict[str, Any], by: ColloqueClient = doc) -> tuple[int, str | None]:
        error = _error(by, "POST", _path(practice), body)
        return error.status, error.field

    # Wraps for one practitioner only, or for the secretary as well: 422 naming the wraps.
    assert refused(_body(practice, keys["doc"], both[:1], sequence)) == (422, "wraps")
    with_desk = [*both, keys["sec"].encryption_binding()]
    assert refused(_body(practice, keys["doc"], with_desk, sequence)) == (422, "wraps")
    # A wrap of the practice group's id: not this group's.
    practice_wide = groups.create_group(practice, members=both)
    body = _body(practice, keys["doc"], both, sequence)
    body["wraps"] = [{"account_id": str(a), "wrap": b64(w)} for a, w in practice_wide.wraps.items()]
    assert refused(body) == (422, "wraps")
    # No statement, or one signed by somebody else than the caller.
    assert refused({**_body(practice, keys["doc"], both, sequence), "statement": None}) == (
        422,
        "statement",
    )
    assert refused(_body(practice, keys["doc2"], both, sequence)) == (422, "statement")
    # An admin signs and posts it: the policy refuses before anything is read.
    assert refused(_body(practice, keys["admin"], both, sequence), clients["admin"])[0] == 403
    assert refused(_body(practice, keys["sec"], both, sequence), sec)[0] == 403
    # A chain that moved on: 409.
    assert refused(_body(practice, keys["doc"], both, sequence - 1)) == (409, "statement")
    # The good one, then the rotation and wrap checks.
    created = doc._request(
        "POST", _path(practice), json=_body(practice, keys["doc"], both, sequence)
    )
    assert created["epoch"] == 1
    wrong_epoch = _error(doc2, "POST", _path(practice, "/wraps"), {"epoch": 2, "wraps": []})
    assert (wrong_epoch.status, wrong_epoch.field) == (409, "epoch")
    rotation = _body(practice, keys["doc"], both, sequence)
    stale = _error(doc, "POST", _path(practice, "/rotations"), {**rotation, "epoch": 1})
    assert (stale.status, stale.field) == (409, "epoch")
    assert doc2._request("POST", _path(practice, "/wraps"), json={"epoch": 1, "wraps": []}) == {
        "added": 0
    }


def test_an_admin_signed_statement_is_refused_for_the_practitioners_group(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    """The caller is a practitioner, but the statement is the admin's: refused, since the
    practitioners' group's statement is signed by the practitioner who makes the key."""
    admin, doc = keyed(db, clock, "solo-admin"), keyed(db, clock, "solo-doc")
    practice = new_practice(db, clock, admin)
    add_practitioner(db, clock, practice, doc, admin)
    admin_client, doc_client = admin.client(http), doc.client(http)
    admin_client.practice_keys.create_group(practice)
    chain = doc_client.key_directory.membership_chain(practice)
    assert chain is not None
    members = [doc_client.unlocked_keys.encryption_binding()]
    # The doctor posts a statement the admin signed: not signed by the caller.
    body = _body(practice, admin_client.unlocked_keys, members, chain.sequence)
    error = _error(doc_client, "POST", _path(practice), body)
    assert (error.status, error.field) == (422, "statement")


def test_the_key_directory_serves_the_group_to_the_staff_only(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, clients = team["practice"], team["clients"]
    path = f"/api/v1/key-directory/practices/{practice}/clinical"
    assert _error(clients["sec"], "GET", path).status == 404  # not made yet
    key = clients["doc"].practice_keys.create_clinical_group(practice)
    answer = clients["sec"]._request("GET", path)
    assert (answer["subject_kind"], answer["subject_id"]) == (
        "practice_clinical",
        str(clinical_group_id(practice)),
    )
    assert [m["epoch"] for m in answer["epoch_members"]] == [1]
    stranger = keyed(db, clock, "stranger").client(http)
    assert _error(stranger, "GET", path).status == 404
    # The practice's own route never serves the practitioners' group under its id.
    other = f"/api/v1/key-directory/practices/{key.group_id}"
    assert _error(stranger, "GET", other).status == 404


def test_clients_wait_for_the_key_and_refuse_what_is_not_theirs(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, people, clients = team["practice"], team["people"], team["clients"]
    doc, desk = clients["doc"], clients["sec"]
    with db.write() as session:
        patient = do_register_patient(
            session,
            now=clock.now(),
            principal=people["sec"].principal(db),
            practice_id=practice,
            first_name="Jean",
            last_name="Sanscompte",
            birth_date=date(1950, 1, 1),
        ).patient_id
    # No group yet: nothing to open, and no note to read.
    assert doc.read_notes(practice_id=practice, patient_id=patient, as_holder=False) == []
    # The secretary's client neither makes the group nor reads notes: the server says 403.
    with pytest.raises(ApiError) as refused:
        desk.write_note(practice_id=practice, patient_id=patient, text="x")
    assert refused.value.status == 403
    with pytest.raises(ApiError) as refused:
        desk.read_notes(practice_id=practice, patient_id=patient, as_holder=False)
    assert refused.value.status == 403
    doc.write_note(practice_id=practice, patient_id=patient, text="Suivi")
    # A practitioner attested since, whose device no colleague's has shared the key with yet.
    newcomer = keyed(db, clock, "doc3")
    add_practitioner(db, clock, practice, newcomer, people["admin"])
    clients["admin"].practice_keys.attest_member(
        practice, newcomer.account_id, GroupRole.PRACTITIONER
    )
    clients["admin"].practice_keys.wrap_for_pending(practice)  # the practice group's key only
    waiting = newcomer.client(http)
    with pytest.raises(AwaitingPractitionersKey):
        waiting.read_notes(practice_id=practice, patient_id=patient, as_holder=False)
    doc.write_note(practice_id=practice, patient_id=patient, text="Suite")  # shares it first
    read = waiting.read_notes(practice_id=practice, patient_id=patient, as_holder=False)
    assert sorted(n.text for n in read) == ["Suite", "Suivi"]


def test_a_practice_without_signed_memberships_gets_no_practitioners_group(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    admin, doc = keyed(db, clock, "admin"), keyed(db, clock, "doc")
    practice = new_practice(db, clock, admin)
    add_practitioner(db, clock, practice, doc, admin)
    with pytest.raises(UnsignedClinicalGroup):
        doc.client(http).practice_keys.create_clinical_group(practice)


def test_the_staff_see_which_practitioners_hold_the_key(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    """One flag per practitioner for every member of the staff (the members page): no keys, no
    wraps; secretaries and admins are not listed, as they never hold it."""
    practice, people, clients = team["practice"], team["people"], team["clients"]
    path = _path(practice, "/holders")

    def holders(client: ColloqueClient) -> tuple[int | None, dict[UUID, bool]]:
        answer = client._request("GET", path)
        assert all(set(h) == {"account_id", "wrapped"} for h in answer["holders"])
        return answer["epoch"], {UUID(h["account_id"]): h["wrapped"] for h in answer["holders"]}

    doc, doc2 = people["doc"].account_id, people["doc2"].account_id
    for name in ("admin", "sec", "doc"):
        assert holders(clients[name]) == (None, {doc: False, doc2: False})
    clients["doc"].practice_keys.create_clinical_group(practice)
    newcomer = keyed(db, clock, "doc3")
    add_practitioner(db, clock, practice, newcomer, people["admin"])
    clients["admin"].practice_keys.attest_member(
        practice, newcomer.account_id, GroupRole.PRACTITIONER
    )
    waiting = {doc: True, doc2: True, newcomer.account_id: False}
    for name in ("admin", "sec", "doc2"):
        assert holders(clients[name]) == (1, waiting)
    clients["doc"].practice_keys.wrap_for_pending(practice, clinical=True)
    assert holders(clients["sec"]) == (1, {**waiting, newcomer.account_id: True})
    stranger = keyed(db, clock, "stranger").client(http)
    assert _error(stranger, "GET", path).status == 404
