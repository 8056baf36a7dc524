"""Leaf encoding: every column counts, NULL is not empty, no two rows encode alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from colloque.audit.leaf import EventFields, HeadFields, event_leaf, head_leaf, microseconds

AT = datetime(2026, 3, 2, 7, 0, 0, 123_456, tzinfo=UTC)
EVENT = EventFields(
    event_id=UUID(int=1),
    at=AT,
    action="booking:appointment:view",
    actor_account_id=UUID(int=2),
    actor_role="desk",
    credential_id=UUID(int=3),
    interface="api",
    request_id="req-1",
    client_prefix="192.0.2.0/24",
    client_commitment=b"\x05" * 32,
    practice_id=UUID(int=4),
    subject_id=UUID(int=5),
    object_kind="appointment",
    object_id=UUID(int=6),
    objects=b"\x01\x00\x00\x00\x00",
    outcome="allowed",
    reason=None,
)


def test_the_encoding_is_fixed() -> None:
    leaf = event_leaf(EVENT)
    assert leaf[:2] == b"\x01\x01"
    # event_id: present, 16 bytes; then the instant in microseconds, big-endian.
    assert leaf[2:7] == b"\x01\x00\x00\x00\x10"
    assert leaf[7:23] == UUID(int=1).bytes
    assert leaf[23:28] == b"\x01\x00\x00\x00\x08"
    assert int.from_bytes(leaf[28:36], "big") == microseconds(AT) == 1_772_434_800_123_456
    assert leaf.endswith(b"\x01\x00\x00\x00\x07allowed\x00")


@pytest.mark.parametrize("field", EventFields._fields)
def test_every_column_changes_the_leaf(field: str) -> None:
    value = getattr(EVENT, field)
    if isinstance(value, UUID):
        other: Any = UUID(int=value.int + 100)
    elif isinstance(value, datetime):
        other = value + timedelta(microseconds=1)
    elif isinstance(value, str):
        other = value + "x"
    elif isinstance(value, bytes):
        other = value + b"\x00"
    else:
        other = "denied-reason"
    assert event_leaf(EVENT._replace(**{field: other})) != event_leaf(EVENT)


def test_null_and_empty_differ_and_fields_do_not_slide() -> None:
    assert event_leaf(EVENT._replace(objects=None)) != event_leaf(EVENT._replace(objects=b""))
    moved = EVENT._replace(request_id="req-1192.0.2.0/24", client_prefix="")
    assert event_leaf(moved) != event_leaf(EVENT)


def test_instants_are_aware_and_exact() -> None:
    with pytest.raises(ValueError, match="naive"):
        microseconds(datetime(2026, 1, 1))
    assert microseconds(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1


def test_head_leaves() -> None:
    head = HeadFields(UUID(int=7), 3, b"\x09" * 32, AT)
    leaf = head_leaf(head)
    assert leaf[:2] == b"\x02\x01"
    assert len(leaf) == 2 + 16 + 8 + 32 + 8
    with pytest.raises(ValueError, match="bad tree size or root"):
        head_leaf(head._replace(root_hash=b"\x09"))
    with pytest.raises(ValueError, match="bad tree size or root"):
        head_leaf(head._replace(tree_size=-1))
