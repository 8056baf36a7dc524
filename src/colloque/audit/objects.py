"""The objects an audit event names, packed into one compact, canonical value (pure).

A read event names every object it returned: an agenda of a month names hundreds of appointments
and patients. They are stored in one column as ``kind code (1 byte) | count (4 bytes, big-endian)
| ids (16 bytes each, sorted)`` per kind, kinds in code order, so the same set always packs to the
same bytes (the Merkle leaf hashes them) and 1,000 ids take 16 KB, not 1,000 rows.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable, Mapping
from uuid import UUID


class ObjectKind(enum.StrEnum):
    """What an event can name. The codes are part of the stored format: never reuse one."""

    APPOINTMENT = "appointment"
    #: A patient record: an account holder's own, a relative, or a practice's registry entry.
    PATIENT = "patient"
    #: A sealed item (note, message, document, visit reason): the server holds only ciphertext.
    ITEM = "item"
    ACCOUNT = "account"
    PRACTICE = "practice"
    PRACTITIONER = "practitioner"
    WAITLIST_ENTRY = "waitlist_entry"
    WAITLIST_OFFER = "waitlist_offer"
    NOTIFICATION = "notification"
    INVITATION = "invitation"
    OPERATOR_GRANT = "operator_grant"
    OUTBOX_PAUSE = "outbox_pause"
    KEY_GROUP = "key_group"
    INCIDENT = "incident"


_CODES: Mapping[ObjectKind, int] = {kind: code for code, kind in enumerate(ObjectKind, start=1)}
_KINDS: Mapping[int, ObjectKind] = {code: kind for kind, code in _CODES.items()}
_HEAD = struct.Struct(">BI")
_ID_BYTES = 16


class MalformedObjects(ValueError):
    """Stored bytes that do not decode: a verifier names the event."""


ObjectRefs = Mapping[ObjectKind, frozenset[UUID]]


def collect(refs: Iterable[tuple[ObjectKind, UUID]]) -> dict[ObjectKind, frozenset[UUID]]:
    grouped: dict[ObjectKind, set[UUID]] = {}
    for kind, object_id in refs:
        grouped.setdefault(kind, set()).add(object_id)
    return {kind: frozenset(ids) for kind, ids in grouped.items()}


def pack(refs: ObjectRefs) -> bytes:
    parts: list[bytes] = []
    for kind in sorted(refs, key=_CODES.__getitem__):
        ids = sorted(object_id.bytes for object_id in refs[kind])
        if ids:
            parts.append(_HEAD.pack(_CODES[kind], len(ids)))
            parts.extend(ids)
    return b"".join(parts)


def unpack(packed: bytes) -> dict[ObjectKind, frozenset[UUID]]:
    refs: dict[ObjectKind, frozenset[UUID]] = {}
    offset = 0
    view = memoryview(packed)
    while offset < len(view):
        if offset + _HEAD.size > len(view):
            raise MalformedObjects("truncated kind header")
        code, count = _HEAD.unpack_from(view, offset)
        offset += _HEAD.size
        kind = _KINDS.get(code)
        end = offset + count * _ID_BYTES
        if kind is None or kind in refs or count == 0 or end > len(view):
            raise MalformedObjects("unknown, repeated, empty or truncated kind")
        refs[kind] = frozenset(
            UUID(bytes=bytes(view[start : start + _ID_BYTES]))
            for start in range(offset, end, _ID_BYTES)
        )
        offset = end
    return refs
