"""Signed membership statements (docs/crypto.md 5.12): the route's checks, and the client's flows
once a practice signs its memberships (only attested members get the group key; removal is a
signed statement)."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from colloque.accounts.models import Account
from colloque.accounts.services import do_add_member, do_create_account, principal_for_account
from colloque.client import ColloqueClient
from colloque.client.directory import UnsignedPractice
from colloque.client.practice_keys import RemovalIgnored
from colloque.clock import SettableClock
from colloque.crypto import groups
from colloque.crypto.errors import ProofInvalid
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import (
    GENESIS_PREVIOUS,
    GroupEpochStatement,
    MembershipChain,
    MembershipStatement,
    sign_group_epoch,
    sign_membership,
)
from colloque.crypto.statements import Role as GroupRole
from colloque.crypto.transparency import inclusion_proof
from colloque.errors import InvalidInput
from colloque.keydirectory.models import KeyDirectoryLeaf
from colloque.keydirectory.services import publish_bindings
from colloque.practicekeys import memberships, services
from colloque.principal import Role
from colloque.scheduling.models import PracticeMember
from colloque.storage.engine import Database
from tests.functional.keys.conftest import LOG, Keyed, add, keyed, new_practice
from tests.functional.records.helpers import make_group


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.fixture
def team(db: Database, clock: SettableClock) -> dict[str, Any]:
    admin, secretary, second_admin = (keyed(db, clock, n) for n in ("admin", "sec", "admin2"))
    practice = new_practice(db, clock, admin)
    add(db, practice, secretary)
    add(db, practice, second_admin, Role.ADMIN)
    return {"practice": practice, "admin": admin, "sec": secretary, "admin2": second_admin}


def _statement(
    practice: uuid.UUID,
    signer: UserKeys,
    chain: MembershipChain | None,
    member: uuid.UUID,
    role: GroupRole,
) -> MembershipStatement:
    return sign_membership(
        group_id=practice,
        sequence=chain.sequence + 1 if chain else 1,
        previous=chain.head if chain else GENESIS_PREVIOUS,
        member_id=member,
        role=role,
        signer=signer,
    )


def _post(http: TestClient, practice: uuid.UUID, who: Keyed, *leaves: bytes) -> Any:
    return http.post(
        f"/api/v1/practices/{practice}/key-group/memberships",
        json={"statements": [b64(leaf) for leaf in leaves]},
        headers=who.headers,
    )


def _problem(response: Any, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json().get("field") == field


def test_signed_group_life_cycle(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary, second = (
        team["practice"],
        team["admin"],
        team["sec"],
        team["admin2"],
    )
    admin_client, sec_client = admin.client(http), secretary.client(http)
    keys = admin_client.practice_keys
    assert admin_client.key_directory.membership_chain(practice) is None
    assert keys.attest_member(practice, admin.account_id, GroupRole.ADMIN) == 1  # the genesis
    assert keys.attest_member(practice, secretary.account_id, GroupRole.SECRETARY) == 2
    created = keys.create_group(practice)
    assert sec_client.practice_keys.open_group_key(practice) == created
    # The second admin is a member the chain does not attest yet: no key for them.
    _epoch, members = keys.members(practice)
    assert {m.account_id for m in members if not m.wrapped} == {second.account_id}
    assert keys.wrap_for_pending(practice) == 0
    keys.attest_member(practice, second.account_id, GroupRole.ADMIN)
    assert keys.wrap_for_pending(practice) == 1
    # A removal is now a signed statement; the unsigned one is refused.
    unsigned = http.delete(
        f"/api/v1/practices/{practice}/members/{secretary.account_id}", headers=admin.headers
    )
    _problem(unsigned, 409)
    rotated = keys.remove_member(practice, secretary.account_id)
    assert rotated.epoch == 2
    chain = admin_client.key_directory.membership_chain(practice)
    assert chain is not None
    assert chain.members() == {
        admin.account_id: GroupRole.ADMIN,
        second.account_id: GroupRole.ADMIN,
    }
    with db.read() as session:
        assert services.rotation_due(session, practice_id=practice) is False
    assert admin_client.state.get("membership_sequences", str(practice)) == {
        "sequence": 4,
        "head": b64(chain.head),
    }
    assert second.client(http).practice_keys.open_group_key(practice) == rotated
    # What the log holds for the group is readable by its members, proven.
    log = http.get(f"/api/v1/practices/{practice}/key-group/memberships", headers=second.headers)
    assert len(log.json()["chain"]) == 8  # 4 memberships, 2 group bindings, their 2 statements


def test_the_route_checks_what_it_can(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary, second = (
        team["practice"],
        team["admin"],
        team["sec"],
        team["admin2"],
    )
    mine = admin.client(http).unlocked_keys
    theirs = second.client(http).unlocked_keys
    genesis = _statement(practice, mine, None, admin.account_id, GroupRole.ADMIN)
    cases: list[tuple[bytes, int]] = [
        (b"\x01\x0b", 422),
        (_statement(uuid.uuid4(), mine, None, admin.account_id, GroupRole.ADMIN).to_leaf(), 422),
        (dataclasses.replace(genesis, sequence=2).to_leaf(), 409),
        (dataclasses.replace(genesis, previous=bytes(range(32))).to_leaf(), 409),
        (_statement(practice, theirs, None, second.account_id, GroupRole.ADMIN).to_leaf(), 422),
        (dataclasses.replace(genesis, signature=bytes(64)).to_leaf(), 422),
        (_statement(practice, mine, None, secretary.account_id, GroupRole.ADMIN).to_leaf(), 422),
        (_statement(practice, mine, None, admin.account_id, GroupRole.SECRETARY).to_leaf(), 422),
    ]
    for leaf, status in cases:
        _problem(_post(http, practice, admin, leaf), status, "statements[0]")
    _problem(_post(http, practice, secretary, genesis.to_leaf()), 403)
    assert _post(http, practice, admin, genesis.to_leaf()).status_code == 201
    chain = admin.client(http).key_directory.membership_chain(practice)
    later: list[tuple[MembershipStatement, int]] = [
        # The second admin is an admin of the practice, not of the chain yet.
        (_statement(practice, theirs, chain, secretary.account_id, GroupRole.SECRETARY), 422),
        (_statement(practice, mine, chain, secretary.account_id, GroupRole.ADMIN), 422),
        (_statement(practice, mine, chain, secretary.account_id, GroupRole.REMOVED), 422),
        (_statement(practice, mine, chain, admin.account_id, GroupRole.REMOVED), 409),
        (_statement(practice, mine, chain, admin.account_id, GroupRole.SECRETARY), 422),
    ]
    for statement, status in later:
        who = second if statement.signer_id == second.account_id else admin
        _problem(_post(http, practice, who, statement.to_leaf()), status, "statements[0]")
    # Several at once, checked in order: the second names the first as previous.
    first = _statement(practice, mine, chain, secretary.account_id, GroupRole.SECRETARY)
    second_link = sign_membership(
        group_id=practice,
        sequence=3,
        previous=first.leaf_hash(),
        member_id=second.account_id,
        role=GroupRole.ADMIN,
        signer=mine,
    )
    _problem(_post(http, practice, admin, first.to_leaf(), first.to_leaf()), 409, "statements[1]")
    assert _post(http, practice, admin, first.to_leaf(), second_link.to_leaf()).status_code == 201
    # A signed removal of an account whose membership is already gone still enters the chain.
    with db.write() as session:
        session.execute(
            delete(PracticeMember).where(
                PracticeMember.practice_id == practice,
                PracticeMember.account_id == secretary.account_id,
            )
        )
    chain = admin.client(http).key_directory.membership_chain(practice)
    gone = _statement(practice, mine, chain, secretary.account_id, GroupRole.REMOVED)
    answer = _post(http, practice, admin, gone.to_leaf())
    assert answer.json() == {"removed": [str(secretary.account_id)]}


def test_an_admin_without_keys_cannot_sign(db: Database, clock: SettableClock, team: Any) -> None:
    with db.write() as session:
        keyless = do_create_account(session, now=clock.now(), display_name="Sans Clés")
        do_add_member(
            session, practice_id=team["practice"], account_id=keyless.account_id, role=Role.ADMIN
        )
    with db.write() as session:
        principal = principal_for_account(session, session.get_one(Account, keyless.account_id))
        with pytest.raises(InvalidInput) as refused:
            memberships.do_append_memberships(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=team["practice"],
                leaves=[b"x"],
                log=LOG,
            )
    assert refused.value.field == "statements"


def test_a_signed_removal_the_server_ignores_stops_the_rotation(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary = team["practice"], team["admin"], team["sec"]
    honest = admin.client(http)
    honest.practice_keys.attest_member(practice, secretary.account_id, GroupRole.SECRETARY)
    honest.practice_keys.create_group(practice)
    client = ColloqueClient(http=_Ignoring(http), insecure_allow_weak_cost=True)
    client.log_in(admin.email, "vR7#kq2!Lm9@zP-long enough")
    client._token = admin.token
    client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
    with pytest.raises(RemovalIgnored, match="not in the chain"):
        client.practice_keys.remove_member(practice, secretary.account_id)
    with db.read() as session:
        assert services.current_epoch(session, practice_id=practice) == 1


class _Ignoring:
    """A server that answers 201 to a signed removal and appends nothing."""

    def __init__(self, http: TestClient) -> None:
        self.http = http

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if method == "POST" and url.endswith("/key-group/memberships"):
            return _Created()
        return self.http.request(method, url, **kwargs)

    def close(self) -> None:
        pass


class _Created:
    status_code = 201
    content = b"{}"

    def json(self) -> Any:
        return {"removed": []}


def test_a_chain_that_goes_back_is_refused(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin = team["practice"], team["admin"]
    client = admin.client(http)
    client.practice_keys.attest_member(practice, admin.account_id, GroupRole.ADMIN)
    assert client.key_directory.membership_chain(practice) is not None
    # A state from before heads were kept: the sequence alone.
    client.state.put("membership_sequences", str(practice), 2)  # as if it had seen one more
    with pytest.raises(ProofInvalid, match="went back"):
        client.key_directory.membership_chain(practice)


def test_a_chain_of_the_same_or_greater_length_must_pass_the_head_seen(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary = team["practice"], team["admin"], team["sec"]
    client = admin.client(http)
    client.practice_keys.attest_member(practice, secretary.account_id, GroupRole.SECRETARY)
    seen = client.key_directory.membership_chain(practice)
    assert seen is not None
    assert seen.sequence == 2
    # The state remembers another head at sequence 2 (the server showed this device another
    # history before): the chain served now, of the same length, does not pass through it.
    forked = {"sequence": 2, "head": b64(bytes(32))}
    client.state.put("membership_sequences", str(practice), forked)
    with pytest.raises(ProofInvalid, match="does not extend"):
        client.key_directory.membership_chain(practice)
    client.state.put("membership_sequences", str(practice), {"sequence": 2, "head": b64(seen.head)})
    client.practice_keys.attest_member(practice, team["admin2"].account_id, GroupRole.ADMIN)
    # Longer, but not through the head remembered: refused too.
    client.state.put("membership_sequences", str(practice), forked)
    with pytest.raises(ProofInvalid, match="does not extend"):
        client.key_directory.membership_chain(practice)
    # Through the head really seen: the longer chain extends it.
    client.state.put("membership_sequences", str(practice), {"sequence": 2, "head": b64(seen.head)})
    longer = client.key_directory.membership_chain(practice)
    assert longer is not None
    assert longer.sequence == 3


def test_group_epochs_of_a_signed_practice_need_their_statement(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary = team["practice"], team["admin"], team["sec"]
    admin_client, sec_client = admin.client(http), secretary.client(http)
    mine, hers = admin_client.unlocked_keys, sec_client.unlocked_keys
    # Before any chain a statement is refused: nothing could say who may sign it.
    unsigned_practice = new_practice(db, clock, admin)
    lone = groups.create_group(unsigned_practice, members=[mine.encryption_binding()])
    lone_statement = groups_statement(lone.group_key, 1, [(admin.account_id, 1)], mine)
    body = {
        "public_key": b64(lone.group_key.public_key),
        "wraps": [{"account_id": str(a), "wrap": b64(w)} for a, w in lone.wraps.items()],
        "statement": b64(lone_statement.to_leaf()),
    }
    path = f"/api/v1/practices/{unsigned_practice}/key-group"
    _problem(http.post(path, json=body, headers=admin.headers), 422, "statement")

    admin_client.practice_keys.attest_member(practice, secretary.account_id, GroupRole.SECRETARY)
    rotation = groups.create_group(
        practice, members=[mine.encryption_binding(), hers.encryption_binding()]
    )
    key = rotation.group_key
    wraps = [{"account_id": str(a), "wrap": b64(w)} for a, w in rotation.wraps.items()]
    both = [(admin.account_id, 1), (secretary.account_id, 1)]
    good = groups_statement(key, 2, both, mine)
    other_key = groups.create_group(practice, members=[]).group_key
    second = team["admin2"]  # an admin of the practice the chain does not attest (yet)
    theirs = second.client(http).unlocked_keys
    cases: list[tuple[Keyed, str | None, int]] = [
        (second, b64(groups_statement(key, 2, both, theirs).to_leaf()), 422),
        (admin, None, 422),
        (admin, "AAAA", 422),
        (admin, b64(groups_statement(other_key, 2, both, mine).to_leaf()), 422),
        (admin, b64(groups_statement(key, 2, both, hers).to_leaf()), 422),
        (admin, b64(dataclasses.replace(good, signature=bytes(64)).to_leaf()), 422),
        (admin, b64(groups_statement(key, 1, both, mine).to_leaf()), 409),
        (admin, b64(groups_statement(key, 2, both[:1], mine).to_leaf()), 422),
    ]
    path = f"/api/v1/practices/{practice}/key-group"
    for who, statement, status in cases:
        sent = {"public_key": b64(key.public_key), "wraps": wraps, "statement": statement}
        _problem(http.post(path, json=sent, headers=who.headers), status, "statement")
    # Only admins manage the group key: they alone can sign its statements.
    hers_signed = b64(groups_statement(key, 2, both, hers).to_leaf())
    sent = {"public_key": b64(key.public_key), "wraps": wraps, "statement": hers_signed}
    _problem(http.post(path, json=sent, headers=secretary.headers), 403)
    sent = {"public_key": b64(key.public_key), "wraps": wraps, "statement": b64(good.to_leaf())}
    assert http.post(path, json=sent, headers=admin.headers).status_code == 201
    assert sec_client.key_directory.practice_key(practice) == key.encryption_binding()
    answer = http.get(f"/api/v1/key-directory/practices/{practice}", headers=secretary.headers)
    listed = answer.json()["epoch_members"]
    assert listed == [
        {
            "epoch": 1,
            "members": [
                {"account_id": str(a), "encryption_epoch": 1}
                for a, _ in sorted(both, key=lambda m: m[0].bytes)
            ],
        }
    ]


def groups_statement(
    key: groups.GroupKey, sequence: int, members: list[tuple[uuid.UUID, int]], signer: UserKeys
) -> GroupEpochStatement:
    return sign_group_epoch(
        group_key=key.encryption_binding(),
        membership_sequence=sequence,
        members=members,
        signer=signer,
    )


class _Rewriting:
    """A server that answers one GET with a canned body."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.rewrite: dict[str, Any] = {}

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if method == "GET" and url in self.rewrite:
            return _Canned(self.rewrite[url])
        return self.http.request(method, url, **kwargs)

    def close(self) -> None:
        pass


@dataclasses.dataclass
class _Canned:
    body: Any
    status_code: int = 200
    content: bytes = b"x"

    def json(self) -> Any:
        return self.body


def test_a_signed_practice_opens_only_the_attested_key(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary = team["practice"], team["admin"], team["sec"]
    admin_client = admin.client(http)
    admin_client.practice_keys.attest_member(practice, secretary.account_id, GroupRole.SECRETARY)
    admin_client.practice_keys.create_group(practice)
    path = f"/api/v1/practices/{practice}/key-group"
    old = http.get(path, headers=secretary.headers).json()
    admin_client.practice_keys.rotate(practice)
    transport = _Rewriting(http)
    client = ColloqueClient(http=transport, insecure_allow_weak_cost=True)
    client.log_in(secretary.email, "vR7#kq2!Lm9@zP-long enough")
    client._token = secretary.token
    client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
    current = http.get(path, headers=secretary.headers).json()
    size = current["binding"]["tree_size"]
    with db.read() as session:
        hashes = session.scalars(
            select(KeyDirectoryLeaf.leaf_hash)
            .where(KeyDirectoryLeaf.leaf_index < size)
            .order_by(KeyDirectoryLeaf.leaf_index)
        ).all()
    proof = [b64(h) for h in inclusion_proof(hashes, old["binding"]["leaf_index"])]
    # Epoch 1's binding, proven against today's log, served as current: not what is attested.
    transport.rewrite[path] = dict(
        current, binding=dict(old["binding"], tree_size=size, inclusion_proof=proof)
    )
    with pytest.raises(ProofInvalid, match="attest"):
        client.practice_keys.open_group_key(practice)


def test_a_practice_keyed_before_signed_memberships_is_refused_until_an_admin_rekeys(
    db: Database, clock: SettableClock, http: TestClient, team: Any
) -> None:
    practice, admin, secretary = team["practice"], team["admin"], team["sec"]
    admin_client, sec_client = admin.client(http), secretary.client(http)
    # Epoch 1 as the server stored it before the rule: a proven binding, wraps, no statements.
    with db.write() as session:
        session.execute(
            delete(PracticeMember).where(PracticeMember.account_id == team["admin2"].account_id)
        )
    old = make_group(db, clock, practice, [admin_client.unlocked_keys, sec_client.unlocked_keys])
    with db.write() as session:
        publish_bindings(session, bindings=[old.encryption_binding()], now=clock.now(), log=LOG)
    with pytest.raises(UnsignedPractice, match="an admin must re-key it"):
        sec_client.practice_keys.open_group_key(practice)
    unsigned_removal = http.delete(
        f"/api/v1/practices/{practice}/members/{secretary.account_id}", headers=admin.headers
    )
    _problem(unsigned_removal, 409)
    # The admin re-keys: the chain signed from the members listed, then epoch 2 with its statement.
    # Nothing is wrapped or removed on an unsigned chain by the client either.
    with pytest.raises(UnsignedPractice):
        admin_client.practice_keys.wrap_for_pending(practice)
    with pytest.raises(UnsignedPractice):
        admin_client.practice_keys.remove_member(practice, secretary.account_id)
    rekeyed = admin_client.practice_keys.rotate(practice)
    assert rekeyed.epoch == 2
    chain = sec_client.key_directory.membership_chain(practice)
    assert chain is not None
    assert set(chain.members()) == {admin.account_id, secretary.account_id}
    assert sec_client.practice_keys.open_group_key(practice) == rekeyed
    assert sec_client.practice_keys.older_group_keys(practice) == {1: old}
    # From now on an epoch without its statement is refused, never followed by a rotation.
    forged = dataclasses.replace(groups.create_group(practice, members=[]).group_key, epoch=3)
    with db.write() as session:
        publish_bindings(session, bindings=[forged.encryption_binding()], now=clock.now(), log=LOG)
    with pytest.raises(UnsignedPractice):
        admin_client.practice_keys.rotate(practice)
