"""Byte layouts shared by the envelopes: version and type bytes, fixed-size fields, a bounds-checked reader.

Every envelope starts with ``VERSION`` then an :class:`EnvelopeType` byte (docs/crypto.md, section 2).
"""

from __future__ import annotations

import uuid
from enum import IntEnum

from colloque.crypto.errors import MalformedEnvelope

VERSION = 0x01
UUID_BYTES = 16
MAX_U32 = 2**32 - 1


class EnvelopeType(IntEnum):
    PRIVATE_KEYS_LOGIN = 0x01
    PRIVATE_KEYS_RECOVERY = 0x02
    ITEM = 0x03
    ITEM_KEY_WRAP = 0x04
    GROUP_KEY_WRAP = 0x05
    DOCUMENT = 0x06
    KEY_BINDING = 0x07
    KDF_PARAMS = 0x08
    SERVER_SECRET = 0x09
    KEY_ENDORSEMENT = 0x0A
    MEMBERSHIP = 0x0B
    GROUP_EPOCH = 0x0C


def prefix(envelope_type: EnvelopeType) -> bytes:
    return bytes((VERSION, envelope_type))


def u32(value: int) -> bytes:
    if not 0 <= value <= MAX_U32:
        raise ValueError("value does not fit in 32 bits")
    return value.to_bytes(4, "big")


class Reader:
    """Reads an envelope front to back; any short read or bad prefix raises MalformedEnvelope."""

    def __init__(self, data: bytes, envelope_type: EnvelopeType) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise MalformedEnvelope("envelope must be bytes")
        self._data = bytes(data)
        self._offset = 0
        if self.take(1)[0] != VERSION:
            raise MalformedEnvelope("unsupported envelope version")
        if self.take(1)[0] != envelope_type:
            raise MalformedEnvelope("not an envelope of the expected type")

    def take(self, size: int) -> bytes:
        end = self._offset + size
        if end > len(self._data):
            raise MalformedEnvelope("envelope is too short")
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes=self.take(UUID_BYTES))

    def consumed(self) -> bytes:
        """Every byte read so far (the header, when called just before the ciphertext)."""
        return self._data[: self._offset]

    def rest(self) -> bytes:
        chunk = self._data[self._offset :]
        self._offset = len(self._data)
        return chunk

    def take_all_but(self, size: int) -> bytes:
        """Everything except the last ``size`` bytes (for a trailing signature)."""
        remaining = len(self._data) - self._offset
        if remaining < size:
            raise MalformedEnvelope("envelope is too short")
        return self.take(remaining - size)

    def end(self) -> None:
        if self._offset != len(self._data):
            raise MalformedEnvelope("trailing bytes after the envelope")
