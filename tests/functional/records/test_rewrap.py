"""Re-wrapping after a group rotation and re-sharing after a patient's key reset."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from colloque.client import ApiError
from colloque.client.encoding import b64
from colloque.client.records import NoKeyForItem, SealedRecords
from colloque.clock import SettableClock
from colloque.crypto.groups import GroupKey, rewrap_item_key
from colloque.crypto.items import seal_note
from colloque.crypto.transparency import KeyBinding
from colloque.practicekeys.models import PracticeKeyEpoch
from colloque.records.models import ItemKeyWrap
from colloque.storage.engine import Database
from tests.functional.records.clients import Scene, scene
from tests.functional.records.helpers import give_keys, make_group


@pytest.fixture
def s(db: Database, clock: SettableClock, tmp_path: Path) -> Iterator[Scene]:
    yield from scene(db, clock, tmp_path)


def notes(s: Scene, count: int) -> list[uuid.UUID]:
    return [
        s.doctor.records.write_note(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            text=f"note {index}",
            recipients=s.note_recipients(),
        )
        for index in range(count)
    ]


def read(s: Scene, keys: dict[int, GroupKey]) -> list[str]:
    """The doctor's notes, opened with these keys of the practitioners' group."""
    found = s.doctor.records.read_notes(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        authors=s.authors,
        standing=s.standing,
        clinical_keys=keys,
    )
    return sorted(item.text for item in found)


def practice_epochs(db: Database) -> list[int]:
    with db.read() as session:
        return sorted(
            session.scalars(
                select(ItemKeyWrap.epoch).where(ItemKeyWrap.recipient_kind == "practice")
            )
        )


def test_after_a_rotation_practitioners_rewrap_and_the_old_wraps_go(
    s: Scene, db: Database, clock: SettableClock
) -> None:
    notes(s, 5)
    # A practitioner leaves: epoch 2 of the practitioners' group for the doctor only.
    second = make_group(
        db, clock, s.world.practice_id, [s.doctor.unlocked_keys], previous=s.clinical, clinical=True
    )
    with pytest.raises(NoKeyForItem):
        read(s, {2: second})
    # A member who never held epoch 1 can move nothing.
    assert (
        s.doctor.records.rewrap_after_rotation(
            practice_id=s.world.practice_id, group_keys={2: second}, clinical=True
        )
        == 0
    )
    # The secretary may not re-wrap the practitioners' group's item keys, nor list them.
    with pytest.raises(ApiError) as refused:
        s.secretary.records.rewrap_after_rotation(
            practice_id=s.world.practice_id, group_keys={2: second}, clinical=True
        )
    assert refused.value.status == 403
    moved = s.doctor.records.rewrap_after_rotation(
        practice_id=s.world.practice_id,
        group_keys={1: s.clinical, 2: second},
        batch=2,
        clinical=True,
    )
    assert moved == 5
    assert practice_epochs(db) == [2] * 5
    assert read(s, {2: second}) == [f"note {i}" for i in range(5)]
    # A new note after the removal: sealed for epoch 2, which the one who left never had.
    s.doctor.records.write_note(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        text="after",
        recipients=[s.holder.unlocked_keys.encryption_binding(), second.encryption_binding()],
    )
    with pytest.raises(NoKeyForItem):
        read(s, {1: s.clinical})


def messages(s: Scene, count: int) -> list[uuid.UUID]:
    return [
        s.doctor.records.send_message(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            text=f"message {index}",
            recipients=s.recipients(),
            as_holder=False,
        )
        for index in range(count)
    ]


def test_an_item_with_wraps_at_two_old_epochs_is_rewrapped_once(
    s: Scene, db: Database, clock: SettableClock
) -> None:
    """The practice group (a message's), whose wraps the practitioners' group's do not mix with."""
    notes(s, 1)
    (item_id,) = messages(s, 1)
    second = make_group(db, clock, s.world.practice_id, [s.doctor.unlocked_keys], previous=s.group)
    with db.read() as session:
        old = session.scalars(
            select(ItemKeyWrap).where(
                ItemKeyWrap.recipient_kind == "practice",
                ItemKeyWrap.recipient_id == s.world.practice_id,
            )
        ).one()
    records = s.doctor.records
    # Half a re-wrap (a client that stopped before the server dropped epoch 1), then epoch 3.
    with db.write() as session:
        session.add(
            ItemKeyWrap(
                practice_id=s.world.practice_id,
                item_id=item_id,
                recipient_kind="practice",
                recipient_id=s.world.practice_id,
                epoch=2,
                wrap=rewrap_item_key(
                    old.wrap,
                    item_id=item_id,
                    old_group=s.group,
                    new_group=second.encryption_binding(),
                ),
            )
        )
    third = make_group(db, clock, s.world.practice_id, [s.doctor.unlocked_keys], previous=second)
    keys = {1: s.group, 2: second, 3: third}
    assert records.rewrap_after_rotation(practice_id=s.world.practice_id, group_keys=keys) == 1
    # The note's wrap for the practitioners' group stays at its epoch 1.
    assert practice_epochs(db) == [1, 3]


def rewraps(s: Scene, wraps: list[bytes], *, group: str = "clinical") -> ApiError:
    path = f"/api/v1/practices/{s.world.practice_id}/item-key-wraps"
    with pytest.raises(ApiError) as refused:
        s.doctor._request("POST", path, json={"wraps": [b64(w) for w in wraps], "group": group})
    return refused.value


def test_the_server_checks_every_rewrap(s: Scene, db: Database, clock: SettableClock) -> None:
    (item_id,) = notes(s, 1)
    stale_for_epoch_1 = seal_note(
        item_id=item_id,
        patient_id=s.patient_id,
        text="x",
        author=s.doctor.unlocked_keys,
        recipients=[s.clinical.encryption_binding()],
    ).wraps[0]
    second = make_group(
        db, clock, s.world.practice_id, [s.doctor.unlocked_keys], previous=s.clinical, clinical=True
    )
    unknown = seal_note(
        item_id=uuid.uuid4(),
        patient_id=s.patient_id,
        text="x",
        author=s.doctor.unlocked_keys,
        recipients=[second.encryption_binding()],
    ).wraps[0]
    good = seal_note(
        item_id=item_id,
        patient_id=s.patient_id,
        text="x",
        author=s.doctor.unlocked_keys,
        recipients=[second.encryption_binding()],
    ).wraps[0]
    for wraps, field in (
        ([stale_for_epoch_1], "wraps[0]"),
        ([unknown], "wraps[0]"),
        ([good, good], "wraps[1]"),
        ([b"\x01\x04nope"], "wraps[0]"),
    ):
        error = rewraps(s, wraps)
        assert (error.status, error.field) == (422, field), field
    # A wrap for the practitioners' group is not one for the practice group's current epoch.
    error = rewraps(s, [good], group="practice")
    assert (error.status, error.field) == (422, "wraps[0]")
    assert practice_epochs(db) == [1]


def test_a_practice_without_a_group_has_nothing_to_rewrap(s: Scene, db: Database) -> None:
    with db.write() as session:
        session.execute(delete(PracticeKeyEpoch))
    with pytest.raises(ApiError) as refused:
        s.doctor.records.rewrap_after_rotation(
            practice_id=s.world.practice_id, group_keys={1: s.group}
        )
    assert (refused.value.status, refused.value.field) == (422, "practice_id")
    with pytest.raises(ApiError) as refused:
        s.doctor.records.rewrap_after_rotation(
            practice_id=s.world.practice_id, group_keys={1: s.clinical}, clinical=True
        )
    assert (refused.value.status, refused.value.field) == (422, "group")


def test_after_a_key_reset_the_practice_reshares_once_identity_is_checked(
    s: Scene, db: Database, clock: SettableClock
) -> None:
    notes(s, 3)
    s.holder.records.send_message(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        text="bonjour",
        recipients=s.recipients(),
        as_holder=True,
    )
    new_keys = give_keys(db, clock, s.holder.account_id, epoch=2)
    new_device = SealedRecords(s.holder._request, new_keys)
    with pytest.raises(NoKeyForItem):
        new_device.read_notes(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            authors=s.authors,
            standing=s.standing,
        )

    def reshare(
        holder_key: KeyBinding,
        *,
        checked: bool = True,
        batch: int = 100,
        epochs: int = 1,
        clinical: bool = False,
    ) -> int:
        """The secretary re-shares with the practice group's key (the message); the doctor,
        with the practitioners' group's (the notes, which the secretary cannot open)."""
        client, key = (s.doctor, s.clinical) if clinical else (s.secretary, s.group)
        return client.records.reshare(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            group_keys={1: key} if epochs else {},
            holder_key=holder_key,
            identity_checked=checked,
            batch=batch,
        )

    with pytest.raises(ApiError) as refused:
        reshare(new_keys.encryption_binding(), checked=False)
    assert (refused.value.status, refused.value.field) == (422, "identity_checked")
    with pytest.raises(ValueError, match="holder's key"):
        reshare(s.holder.unlocked_keys.encryption_binding())  # the old epoch
    assert reshare(new_keys.encryption_binding(), epochs=0) == 0  # no group key: nothing to open
    assert reshare(new_keys.encryption_binding(), batch=2) == 1
    assert reshare(new_keys.encryption_binding(), batch=2, clinical=True) == 3
    texts = new_device.read_notes(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        authors=s.authors,
        standing=s.standing,
    )
    assert sorted(t.text for t in texts) == ["note 0", "note 1", "note 2"]
    messages = new_device.read_messages(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        authors=s.authors,
        standing=s.standing,
    )
    # The holder's own old signature still verifies with the key of the epoch they wrote it at.
    assert [m.text for m in messages] == ["bonjour"]
    with db.read() as session:
        epochs = session.scalars(
            select(ItemKeyWrap.epoch).where(ItemKeyWrap.recipient_kind == "user")
        ).all()
    assert sorted(epochs) == [2, 2, 2, 2]
    assert reshare(new_keys.encryption_binding()) == 0  # nothing left to share
    with pytest.raises(NoKeyForItem):  # the old device: its keys were reset
        s.holder.records.read_notes(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            authors=s.authors,
            standing=s.standing,
        )
