"""The hostile operator drill, the practitioners' key group (issue 12): the operator holds the
database and the log key, and writes rows, leaves and signed checkpoints straight in, bypassing
every server check. Runs on both databases (the ``db`` fixture).

Covered: a practitioners' group epoch the operator made itself (no statement), one signed by an
admin, and one wrapped for a secretary are refused by a practitioner's client, which then seals
no note; an older epoch than one it verified is refused; a secretary handed every wrap the server
holds for a note opens none of them; a removed practitioner the operator quietly puts back gets
no later epoch, and cannot open a note written after the removal with the keys they kept. The
owners' monitoring (``client.monitor()``) of an admin and of a practitioner reports each of these
epochs, a withheld signer's keys and a hidden group as ``clinical_refused``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from colloque.accounts.services import do_add_member
from colloque.api.app import create_app
from colloque.client import ApiError, ColloqueClient, UnsignedClinicalGroup
from colloque.clock import SettableClock
from colloque.crypto import groups
from colloque.crypto.errors import CryptoError, ProofInvalid, StaleEpoch
from colloque.crypto.groups import GroupKey, clinical_group_id, open_group_key
from colloque.crypto.items import unwrap_item_key
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import member_entries, sign_group_epoch
from colloque.crypto.transparency import KeyBinding
from colloque.keydirectory.services import publish_bindings
from colloque.patients.registry import do_register_patient
from colloque.practicekeys.memberships import stored_chain
from colloque.practicekeys.models import PracticeKeyEpoch, PracticeKeyWrap
from colloque.principal import Role
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.scheduling.models import PracticeMember
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
)


@pytest.fixture
def http(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, database=db, clock=clock)) as client:
        yield client


@dataclass
class Team:
    practice: UUID
    patient: UUID
    admin: ColloqueClient
    desk: ColloqueClient
    ben: ColloqueClient
    carla: ColloqueClient
    people: dict[str, Keyed]


def _practitioner(
    db: Database, clock: SettableClock, practice: UUID, admin: Keyed, who: Keyed
) -> None:
    with db.write() as session:
        agenda = do_add_practitioner(
            session,
            now=clock.now(),
            principal=admin.principal(db),
            practice_id=practice,
            first_name=who.email.split("@")[0].title(),
            last_name="Martin",
            specialty=Specialty.GENERAL_PRACTICE,
        )
        do_add_member(
            session,
            practice_id=practice,
            account_id=who.account_id,
            role=Role.PRACTITIONER,
            practitioner_id=agenda.practitioner_id,
        )


@pytest.fixture
def team(db: Database, clock: SettableClock, http: TestClient) -> Team:
    """A signed practice (admin, secretary, practitioners Ben and Carla) whose practitioners'
    group Ben's client made, and a patient nobody holds (notes sealed to the group only)."""
    people = {n: keyed(db, clock, n) for n in ("admin", "desk", "ben", "carla")}
    practice = new_practice(db, clock, people["admin"])
    add(db, practice, people["desk"])
    for name in ("ben", "carla"):
        _practitioner(db, clock, practice, people["admin"], people[name])
    clients = {n: p.client(http) for n, p in people.items()}
    clients["admin"].practice_keys.create_group(practice)
    clients["ben"].practice_keys.create_clinical_group(practice)
    with db.write() as session:
        patient = do_register_patient(
            session,
            now=clock.now(),
            principal=people["desk"].principal(db),
            practice_id=practice,
            first_name="Jean",
            last_name="Sanscompte",
            birth_date=date(1950, 1, 1),
        ).patient_id
    return Team(
        practice,
        patient,
        clients["admin"],
        clients["desk"],
        clients["ben"],
        clients["carla"],
        people,
    )


def _notes(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(SealedItemRow)) or 0


def _operator_epoch(db: Database, clock: SettableClock, team: Team) -> GroupKey:
    """The operator's own epoch 2 of the practitioners' group, properly in the log."""
    forged = groups.create_group(clinical_group_id(team.practice), members=[]).group_key
    bad = dataclasses.replace(forged, epoch=2)
    with db.write() as session:
        publish_bindings(session, bindings=[bad.encryption_binding()], now=clock.now(), log=LOG)
    return bad


def _statement(
    db: Database,
    clock: SettableClock,
    team: Team,
    *,
    key: GroupKey,
    members: list[KeyBinding],
    signer: UserKeys,
) -> None:
    """The operator logs a statement for ``key`` and serves the epoch's member list with it (an
    epoch row), so that the client gets as far as checking who signed and who it is wrapped for."""
    listed = [(m.subject_id, m.epoch) for m in members]
    with db.read() as session:
        sequence = len(stored_chain(session, practice_id=team.practice))
    statement = sign_group_epoch(
        group_key=key.encryption_binding(),
        membership_sequence=sequence,
        members=listed,
        signer=signer,
    )
    with db.write() as session:
        (leaf_index,) = publish_bindings(session, bindings=[statement], now=clock.now(), log=LOG)
        session.add(
            PracticeKeyEpoch(
                practice_id=team.practice,
                clinical=True,
                epoch=key.epoch,
                public_key=key.public_key,
                leaf_index=leaf_index,
                created_by_account_id=None,
                created_at=clock.now(),
                members=member_entries(listed),
            )
        )


def test_an_epoch_the_operator_made_is_refused(
    db: Database, clock: SettableClock, team: Team
) -> None:
    honest = team.ben.key_directory.clinical_key(team.practice)
    bad = _operator_epoch(db, clock, team)
    with pytest.raises(UnsignedClinicalGroup):
        team.ben.key_directory.clinical_key(team.practice)
    with pytest.raises(ProofInvalid):
        team.ben.write_note(practice_id=team.practice, patient_id=team.patient, text="secret")
    assert _notes(db) == 0
    # An older epoch than one this client verified: refused as well.
    team.ben.state.put("group_epochs", str(clinical_group_id(team.practice)), 3)
    with pytest.raises(StaleEpoch):
        team.ben.key_directory.clinical_key(team.practice)
    assert (honest.epoch, bad.epoch) == (1, 2)


def test_an_epoch_an_admin_signed_is_refused(
    db: Database, clock: SettableClock, team: Team
) -> None:
    """The admin's device is the operator's (or the admin colludes): still not a practitioner."""
    bad = _operator_epoch(db, clock, team)
    _statement(
        db,
        clock,
        team,
        key=bad,
        members=[team.ben.unlocked_keys.encryption_binding()],
        signer=team.admin.unlocked_keys,
    )
    with pytest.raises(ProofInvalid, match="role may not make"):
        team.ben.key_directory.clinical_key(team.practice)
    with pytest.raises(ProofInvalid):
        team.ben.write_note(practice_id=team.practice, patient_id=team.patient, text="secret")
    assert _notes(db) == 0


def test_an_epoch_wrapped_for_a_secretary_is_refused(
    db: Database, clock: SettableClock, team: Team
) -> None:
    """Signed by a practitioner (Carla's device, say, is the operator's), but wrapped for the
    secretary too: the statement's member list has someone who is no practitioner."""
    bad = _operator_epoch(db, clock, team)
    members: list[KeyBinding] = [
        team.ben.unlocked_keys.encryption_binding(),
        team.desk.unlocked_keys.encryption_binding(),
    ]
    _statement(db, clock, team, key=bad, members=members, signer=team.carla.unlocked_keys)
    with pytest.raises(ProofInvalid, match="not an attested member of this group"):
        team.ben.key_directory.clinical_key(team.practice)
    with pytest.raises(ProofInvalid):
        team.ben.write_note(practice_id=team.practice, patient_id=team.patient, text="secret")
    assert _notes(db) == 0


def test_a_secretary_with_every_wrap_of_a_note_opens_none(db: Database, team: Team) -> None:
    item_id = team.ben.write_note(
        practice_id=team.practice, patient_id=team.patient, text="Diagnostic"
    )
    # The operator hands the secretary everything it holds: the note's item key wraps, and every
    # wrap of the practitioners' group key (made for Ben and Carla).
    with db.read() as session:
        item_wraps = session.scalars(
            select(ItemKeyWrap.wrap).where(ItemKeyWrap.item_id == item_id)
        ).all()
        group_wraps = session.scalars(
            select(PracticeKeyWrap.wrap).where(PracticeKeyWrap.clinical.is_(True))
        ).all()
    assert item_wraps
    assert group_wraps
    desk = team.desk.unlocked_keys
    expected = team.desk.key_directory.clinical_key(team.practice)
    for wrap in group_wraps:
        with pytest.raises(CryptoError):
            open_group_key(wrap, expected=expected, member=desk, last_seen_epoch=0)
    # Her own keys, the practice group's: none opens the note's item key.
    practice_key = team.desk.practice_keys.open_group_key(team.practice)
    for wrap in item_wraps:
        for holder in (desk, practice_key):
            with pytest.raises(CryptoError):
                unwrap_item_key(wrap, item_id=item_id, holder=holder)
    # And the server refuses her the notes themselves.
    path = f"/api/v1/practices/{team.practice}/patients/{team.patient}/notes"
    with pytest.raises(ApiError) as refused:
        team.desk._request("GET", path)
    assert refused.value.status == 403


def test_a_removed_practitioner_gets_no_later_epoch(
    db: Database, clock: SettableClock, team: Team
) -> None:
    kept = team.carla.practice_keys.open_group_key(team.practice, clinical=True)
    carla = team.people["carla"].account_id
    with db.read() as session:
        agenda = session.get_one(PracticeMember, (team.practice, carla)).practitioner_id
    team.admin.practice_keys.remove_member(team.practice, carla)
    # The operator quietly puts her back as a member row (no signed statement).
    with db.write() as session:
        session.add(
            PracticeMember(
                practice_id=team.practice,
                account_id=carla,
                role=Role.PRACTITIONER.value,
                practitioner_id=agenda,
            )
        )
    item_id = team.ben.write_note(
        practice_id=team.practice, patient_id=team.patient, text="Après le départ"
    )
    with db.read() as session:
        clinical_wraps = session.execute(
            select(PracticeKeyWrap.account_id, PracticeKeyWrap.epoch).where(
                PracticeKeyWrap.clinical.is_(True)
            )
        ).all()
        note_wraps = session.scalars(
            select(ItemKeyWrap.wrap).where(ItemKeyWrap.item_id == item_id)
        ).all()
    # Ben's client rotated (the removal made the group rotation-due) for the attested only.
    ben = team.people["ben"].account_id
    assert sorted(clinical_wraps) == [(ben, 1), (ben, 2)]
    for wrap in note_wraps:
        with pytest.raises(CryptoError):
            unwrap_item_key(wrap, item_id=item_id, holder=kept)
    assert kept.epoch == 1
    chain = team.ben.key_directory.membership_chain(team.practice)
    assert chain is not None
    assert carla not in chain.members()


def _refused(client: ColloqueClient) -> list[tuple[UUID, str]]:
    return [(alert.subject_id, alert.what) for alert in client.monitor()]


def test_monitoring_an_honest_group_raises_nothing(team: Team) -> None:
    team.ben.write_note(practice_id=team.practice, patient_id=team.patient, text="Diagnostic")
    for client in (team.admin, team.ben, team.carla, team.desk):
        assert client.monitor() == []
        assert client.alerts == []


def test_monitoring_reports_an_epoch_the_operator_made(
    db: Database, clock: SettableClock, team: Team
) -> None:
    _operator_epoch(db, clock, team)
    for client in (team.admin, team.ben, team.carla):
        (alert,) = client.monitor()
        assert (alert.subject_id, alert.what) == (team.practice, "clinical_refused")
        assert "practitioner" in alert.detail
        assert alert in client.alerts
    # The secretary does not hold the key nor keep watch over it.
    assert team.desk.monitor() == []


def test_monitoring_reports_an_epoch_an_admin_signed(
    db: Database, clock: SettableClock, team: Team
) -> None:
    bad = _operator_epoch(db, clock, team)
    members = [team.ben.unlocked_keys.encryption_binding()]
    _statement(db, clock, team, key=bad, members=members, signer=team.admin.unlocked_keys)
    for client in (team.admin, team.ben):
        (alert,) = client.monitor()
        assert (alert.subject_id, alert.what) == (team.practice, "clinical_refused")
        assert "role may not make" in alert.detail


def test_monitoring_reports_an_epoch_wrapped_for_a_secretary(
    db: Database, clock: SettableClock, team: Team
) -> None:
    bad = _operator_epoch(db, clock, team)
    members: list[KeyBinding] = [
        team.ben.unlocked_keys.encryption_binding(),
        team.desk.unlocked_keys.encryption_binding(),
    ]
    _statement(db, clock, team, key=bad, members=members, signer=team.carla.unlocked_keys)
    for client in (team.admin, team.ben):
        (alert,) = client.monitor()
        assert (alert.subject_id, alert.what) == (team.practice, "clinical_refused")
        assert "not an attested member" in alert.detail


class _Withholding:
    """A server that answers ``status`` (404: as if it did not exist) to one GET."""

    def __init__(self, http: TestClient, path: str, status: int = 404) -> None:
        self.http, self.path, self.status = http, path, status

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if method == "GET" and url == self.path:
            return _Problem(self.status)
        return self.http.request(method, url, **kwargs)

    def close(self) -> None:
        pass


class _Problem:
    content = b"x"
    headers = {"content-type": "application/problem+json"}
    text = "{}"

    def __init__(self, status: int) -> None:
        self.status_code = status

    def json(self) -> Any:
        return {"type": "about:blank", "status": self.status_code, "detail": "withheld"}


def _device(http: Any, who: Keyed) -> ColloqueClient:
    """``who`` on a new device talking to ``http`` (monitoring runs at pinning)."""
    client = ColloqueClient(http=http, insecure_allow_weak_cost=True)
    client.log_in(who.email, PASSWORD)
    client._token = who.token
    client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
    return client


def test_monitoring_reports_a_withheld_signer(http: TestClient, team: Team) -> None:
    """The practitioners' group exists, but the server withholds the keys of Ben, who signed
    its epoch: not the same as having no group."""
    ben = team.people["ben"].account_id
    withholding = _Withholding(http, f"/api/v1/key-directory/users/{ben}")
    carla = _device(withholding, team.people["carla"])
    assert [(a.subject_id, a.what) for a in carla.alerts] == [(team.practice, "clinical_refused")]
    assert "404" in carla.alerts[0].detail


def test_monitoring_reports_a_hidden_group(http: TestClient, team: Team) -> None:
    """A device that verified an epoch of the group is told it does not exist."""
    path = f"/api/v1/key-directory/practices/{team.practice}/clinical"
    assert team.ben.monitor() == []
    team.ben._http = _Withholding(http, path)
    (alert,) = team.ben.monitor()
    assert (alert.subject_id, alert.what, alert.epoch) == (team.practice, "clinical_refused", 1)
    # Any other failing answer is reported as it is.
    team.admin._http = _Withholding(http, path, status=500)
    (failed,) = team.admin.monitor()
    assert (failed.subject_id, failed.what, failed.epoch) == (
        team.practice,
        "clinical_refused",
        None,
    )
    assert "500" in failed.detail


def test_monitoring_reports_a_hidden_practice_group(http: TestClient, team: Team) -> None:
    """The same for the practice group: an admin's device that verified its epoch is told it
    does not exist (before, any 404 there read as "no group yet")."""
    assert team.admin.monitor() == []
    team.admin._http = _Withholding(http, f"/api/v1/key-directory/practices/{team.practice}")
    (alert,) = team.admin.monitor()
    assert (alert.subject_id, alert.what, alert.epoch) == (team.practice, "group_refused", 1)
    assert "hides" in alert.detail


def test_monitoring_a_practice_without_the_group(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    """Before any practitioner's device made the group, there is nothing to check."""
    people = {n: keyed(db, clock, n) for n in ("admin", "ben")}
    practice = new_practice(db, clock, people["admin"])
    _practitioner(db, clock, practice, people["admin"], people["ben"])
    admin = people["admin"].client(http)
    admin.practice_keys.create_group(practice)
    assert admin.monitor() == []
    assert people["ben"].client(http).monitor() == []
