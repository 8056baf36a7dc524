"""The shared byte-layout helpers."""

from __future__ import annotations

import pytest

from colloque.crypto._encoding import MAX_U32, EnvelopeType, Reader, u32
from colloque.crypto.errors import MalformedEnvelope


def test_u32_bounds() -> None:
    assert u32(MAX_U32) == b"\xff\xff\xff\xff"
    for value in (-1, MAX_U32 + 1):
        with pytest.raises(ValueError, match="32 bits"):
            u32(value)


def test_reader_refuses_what_is_not_bytes() -> None:
    with pytest.raises(MalformedEnvelope):
        Reader("\x01\x08", EnvelopeType.KDF_PARAMS)  # type: ignore[arg-type]


def test_reader_accepts_bytearray_and_memoryview() -> None:
    for data in (bytearray(b"\x01\x08\x07"), memoryview(b"\x01\x08\x07")):
        reader = Reader(data, EnvelopeType.KDF_PARAMS)  # type: ignore[arg-type]
        assert reader.u8() == 7
        reader.end()


def test_every_envelope_type_is_distinct() -> None:
    assert len({t.value for t in EnvelopeType}) == len(EnvelopeType) == 12
