"""Practice key groups through the API and the Python client: create, join, remove, rotate."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from colloque.accounts.services import do_add_member, do_create_account
from colloque.client import ApiError, ColloqueClient, NotPinned
from colloque.client.encoding import unb64
from colloque.clock import SettableClock
from colloque.crypto import groups, items
from colloque.crypto.errors import CryptoError, ProofInvalid, StaleEpoch
from colloque.crypto.statements import Role as GroupRole
from colloque.crypto.statements import sign_group_epoch, sign_membership
from colloque.crypto.transparency import fingerprint
from colloque.practicekeys import services
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.functional.keys.conftest import LOG, Keyed, add, keyed, new_practice, operator_mints


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.fixture
def team(db: Database, clock: SettableClock) -> dict[str, Any]:
    admin, secretary, second_admin = (keyed(db, clock, n) for n in ("admin", "sec", "admin2"))
    practice = new_practice(db, clock, admin)
    add(db, practice, secretary)
    add(db, practice, second_admin, Role.ADMIN)
    return {"practice": practice, "admin": admin, "sec": secretary, "admin2": second_admin}


def test_group_life_cycle(db: Database, clock: SettableClock, http: TestClient, team: Any) -> None:
    practice, admin, secretary = team["practice"], team["admin"], team["sec"]
    admin_client, sec_client = admin.client(http), secretary.client(http)
    with db.write() as session:  # an account without keys (made in-process): nothing to wrap for
        keyless = do_create_account(session, now=clock.now(), display_name="Sans Clés")
        do_add_member(
            session, practice_id=practice, account_id=keyless.account_id, role=Role.SECRETARY
        )
    with db.read() as session:
        assert services.current_epoch(session, practice_id=practice) is None
        assert services.rotation_due(session, practice_id=practice) is False
    created = admin_client.practice_keys.create_group(practice)
    assert created.epoch == 1
    assert sec_client.practice_keys.open_group_key(practice) == created
    assert admin_client.practice_keys.practice_fingerprint(practice) == fingerprint(
        [created.encryption_binding()]
    )
    assert sec_client.practice_keys.user_fingerprint(admin.account_id) == (
        admin_client.key_directory.user_keys(admin.account_id).fingerprint
    )

    # A newcomer (joined by invitation, say) waits for a member's client to wrap the key.
    newcomer = keyed(db, clock, "newcomer")
    add(db, practice, newcomer)
    epoch, members = sec_client.practice_keys.members(practice)
    assert epoch == 1
    assert {m.account_id for m in members if not m.wrapped} == {
        newcomer.account_id,
        keyless.account_id,
    }
    assert [m.key for m in members if m.account_id == keyless.account_id] == [None]
    # Only an admin signs, so only an admin wraps, and only for whom the chain attests.
    assert admin_client.practice_keys.wrap_for_pending(practice) == 0
    admin_client.practice_keys.attest_member(practice, newcomer.account_id, GroupRole.SECRETARY)
    with pytest.raises(ApiError) as refused:
        sec_client.practice_keys.wrap_for_pending(practice)
    assert refused.value.status == 403
    assert admin_client.practice_keys.wrap_for_pending(practice) == 1
    assert admin_client.practice_keys.wrap_for_pending(practice) == 0
    new_client = newcomer.client(http)
    assert new_client.practice_keys.open_group_key(practice) == created

    # The admin removes the newcomer and rotates: they hold nothing of later items.
    rotated = admin_client.practice_keys.remove_member(practice, newcomer.account_id)
    assert rotated.epoch == 2
    with db.read() as session:
        assert services.current_epoch(session, practice_id=practice) == 2
        assert services.rotation_due(session, practice_id=practice) is False
    assert sec_client.practice_keys.open_group_key(practice) == rotated
    assert set(sec_client.practice_keys.older_group_keys(practice)) == {1}
    with pytest.raises(ApiError) as gone:
        new_client.practice_keys.open_group_key(practice)
    assert gone.value.status == 404
    patient = keyed(db, clock, "patient").client(http).unlocked_keys
    note = items.seal_note(
        item_id=uuid.uuid4(),
        patient_id=patient.user_id,
        text="après le départ",
        author=admin_client.unlocked_keys,
        recipients=[patient.encryption_binding(), rotated.encryption_binding()],
    )
    group_wrap = note.wraps[1]
    key = items.unwrap_item_key(group_wrap, item_id=note.item_id, holder=rotated)
    assert key == note.item_key
    for holder in (created, new_client.unlocked_keys):  # all the removed member ever held
        with pytest.raises(CryptoError):
            items.unwrap_item_key(group_wrap, item_id=note.item_id, holder=holder)


def test_removal_marks_rotation_due_and_guards_admins(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary, second = (
        team["practice"],
        team["admin"],
        team["sec"],
        team["admin2"],
    )

    def remove(who: Keyed, whom: uuid.UUID) -> Any:
        return http.delete(f"/api/v1/practices/{practice}/members/{whom}", headers=who.headers)

    early = keyed(db, clock, "early")
    add(db, practice, early)
    assert remove(admin, early.account_id).status_code == 204  # before any group: nothing due
    assert remove(admin, uuid.uuid4()).status_code == 404
    solo = keyed(db, clock, "solo")
    alone = new_practice(db, clock, solo)
    sole = http.delete(f"/api/v1/practices/{alone}/members/{solo.account_id}", headers=solo.headers)
    assert sole.status_code == 409  # the last admin
    with db.read() as session:
        assert services.rotation_due(session, practice_id=practice) is False
    admin.client(http).practice_keys.create_group(practice)
    nothing = {"epoch": 1, "wraps": []}
    added = http.post(
        f"/api/v1/practices/{practice}/key-group/wraps", json=nothing, headers=admin.headers
    )
    assert added.json() == {"added": 0}

    assert remove(secretary, admin.account_id).status_code == 403
    # A keyed practice removes by signed statement only: the operator cannot skip one.
    refused = remove(admin, secretary.account_id)
    assert refused.status_code == 409, refused.text
    assert "signed" in refused.json()["detail"]
    admin_client = admin.client(http)
    assert _sign_removal(http, admin_client, practice, secretary.account_id).status_code == 201
    with db.read() as session:
        assert services.rotation_due(session, practice_id=practice) is True
    assert (
        http.get(f"/api/v1/practices/{practice}/key-group", headers=secretary.headers).status_code
        == 404
    )
    state = http.get(f"/api/v1/practices/{practice}/key-group", headers=admin.headers).json()
    assert state["rotation_due"] is True
    assert _sign_removal(http, admin_client, practice, second.account_id).status_code == 201
    last = _sign_removal(http, admin_client, practice, admin.account_id)
    assert last.status_code == 409


def _sign_removal(
    http: TestClient, admin: ColloqueClient, practice: uuid.UUID, whom: uuid.UUID
) -> Any:
    chain = admin.key_directory.membership_chain(practice)
    assert chain is not None
    removal = sign_membership(
        group_id=practice,
        sequence=chain.sequence + 1,
        previous=chain.head,
        member_id=whom,
        role=GroupRole.REMOVED,
        signer=admin.unlocked_keys,
    )
    return http.post(
        f"/api/v1/practices/{practice}/key-group/memberships",
        json={"statements": [b64(removal.to_leaf())]},
        headers={"Authorization": f"Bearer {admin.token}"},
    )


def _statement(
    key: groups.GroupKey, sequence: int, members: list[Keyed], http: TestClient, signer: Keyed
) -> str:
    signed = sign_group_epoch(
        group_key=key.encryption_binding(),
        membership_sequence=sequence,
        members=[(m.account_id, 1) for m in members],
        signer=signer.client(http).unlocked_keys,
    )
    return b64(signed.to_leaf())


def _create_body(practice: uuid.UUID, members: list[Keyed], http: TestClient) -> tuple[Any, Any]:
    bindings = [m.client(http).unlocked_keys.encryption_binding() for m in members]
    rotation = groups.create_group(practice, members=bindings)
    return rotation, {
        "public_key": b64(rotation.group_key.public_key),
        "wraps": [{"account_id": str(a), "wrap": b64(w)} for a, w in rotation.wraps.items()],
    }


def test_wraps_are_checked(db: Database, clock: SettableClock, http: TestClient, team: Any) -> None:
    practice, admin, secretary, second = (
        team["practice"],
        team["admin"],
        team["sec"],
        team["admin2"],
    )
    path = f"/api/v1/practices/{practice}/key-group"
    rotation, body = _create_body(practice, [admin, secretary, second], http)
    unsigned = http.post(path, json=body, headers=admin.headers)  # no chain yet
    assert (unsigned.status_code, unsigned.json()["field"]) == (422, "statement")
    admin_keys = admin.client(http).practice_keys
    admin_keys.attest_member(practice, secretary.account_id, GroupRole.SECRETARY)
    assert admin_keys.attest_member(practice, second.account_id, GroupRole.ADMIN) == 3
    no_statement = http.post(path, json=body, headers=admin.headers)
    assert (no_statement.status_code, no_statement.json()["field"]) == (422, "statement")
    body["statement"] = _statement(rotation.group_key, 3, [admin, secretary, second], http, admin)
    wraps = body["wraps"]
    other_group, _ = _create_body(uuid.uuid4(), [admin], http)
    foreign = b64(other_group.wraps[admin.account_id])
    for bad in (
        wraps[:2],  # somebody left out
        [*wraps, wraps[0]],  # twice
        [dict(wraps[0], wrap=b64(b"\x01\x05" + bytes(10))), *wraps[1:]],  # not a wrap
        [dict(wraps[0], wrap=foreign), *wraps[1:]],  # for another group
        [dict(wraps[0], account_id=wraps[1]["account_id"]), *wraps[1:]],  # named for another
    ):
        answer = http.post(path, json={**body, "wraps": bad}, headers=admin.headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == "wraps"
    assert http.get(path, headers=admin.headers).status_code == 404  # nothing half-written
    assert http.post(path, json=body, headers=secretary.headers).status_code == 403
    assert http.post(path, json=body, headers=admin.headers).status_code == 201
    assert http.post(path, json=body, headers=admin.headers).status_code == 409

    newcomer = keyed(db, clock, "newcomer")
    add(db, practice, newcomer)
    admin_keys.attest_member(practice, newcomer.account_id, GroupRole.SECRETARY)
    wrap = groups.add_member(
        rotation.group_key, member=newcomer.client(http).unlocked_keys.encryption_binding()
    )
    add_wrap = {"account_id": str(newcomer.account_id), "wrap": b64(wrap)}
    stale = http.post(
        path + "/wraps", json={"epoch": 2, "wraps": [add_wrap]}, headers=admin.headers
    )
    assert stale.status_code == 409
    again = http.post(
        path + "/wraps", json={"epoch": 1, "wraps": [wraps[0]]}, headers=admin.headers
    )
    assert again.status_code == 422  # already holds it
    added = http.post(
        path + "/wraps", json={"epoch": 1, "wraps": [add_wrap]}, headers=admin.headers
    )
    assert added.json() == {"added": 1}

    members = [admin, secretary, second, newcomer]
    keys = [m.client(http).unlocked_keys.encryption_binding() for m in members]
    nxt = groups.rotate_group_key(rotation.group_key, members=keys)
    rotate: dict[str, Any] = {
        "epoch": 2,
        "public_key": b64(nxt.group_key.public_key),
        "wraps": [{"account_id": str(a), "wrap": b64(w)} for a, w in nxt.wraps.items()],
        "statement": _statement(nxt.group_key, 4, members, http, admin),
    }
    wrong = http.post(path + "/rotations", json={**rotate, "epoch": 3}, headers=admin.headers)
    assert wrong.status_code == 409
    short = {**rotate, "wraps": rotate["wraps"][1:]}
    assert http.post(path + "/rotations", json=short, headers=admin.headers).status_code == 422
    assert http.post(path + "/rotations", json=rotate, headers=admin.headers).status_code == 201
    missing = f"/api/v1/practices/{uuid.uuid4()}/key-group"
    for suffix, body_ in (("/wraps", {"epoch": 1, "wraps": []}), ("/rotations", rotate)):
        assert http.post(missing + suffix, json=body_, headers=admin.headers).status_code == 404


class Tampering:
    """An HTTP client that lets a test rewrite the server's answers, as a malicious server would."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.rewrite: dict[str, Any] = {}

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.http.request(method, url, **kwargs)
        if method == "GET" and url in self.rewrite:
            return _Canned(self.rewrite[url])
        return response

    def close(self) -> None:
        pass


class _Canned:
    def __init__(self, body: Any) -> None:
        self.body = body
        self.status_code = 200
        self.content = b"x"

    def json(self) -> Any:
        return self.body


def _tampered_client(http: TestClient, person: Keyed) -> tuple[ColloqueClient, Tampering]:
    tampering = Tampering(http)
    client = ColloqueClient(http=tampering, insecure_allow_weak_cost=True)
    client.log_in(person.email, "vR7#kq2!Lm9@zP-long enough")
    client._token = person.token
    with pytest.raises(NotPinned):
        client.practice_keys  # noqa: B018 - the property refuses before pinning
    client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
    return client, tampering


def test_a_replayed_old_group_key_is_refused(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary = team["practice"], team["admin"], team["sec"]
    path = f"/api/v1/practices/{practice}/key-group"
    admin_client = admin.client(http)
    admin_client.practice_keys.create_group(practice)
    client, tampering = _tampered_client(http, secretary)
    client.practice_keys.open_group_key(practice)
    old_answer = http.get(path, headers=secretary.headers).json()
    admin_client.practice_keys.rotate(practice)
    assert client.practice_keys.open_group_key(practice).epoch == 2
    # The server serves the epoch-1 key again, with a valid proof against today's log.
    current = http.get(path, headers=secretary.headers).json()
    old_leaf_index = old_answer["binding"]["leaf_index"]
    today = http.get(f"/api/v1/key-directory/practices/{practice}", headers=secretary.headers)
    assert today.status_code == 200
    proof = _proof(db, old_leaf_index, current["binding"]["tree_size"])
    replay = dict(
        current,
        binding=dict(
            old_answer["binding"], tree_size=current["binding"]["tree_size"], inclusion_proof=proof
        ),
        wraps=old_answer["wraps"],
    )
    tampering.rewrite[path] = replay
    with pytest.raises(StaleEpoch):
        client.practice_keys.open_group_key(practice)


def _proof(db: Database, index: int, size: int) -> list[str]:
    from sqlalchemy import select

    from colloque.crypto.transparency import inclusion_proof
    from colloque.keydirectory.models import KeyDirectoryLeaf

    with db.read() as session:
        hashes = session.scalars(
            select(KeyDirectoryLeaf.leaf_hash)
            .where(KeyDirectoryLeaf.leaf_index < size)
            .order_by(KeyDirectoryLeaf.leaf_index)
        ).all()
    return [b64(h) for h in inclusion_proof(hashes, index)]


def test_a_substituted_member_key_is_caught(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary = team["practice"], team["admin"], team["sec"]
    client, tampering = _tampered_client(http, admin)
    path = f"/api/v1/practices/{practice}/key-group/members"
    honest = http.get(path, headers=admin.headers).json()
    mallory = keyed(db, clock, "mallory").client(http).unlocked_keys
    for member in honest["members"]:
        if member["account_id"] == str(secretary.account_id):
            leaf = bytearray(base64.urlsafe_b64decode(member["encryption_key"]["leaf"] + "=="))
            leaf[24:56] = mallory.encryption_public
            member["encryption_key"] = dict(member["encryption_key"], leaf=b64(bytes(leaf)))
    tampering.rewrite[path] = honest
    with pytest.raises(ProofInvalid):
        client.practice_keys.create_group(practice)
    assert (
        http.get(f"/api/v1/practices/{practice}/key-group", headers=admin.headers).status_code
        == 404
    )


def test_a_member_key_of_a_later_epoch_must_end_its_chain(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary = team["practice"], team["admin"], team["sec"]
    client, tampering = _tampered_client(http, admin)
    client.practice_keys.create_group(practice)
    path = f"/api/v1/practices/{practice}/key-group/members"
    second = operator_mints(db, clock, secretary.account_id, epoch=2, endorse=True)
    stale = http.get(path, headers=admin.headers).json()  # names the epoch-2 key
    third = operator_mints(db, clock, secretary.account_id, epoch=3, endorse=True)
    client.confirm_keys(
        secretary.account_id,
        fingerprint([third.encryption_binding(), third.signing_binding()]),
    )
    honest = http.get(path, headers=admin.headers).json()
    size = int(honest["signed_checkpoint"].split("\n")[1])
    for member in stale["members"]:  # every key proven again against the newer checkpoint
        key = member["encryption_key"]
        proof = _proof(db, key["leaf_index"], size)
        member["encryption_key"] = dict(key, tree_size=size, inclusion_proof=proof)
        if member["account_id"] == str(secretary.account_id):
            assert unb64(key["leaf"]) == second.encryption_binding().to_leaf()
    tampering.rewrite[path] = dict(stale, signed_checkpoint=honest["signed_checkpoint"])
    with pytest.raises(ProofInvalid, match="end of its chain"):
        client.practice_keys.rotate(practice)
    tampering.rewrite.clear()
    assert client.practice_keys.rotate(practice).epoch == 2
