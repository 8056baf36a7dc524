"""Practice key groups: epochs, adding and removing members, replays, re-wrapping."""

from __future__ import annotations

import time
import uuid

import pytest

from colloque.crypto import _sodium, groups, items
from colloque.crypto._encoding import MAX_U32
from colloque.crypto.errors import (
    CryptoError,
    DecryptionFailed,
    MalformedEnvelope,
    StaleEpoch,
    WrongContext,
)
from colloque.crypto.groups import GroupKey
from colloque.crypto.keys import UserKeys
from colloque.crypto.transparency import KeyBinding
from tests.unit.crypto.helpers import flip, new_user

DOCTOR, SECRETARY, LOCUM = new_user(), new_user(), new_user()
PATIENT = new_user()


def members(*users: UserKeys) -> list[KeyBinding]:
    return [u.encryption_binding() for u in users]


def open_for(rotation: groups.GroupRotation, member: UserKeys, last_seen: int = 0) -> GroupKey:
    return groups.open_group_key(
        rotation.wraps[member.user_id],
        expected=rotation.group_key.encryption_binding(),
        member=member,
        last_seen_epoch=last_seen,
    )


def share_note(group_key: GroupKey, text: str) -> items.SealedItem:
    return items.seal_note(
        item_id=uuid.uuid4(),
        patient_id=PATIENT.user_id,
        text=text,
        author=DOCTOR,
        recipients=[PATIENT.encryption_binding(), group_key.encryption_binding()],
    )


def test_every_member_opens_the_group_key() -> None:
    rotation = groups.create_group(uuid.uuid4(), members=members(DOCTOR, SECRETARY))
    assert rotation.group_key.epoch == 1
    for member in (DOCTOR, SECRETARY):
        assert len(rotation.wraps[member.user_id]) == 220
        assert open_for(rotation, member) == rotation.group_key
    assert rotation.group_key.secret.hex() not in repr(rotation.group_key)


def test_adding_a_member() -> None:
    rotation = groups.create_group(uuid.uuid4(), members=members(DOCTOR))
    key = open_for(rotation, DOCTOR)
    wrap = groups.add_member(key, member=LOCUM.encryption_binding())
    opened = groups.open_group_key(
        wrap, expected=key.encryption_binding(), member=LOCUM, last_seen_epoch=0
    )
    assert opened == key


def test_a_removed_member_cannot_open_anything_shared_after_removal() -> None:
    first = groups.create_group(uuid.uuid4(), members=members(DOCTOR, SECRETARY, LOCUM))
    old_key_of_locum = open_for(first, LOCUM)
    before = share_note(first.group_key, "avant")
    second = groups.rotate_group_key(first.group_key, members=members(DOCTOR, SECRETARY))
    assert second.group_key.epoch == 2
    assert LOCUM.user_id not in second.wraps
    new_key = open_for(second, DOCTOR, last_seen=1)
    after = share_note(new_key, "après")
    rewrapped = groups.rewrap_item_key(
        before.wraps[1],
        item_id=before.item_id,
        old_group=open_for(first, DOCTOR),
        new_group=new_key.encryption_binding(),
    )
    assert (
        items.unwrap_item_key(rewrapped, item_id=before.item_id, holder=new_key) == before.item_key
    )
    # The removed member holds the old group key and can see every wrap the server stores.
    for item, wrap in ((after, after.wraps[1]), (before, rewrapped)):
        with pytest.raises(WrongContext):
            items.unwrap_item_key(wrap, item_id=item.item_id, holder=old_key_of_locum)
        relabelled = wrap[:35] + (1).to_bytes(4, "big") + wrap[39:]  # pretend it is epoch 1
        with pytest.raises(CryptoError):
            items.unwrap_item_key(relabelled, item_id=item.item_id, holder=old_key_of_locum)
    for member_wrap in second.wraps.values():
        with pytest.raises(WrongContext):
            groups.open_group_key(
                member_wrap,
                expected=second.group_key.encryption_binding(),
                member=LOCUM,
                last_seen_epoch=1,
            )


def test_a_replayed_old_group_key_is_refused() -> None:
    first = groups.create_group(uuid.uuid4(), members=members(DOCTOR))
    second = groups.rotate_group_key(first.group_key, members=members(DOCTOR))
    assert open_for(second, DOCTOR, last_seen=1).epoch == 2
    with pytest.raises(StaleEpoch):
        groups.open_group_key(
            first.wraps[DOCTOR.user_id],
            expected=first.group_key.encryption_binding(),  # an old binding is still in the log
            member=DOCTOR,
            last_seen_epoch=2,
        )


def test_the_key_directory_decides_which_key_is_current() -> None:
    first = groups.create_group(uuid.uuid4(), members=members(DOCTOR))
    second = groups.rotate_group_key(first.group_key, members=members(DOCTOR))
    wrap = first.wraps[DOCTOR.user_id]
    for expected in (
        second.group_key.encryption_binding(),  # the directory says epoch 2
        groups.create_group(uuid.uuid4(), members=[]).group_key.encryption_binding(),
        DOCTOR.encryption_binding(),  # not a group
    ):
        with pytest.raises(WrongContext):
            groups.open_group_key(wrap, expected=expected, member=DOCTOR, last_seen_epoch=0)
    with pytest.raises(WrongContext):
        groups.open_group_key(
            wrap, expected=first.group_key.encryption_binding(), member=SECRETARY, last_seen_epoch=0
        )


def test_a_server_made_group_key_is_refused() -> None:
    real = groups.create_group(uuid.uuid4(), members=members(DOCTOR)).group_key
    fake = GroupKey(real.group_id, real.epoch, real.public_key, _sodium.random_bytes(32))
    wrap = groups.add_member(fake, member=DOCTOR.encryption_binding())
    with pytest.raises(DecryptionFailed):
        groups.open_group_key(
            wrap, expected=real.encryption_binding(), member=DOCTOR, last_seen_epoch=0
        )


def test_tampered_wraps_are_refused() -> None:
    rotation = groups.create_group(uuid.uuid4(), members=members(DOCTOR))
    wrap = rotation.wraps[DOCTOR.user_id]
    expected = rotation.group_key.encryption_binding()
    with pytest.raises(DecryptionFailed):
        groups.open_group_key(flip(wrap, -1), expected=expected, member=DOCTOR, last_seen_epoch=0)
    for bad in (wrap[:-1], wrap + b"\x00", flip(wrap, 0)):
        with pytest.raises(MalformedEnvelope):
            groups.open_group_key(bad, expected=expected, member=DOCTOR, last_seen_epoch=0)
    # The outer header claims what the sealed copy does not.
    inner = flip(wrap[:70], 60) + rotation.group_key.secret
    forged = wrap[:70] + _sodium.seal(inner, DOCTOR.encryption_public)
    with pytest.raises(WrongContext):
        groups.open_group_key(forged, expected=expected, member=DOCTOR, last_seen_epoch=0)


def test_rewrap_misuse() -> None:
    first = groups.create_group(uuid.uuid4(), members=members(DOCTOR))
    second = groups.rotate_group_key(first.group_key, members=members(DOCTOR))
    other = groups.create_group(uuid.uuid4(), members=members(DOCTOR))
    item = share_note(first.group_key, "x")
    with pytest.raises(ValueError, match="same group"):
        groups.rewrap_item_key(
            item.wraps[1],
            item_id=item.item_id,
            old_group=first.group_key,
            new_group=other.group_key.encryption_binding(),
        )
    with pytest.raises(ValueError, match="newer epoch"):
        groups.rewrap_item_key(
            item.wraps[1],
            item_id=item.item_id,
            old_group=second.group_key,
            new_group=first.group_key.encryption_binding(),
        )


def test_membership_misuse() -> None:
    with pytest.raises(ValueError, match="twice"):
        groups.create_group(uuid.uuid4(), members=members(DOCTOR, DOCTOR))
    with pytest.raises(ValueError, match="encryption keys"):
        groups.create_group(uuid.uuid4(), members=[DOCTOR.signing_binding()])
    last = GroupKey(uuid.uuid4(), MAX_U32, bytes(32), bytes(32))
    with pytest.raises(ValueError, match="no epoch"):
        groups.rotate_group_key(last, members=[])


def test_a_thousand_members_join_and_one_leaves() -> None:
    users = [new_user() for _ in range(1000)]
    bindings = members(*users)
    started = time.perf_counter()
    rotation = groups.create_group(uuid.uuid4(), members=bindings)
    rotated = groups.rotate_group_key(rotation.group_key, members=bindings[1:])
    elapsed = time.perf_counter() - started
    assert len(rotation.wraps) == 1000
    assert len(rotated.wraps) == 999
    assert len(set(rotated.wraps.values())) == 999
    assert open_for(rotated, users[-1], last_seen=1) == rotated.group_key
    assert users[0].user_id not in rotated.wraps
    assert elapsed < 10  # about 0.2 s here; generous for slow CI machines
