"""The distinct ids a credential read in a window: a fixed bitmap, one bit per id (pure).

Each id sets bit ``id mod BITS`` (ids are random, so their low bits are uniform); a bit newly
set is a new id. Two ids share a bit with probability n/BITS, so with 16,384 bits a credential
that read 200 distinct persons is credited about 199 (linear counting's collisions: n^2/2m).
The bitmap is 2 KB whatever the reads, so the counter is one row updated in place, where a table
of (credential, id) rows would insert one row per id an agenda returned: the cost stays flat.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

BITS = 16_384
SIZE = BITS // 8


def empty() -> bytes:
    return bytes(SIZE)


def add(sketch: bytes, ids: Iterable[UUID]) -> tuple[bytes, int]:
    """The sketch with ``ids`` added, and how many of them were new to it."""
    bits = bytearray(sketch)
    new = 0
    for object_id in ids:
        index = object_id.int % BITS
        byte, mask = index >> 3, 1 << (index & 7)
        if not bits[byte] & mask:
            bits[byte] |= mask
            new += 1
    return bytes(bits), new


def any_new(sketch: bytes, ids: Iterable[UUID]) -> bool:
    """Whether :func:`add` would count any of ``ids`` as new, without building the new sketch."""
    for object_id in ids:
        index = object_id.int % BITS
        if not sketch[index >> 3] & (1 << (index & 7)):
            return True
    return False
