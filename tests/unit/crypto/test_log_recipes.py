"""Recipes the key directory service and the group service build on: batched inclusion proofs,
compact ranges, the log's public key, and reading a group wrap's clear header."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from colloque.crypto import _sodium, groups, transparency
from colloque.crypto.errors import MalformedEnvelope
from tests.unit.crypto.helpers import new_user


def _hashes(n: int) -> list[bytes]:
    return [transparency.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@given(st.integers(min_value=1, max_value=70))
def test_batched_proofs_equal_single_proofs(n: int) -> None:
    hashes = _hashes(n)
    indexes = list(range(n))
    assert transparency.inclusion_proofs(hashes, indexes) == [
        transparency.inclusion_proof(hashes, i) for i in indexes
    ]


def test_batched_proofs_refuse_a_missing_leaf() -> None:
    with pytest.raises(ValueError, match="no leaf"):
        transparency.inclusion_proofs(_hashes(3), [3])


@given(st.integers(min_value=0, max_value=70))
def test_compact_range_root_is_the_tree_root(n: int) -> None:
    compact: list[tuple[int, bytes]] = []
    for h in _hashes(n):
        compact = transparency.compact_range_append(compact, h)
    assert transparency.compact_range_root(compact) == transparency.tree_root(_hashes(n))
    assert sum(size for size, _ in compact) == n


def test_log_public_key_verifies_the_checkpoints_it_signs() -> None:
    seed = bytes(range(32))
    checkpoint = transparency.Checkpoint("example.test/log", 0, transparency.tree_root([]))
    note = transparency.sign_checkpoint(checkpoint, log_signing_seed=seed)
    public = transparency.log_public_key(seed)
    assert public == _sodium.ed25519_keypair_from_seed(seed)[0]
    assert (
        transparency.verify_checkpoint(note, origin="example.test/log", log_public_key=public)
        == checkpoint
    )


def test_group_wrap_header_is_read_without_opening() -> None:
    member = new_user()
    group_id = uuid.uuid4()
    rotation = groups.create_group(group_id, members=[member.encryption_binding()])
    header = groups.read_group_wrap_header(rotation.wraps[member.user_id])
    assert header == groups.GroupWrapHeader(
        group_id, 1, rotation.group_key.public_key, member.user_id
    )


@pytest.mark.parametrize("cut", [b"", b"\x00"])
def test_a_wrap_of_the_wrong_length_is_malformed(cut: bytes) -> None:
    member = new_user()
    wrap = groups.create_group(uuid.uuid4(), members=[member.encryption_binding()]).wraps[
        member.user_id
    ]
    with pytest.raises(MalformedEnvelope):
        groups.read_group_wrap_header(wrap[:-1] + cut + (b"\x00" if cut else b""))
