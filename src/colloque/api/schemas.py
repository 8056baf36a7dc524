"""Shared pieces of request and response bodies. Binary values travel as base64url text."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema


def _decode(value: object) -> object:
    if not isinstance(value, str):
        return value  # left to pydantic, which refuses anything but text and bytes
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64url text") from None


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


#: base64url text, unpadded or padded (what :func:`_decode` accepts, but for the odd padding).
B64_PATTERN = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$"

B64 = Annotated[
    bytes,
    BeforeValidator(_decode),
    PlainSerializer(b64, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "contentEncoding": "base64url",
            "format": "base64url",
            "pattern": B64_PATTERN,
            "description": "base64url (RFC 4648 section 5); padding optional",
        }
    ),
]


class Body(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)
