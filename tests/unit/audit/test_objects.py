"""The packed objects of an audit event: canonical, complete, and refusing what does not decode."""

from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from colloque.audit.objects import MalformedObjects, ObjectKind, collect, pack, unpack

refs = st.lists(st.tuples(st.sampled_from(list(ObjectKind)), st.uuids()), max_size=60)


@given(refs)
def test_packing_keeps_every_id_once(pairs: list[tuple[ObjectKind, uuid.UUID]]) -> None:
    grouped = collect(pairs)
    assert unpack(pack(grouped)) == grouped
    assert len(pack(grouped)) == sum(5 + 16 * len(ids) for ids in grouped.values())


@given(refs.flatmap(lambda pairs: st.tuples(st.just(pairs), st.permutations(pairs))))
def test_the_same_set_packs_to_the_same_bytes(
    orders: tuple[list[tuple[ObjectKind, uuid.UUID]], list[tuple[ObjectKind, uuid.UUID]]],
) -> None:
    pairs, shuffled = orders
    assert pack(collect(shuffled)) == pack(collect(pairs))


def test_nothing_packs_to_nothing() -> None:
    assert pack({}) == b""
    assert pack({ObjectKind.ITEM: frozenset()}) == b""
    assert unpack(b"") == {}


def test_kind_codes_are_stable() -> None:
    # The codes are stored: appending kinds is fine, reordering would misread old events.
    one = uuid.UUID(int=1)
    assert pack({ObjectKind.APPOINTMENT: frozenset({one})})[:5] == struct.pack(">BI", 1, 1)
    assert pack({ObjectKind.PATIENT: frozenset({one})})[:5] == struct.pack(">BI", 2, 1)


@pytest.mark.parametrize(
    "packed",
    [
        b"\x01",  # a truncated header
        struct.pack(">BI", 1, 2) + bytes(16),  # fewer ids than counted
        struct.pack(">BI", 200, 1) + bytes(16),  # an unknown kind
        struct.pack(">BI", 1, 0),  # an empty kind
        (struct.pack(">BI", 1, 1) + bytes(16)) * 2,  # a kind twice
    ],
    ids=["header", "short", "unknown", "empty", "twice"],
)
def test_malformed_bytes_are_refused(packed: bytes) -> None:
    with pytest.raises(MalformedObjects):
        unpack(packed)
