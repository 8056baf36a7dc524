"""The bytes a Merkle leaf commits to: one audit event, or one log's head (pure).

An event leaf covers every column of its ``audit_events`` row, so that changing any of them
changes the leaf hash. Each field is written as a presence byte (0 for NULL) then, when present,
a 4-byte big-endian length and the bytes: NULL and the empty value differ, and no two rows
encode alike. Identifiers are their 16 bytes, instants a signed 8-byte count of microseconds
since 1970-01-01 UTC, text UTF-8. The leading type and version bytes keep event leaves, head
leaves and any later format apart (docs/audit.md, "Leaves").
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

#: The first two bytes of every leaf: its type, then its format's version.
EVENT_LEAF_V1 = b"\x01\x01"
HEAD_LEAF_V1 = b"\x02\x01"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_LENGTH = struct.Struct(">I")
_INSTANT = struct.Struct(">q")
_SIZE = struct.Struct(">Q")


class EventFields(NamedTuple):
    """An ``audit_events`` row, in the column order :data:`EVENT_COLUMNS` selects it."""

    event_id: UUID
    at: datetime
    action: str
    actor_account_id: UUID | None
    actor_role: str
    credential_id: UUID | None
    interface: str
    request_id: str | None
    client_prefix: str | None
    client_commitment: bytes | None
    practice_id: UUID | None
    subject_id: UUID | None
    object_kind: str
    object_id: UUID | None
    objects: bytes | None
    outcome: str
    reason: str | None


EVENT_COLUMNS = EventFields._fields


def microseconds(at: datetime) -> int:
    """An instant as whole microseconds since the epoch (exact: no float on the way)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime refused: instants must be timezone-aware")
    return (at - _EPOCH) // _MICROSECOND


_NULL = b"\x00"
_ID_HEAD = b"\x01" + _LENGTH.pack(16)
_INSTANT_HEAD = b"\x01" + _LENGTH.pack(_INSTANT.size)


def _id(value: UUID | None) -> bytes:
    return _NULL if value is None else _ID_HEAD + value.bytes


def _instant(value: datetime) -> bytes:
    return _INSTANT_HEAD + _INSTANT.pack(microseconds(value))


def _text(value: str | None) -> bytes:
    return _NULL if value is None else _raw(value.encode("utf-8"))


def _raw(value: bytes | None) -> bytes:
    return _NULL if value is None else b"\x01" + _LENGTH.pack(len(value)) + bytes(value)


# One encoder per column, in EventFields order: a verifier encodes millions of rows.
_ENCODERS: tuple[Callable[[Any], bytes], ...] = (
    _id,  # event_id
    _instant,  # at
    _text,  # action
    _id,  # actor_account_id
    _text,  # actor_role
    _id,  # credential_id
    _text,  # interface
    _text,  # request_id
    _text,  # client_prefix
    _raw,  # client_commitment
    _id,  # practice_id
    _id,  # subject_id
    _text,  # object_kind
    _id,  # object_id
    _raw,  # objects
    _text,  # outcome
    _text,  # reason
)


def event_leaf(event: EventFields) -> bytes:
    return EVENT_LEAF_V1 + b"".join(
        [encode(value) for encode, value in zip(_ENCODERS, event, strict=True)]
    )


class HeadFields(NamedTuple):
    """One leaf of the log of heads: log ``log_id`` had ``tree_size`` leaves and this root when
    the sequencer integrated up to it, ``at``."""

    log_id: UUID
    tree_size: int
    root_hash: bytes
    at: datetime


def head_leaf(head: HeadFields) -> bytes:
    if len(head.root_hash) != 32 or not 0 <= head.tree_size < 2**63:
        raise ValueError("bad tree size or root hash")
    return (
        HEAD_LEAF_V1
        + head.log_id.bytes
        + _SIZE.pack(head.tree_size)
        + head.root_hash
        + _INSTANT.pack(microseconds(head.at))
    )
