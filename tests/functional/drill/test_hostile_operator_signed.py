"""The hostile operator drill, signed key changes (issue 10): the operator holds the database and
the log key, and writes leaves and signed checkpoints straight into the log, bypassing every
server check. Runs on both databases (the ``db`` fixture).

Covered: a key epoch minted for a practitioner (attack 3) is refused by the admin's rotation, with
or without a self-made reset endorsement; a genuine reset is used only once a person confirmed
its fingerprint; the owner's monitoring reports what the operator appended under their name; a
removed member the operator quietly puts back (attack 6) gets no new key: in a practice without
signed memberships because the removing client checks the member list it rotates for, in one that
signs them because every client wraps only for members the verified chain attests; a member the
operator adds (attack 7) gets no key in a practice that signs its memberships, and a statement the
operator forges is refused; a group epoch key of the operator's (attack 2) is refused in a
practice that signs its memberships, with no statement or with one no admin signed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.services import do_add_member
from colloque.api.app import create_app
from colloque.client import ColloqueClient, KeysChanged
from colloque.client.encoding import unb64
from colloque.client.practice_keys import RemovalIgnored
from colloque.clock import SettableClock
from colloque.crypto import groups
from colloque.crypto.errors import ProofInvalid, StaleEpoch
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import EndorsementKind, sign_group_epoch, sign_membership
from colloque.crypto.statements import Role as GroupRole
from colloque.crypto.transparency import fingerprint
from colloque.keydirectory.services import publish_bindings
from colloque.practicekeys.memberships import stored_chain
from colloque.practicekeys.models import PracticeKeyWrap
from colloque.principal import Role
from colloque.scheduling.services import do_add_practitioner
from colloque.scheduling.specialties import Specialty
from colloque.storage.engine import Database
from tests.functional.keys.conftest import (
    LOG,
    PASSWORD,
    SETTINGS,
    Keyed,
    add,
    keyed,
    new_practice,
    operator_mints,
)


@pytest.fixture
def http(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, database=db, clock=clock)) as client:
        yield client


def _team(db: Database, clock: SettableClock, http: TestClient) -> tuple[UUID, Keyed, Keyed]:
    admin, ben = keyed(db, clock, "admin"), keyed(db, clock, "ben")
    practice = new_practice(db, clock, admin)
    with db.write() as session:
        doctor = do_add_practitioner(
            session,
            now=clock.now(),
            principal=admin.principal(db),
            practice_id=practice,
            first_name="Ben",
            last_name="Martin",
            specialty=Specialty.GENERAL_PRACTICE,
        )
        do_add_member(
            session,
            practice_id=practice,
            account_id=ben.account_id,
            role=Role.PRACTITIONER,
            practitioner_id=doctor.practitioner_id,
        )
    admin.client(http).practice_keys.create_group(practice)
    return practice, admin, ben


def _wrapped_epochs(db: Database, practice: UUID, account_id: UUID) -> list[int]:
    with db.read() as session:
        return sorted(
            session.scalars(
                select(PracticeKeyWrap.epoch).where(
                    PracticeKeyWrap.practice_id == practice,
                    PracticeKeyWrap.account_id == account_id,
                )
            ).all()
        )


def test_attack_3_an_unendorsed_practitioner_key_gets_no_group_key(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    practice, admin, ben = _team(db, clock, http)
    admin_client = admin.client(http)
    operator_mints(db, clock, ben.account_id, endorse=False)
    with pytest.raises(ProofInvalid, match="endorsement"):
        admin_client.practice_keys.rotate(practice)
    with pytest.raises(ProofInvalid):
        admin_client.key_directory.user_keys(ben.account_id)
    assert _wrapped_epochs(db, practice, ben.account_id) == [1]


def test_attack_3_with_a_self_signed_reset_needs_a_person_to_confirm(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    practice, admin, ben = _team(db, clock, http)
    real_ben = ben.client(http).unlocked_keys
    admin_client = admin.client(http)
    minted = operator_mints(db, clock, ben.account_id, endorse=True)
    with pytest.raises(KeysChanged) as changed:
        admin_client.practice_keys.rotate(practice)
    shown = fingerprint([minted.encryption_binding(), minted.signing_binding()])
    assert (changed.value.user_id, changed.value.fingerprint) == (ben.account_id, shown)
    # Ben, in person, reads out the fingerprint of the keys his device holds: not these.
    bens = fingerprint([real_ben.encryption_binding(), real_ben.signing_binding()])
    assert bens != shown
    admin_client.confirm_keys(ben.account_id, bens)
    with pytest.raises(KeysChanged):
        admin_client.practice_keys.rotate(practice)
    assert _wrapped_epochs(db, practice, ben.account_id) == [1]


def test_a_genuine_reset_is_used_once_confirmed(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    practice, admin, ben = _team(db, clock, http)
    admin_client = admin.client(http)
    # Ben lost his password and recovery code: the reset keys are his own (published as the
    # reset flow does, bindings and reset endorsement in one append).
    new_keys = operator_mints(db, clock, ben.account_id, endorse=True)
    with pytest.raises(KeysChanged) as changed:
        admin_client.key_directory.user_keys(ben.account_id)
    assert changed.value.fingerprint == fingerprint(
        [new_keys.encryption_binding(), new_keys.signing_binding()]
    )
    admin_client.confirm_keys(ben.account_id, changed.value.fingerprint.replace(" ", ""))
    verified = admin_client.key_directory.user_keys(ben.account_id)
    assert [link.kind for link in verified.chain] == [None, EndorsementKind.RESET]
    rotated = admin_client.practice_keys.rotate(practice)
    assert _wrapped_epochs(db, practice, ben.account_id) == [1, 2]
    answer = http.get(f"/api/v1/practices/{practice}/key-group", headers=ben.headers).json()
    wrap = next(unb64(w["wrap"]) for w in answer["wraps"] if w["epoch"] == 2)
    opened = groups.open_group_key(
        wrap, expected=rotated.encryption_binding(), member=new_keys, last_seen_epoch=0
    )
    assert opened == rotated
    # A colleague's client, that confirmed nothing, still asks.
    colleague = keyed(db, clock, "colleague")
    add(db, practice, colleague)
    with pytest.raises(KeysChanged):
        colleague.client(http).key_directory.user_keys(ben.account_id)


def test_monitoring_reports_what_the_operator_appended(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ben = keyed(db, clock, "ben")
    client = ben.client(http)
    assert client.monitor() == []
    assert client.alerts == []
    operator_mints(db, clock, ben.account_id, endorse=False, swap_bundle=False)
    found = client.monitor()
    assert [(a.subject_id, a.what) for a in found] == [(ben.account_id, "chain_refused")]
    client.monitor()
    assert client.alerts == found  # reported once
    # A fresh device, directory pinned before login: the check runs at login.
    device = ColloqueClient(http=http, insecure_allow_weak_cost=True)
    device.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
    device.log_in(ben.email, PASSWORD)
    assert [a.what for a in device.alerts] == ["chain_refused"]


def test_monitoring_reports_a_self_signed_epoch(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ben = keyed(db, clock, "ben")
    client = ben.client(http)
    minted = operator_mints(db, clock, ben.account_id, endorse=True, swap_bundle=False)
    (alert,) = client.monitor()
    assert (alert.what, alert.epoch) == ("unknown_epoch", 2)
    assert alert.detail == fingerprint([minted.encryption_binding(), minted.signing_binding()])


def test_monitoring_compares_with_the_keys_this_device_knows(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ben = keyed(db, clock, "ben")
    client = ben.client(http)
    keys = client.unlocked_keys
    # The device remembers another epoch-1 fingerprint than the log shows (a forked view).
    client.state.put("own_keys", str(ben.account_id), {"1": "00000 00000 00000 00000 00000 00000"})
    (forked,) = client.monitor()
    assert (forked.what, forked.epoch) == ("not_my_keys", 1)
    # The device holds epoch-2 keys the log does not show.
    client._keys = dataclasses.replace(keys, epoch=2)
    client.state.put("own_keys", str(ben.account_id), {})
    (hidden,) = client.monitor()
    assert (hidden.what, hidden.epoch) == ("missing_epoch", 2)


class _Reinserting:
    """The HTTP transport of a server whose operator puts a removed member straight back."""

    def __init__(
        self, http: TestClient, db: Database, practice: UUID, member: UUID, role: Role
    ) -> None:
        self.http, self.db, self.practice, self.role = http, db, practice, role
        self.member = member

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.http.request(method, url, **kwargs)
        if method == "POST" and url.endswith("/key-group/memberships"):  # the signed removal
            with self.db.write() as session:
                do_add_member(
                    session, practice_id=self.practice, account_id=self.member, role=self.role
                )
        return response

    def close(self) -> None:
        pass


def test_attack_6_a_quietly_reinserted_member_gets_no_new_key(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    admin, leaver = keyed(db, clock, "admin"), keyed(db, clock, "leaver")
    practice = new_practice(db, clock, admin)
    add(db, practice, leaver)
    admin.client(http).practice_keys.create_group(practice)
    client = ColloqueClient(
        http=_Reinserting(http, db, practice, leaver.account_id, Role.SECRETARY),
        insecure_allow_weak_cost=True,
    )
    client.log_in(admin.email, PASSWORD)
    client._token = admin.token
    client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
    with pytest.raises(RemovalIgnored):
        client.practice_keys.remove_member(practice, leaver.account_id)
    assert _wrapped_epochs(db, practice, leaver.account_id) == []  # her old wrap went too
    state = http.get(f"/api/v1/practices/{practice}/key-group", headers=admin.headers).json()
    assert state["epoch"] == 1


def _signed_practice(
    db: Database, clock: SettableClock, http: TestClient
) -> tuple[UUID, Keyed, Keyed, ColloqueClient]:
    """A practice that signs its memberships: its admin and an attested secretary hold epoch 1."""
    admin, secretary = keyed(db, clock, "admin"), keyed(db, clock, "sec")
    practice = new_practice(db, clock, admin)
    add(db, practice, secretary)
    client = admin.client(http)
    client.practice_keys.attest_member(practice, secretary.account_id, GroupRole.SECRETARY)
    client.practice_keys.create_group(practice)
    return practice, admin, secretary, client


def _operator_appends(
    db: Database, clock: SettableClock, practice: UUID, signer: UserKeys, member: UUID
) -> None:
    """A membership statement of the operator's, signed with a key it holds, put in the log."""
    with db.read() as session:
        chain = stored_chain(session, practice_id=practice)
    forged = sign_membership(
        group_id=practice,
        sequence=len(chain) + 1,
        previous=chain[-1].leaf_hash(),
        member_id=member,
        role=GroupRole.ADMIN,
        signer=signer,
    )
    with db.write() as session:
        publish_bindings(session, bindings=[forged], now=clock.now(), log=LOG)


def test_attack_7_a_member_of_the_operators_gets_no_key(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    practice, _admin, secretary, client = _signed_practice(db, clock, http)
    mallory = keyed(db, clock, "mallory")
    add(db, practice, mallory)  # the operator writes the membership row itself
    assert secretary.client(http).practice_keys.wrap_for_pending(practice) == 0
    assert client.practice_keys.rotate(practice).epoch == 2
    assert _wrapped_epochs(db, practice, mallory.account_id) == []
    # Mallory's own statement making her an admin, properly in the log: no admin signed it.
    mallory_keys = mallory.client(http).unlocked_keys
    _operator_appends(db, clock, practice, mallory_keys, mallory.account_id)
    with pytest.raises(ProofInvalid, match="not an admin"):
        client.practice_keys.wrap_for_pending(practice)
    assert [(a.subject_id, a.what) for a in client.monitor()] == [(practice, "group_refused")]
    with pytest.raises(ProofInvalid):
        client.practice_keys.rotate(practice)
    assert _wrapped_epochs(db, practice, mallory.account_id) == []


def test_a_statement_naming_a_signing_epoch_nobody_has_is_refused(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    practice, admin, _secretary, client = _signed_practice(db, clock, http)
    posing = dataclasses.replace(client.unlocked_keys, epoch=5)
    _operator_appends(db, clock, practice, posing, admin.account_id)
    with pytest.raises(ProofInvalid, match="signer's epoch"):
        client.key_directory.membership_chain(practice)


def test_attack_6_signed_a_removed_member_put_back_gets_no_key(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    practice, admin, secretary, client = _signed_practice(db, clock, http)
    client.practice_keys.remove_member(practice, secretary.account_id)
    add(db, practice, secretary)  # the operator puts her back
    other = keyed(db, clock, "other")
    add(db, practice, other)
    client.practice_keys.attest_member(practice, other.account_id, GroupRole.SECRETARY)
    assert client.practice_keys.wrap_for_pending(practice) == 1  # the newcomer only
    assert client.practice_keys.rotate(practice).epoch == 3
    assert _wrapped_epochs(db, practice, secretary.account_id) == []
    assert _wrapped_epochs(db, practice, admin.account_id) == [1, 2, 3]


def test_attack_2_a_group_key_of_the_operators_is_refused(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    practice, _admin, secretary, client = _signed_practice(db, clock, http)
    sec_client = secretary.client(http)
    honest = sec_client.key_directory.practice_key(practice)
    # The operator's own epoch-2 key, properly in the log, with no statement.
    forged = groups.create_group(practice, members=[]).group_key
    bad = dataclasses.replace(forged, epoch=2)
    with db.write() as session:
        publish_bindings(session, bindings=[bad.encryption_binding()], now=clock.now(), log=LOG)
    with pytest.raises(ProofInvalid, match="not signed by its admins"):
        sec_client.key_directory.practice_key(practice)
    with pytest.raises(ProofInvalid):
        client.practice_keys.rotate(practice)
    assert [(a.subject_id, a.what) for a in client.monitor()] == [(practice, "group_refused")]
    # With a statement the operator signed with a member's key it holds: not an admin's.
    mallory = keyed(db, clock, "mallory")
    with db.read() as session:
        sequence = len(stored_chain(session, practice_id=practice))
    statement = sign_group_epoch(
        group_key=bad.encryption_binding(),
        membership_sequence=sequence,
        members=[],
        signer=mallory.client(http).unlocked_keys,
    )
    with db.write() as session:
        publish_bindings(session, bindings=[statement], now=clock.now(), log=LOG)
    with pytest.raises(ProofInvalid):
        sec_client.key_directory.practice_key(practice)
    # An older key than one this client verified is refused too.
    sec_client.state.put("group_epochs", str(practice), 3)
    with pytest.raises(StaleEpoch):
        sec_client.key_directory.practice_key(practice)
    assert honest.epoch == 1


def test_an_admins_monitoring_checks_their_practices(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    practice, admin, _secretary, client = _signed_practice(db, clock, http)
    assert client.monitor() == []
    # A practice with only its genesis and no group key yet has nothing more to check.
    other = new_practice(db, clock, admin)
    client.practice_keys.attest_member(other, admin.account_id, GroupRole.ADMIN)
    assert client.monitor() == []
    mallory = keyed(db, clock, "mallory")
    _operator_appends(db, clock, practice, mallory.client(http).unlocked_keys, mallory.account_id)
    (alert,) = client.monitor()
    assert (alert.subject_id, alert.what) == (practice, "group_refused")


class _Failing:
    """A server whose key directory answers 500 for one practice."""

    def __init__(self, http: TestClient, path: str) -> None:
        self.http, self.path = http, path

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if method == "GET" and url == self.path:
            return _Problem()
        return self.http.request(method, url, **kwargs)

    def close(self) -> None:
        pass


class _Problem:
    status_code = 500
    content = b"x"
    headers = {"content-type": "application/problem+json"}
    text = "{}"

    def json(self) -> Any:
        return {"type": "about:blank", "status": 500, "detail": "boom"}


def test_an_admins_monitoring_reports_a_failing_read(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    practice, admin, _secretary, _client = _signed_practice(db, clock, http)
    client = ColloqueClient(
        http=_Failing(http, f"/api/v1/key-directory/practices/{practice}"),
        insecure_allow_weak_cost=True,
    )
    client.log_in(admin.email, PASSWORD)
    client._token = admin.token
    client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
    assert [(a.subject_id, a.what) for a in client.alerts] == [(practice, "group_refused")]
