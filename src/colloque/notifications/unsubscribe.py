"""The one-click unsubscribe links of reminders (RFC 8058): who stops receiving them, signed.

A token names a recipient by an opaque random id, never an address: an account (its own
setting, ``accounts.reminders``) or a patient without an account (the contact the practice
recorded, ``patients.reminders``). It is signed with HMAC-SHA256 under a key of its own
(``ServerKeys.unsubscribe_token``), so it serves this purpose only, and expires: a link in an
old mail does nothing after ``TOKEN_LIFETIME``. It grants one thing, turning reminders off,
which the account turns back on; so it may be repeated and needs no single use.

Layout (then base64url without padding): version (1 byte), kind (1), the id (16), the expiry in
Unix seconds (8, big-endian), the tag over all of them (32).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

TOKEN_LIFETIME = timedelta(days=60)
_VERSION = 1
_BODY = struct.Struct(">BB16sQ")
_TAG_LENGTH = 32


class Subscriber(enum.IntEnum):
    ACCOUNT = 1
    PATIENT = 2


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    kind: Subscriber
    subject_id: UUID


class InvalidToken(Exception):
    """Not a token we signed for this purpose, or expired: one error for all, no detail."""


def _tag(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, b"colloque/unsubscribe\x00" + body, hashlib.sha256).digest()


def make_token(key: bytes, who: Unsubscribe, *, now: datetime) -> str:
    expires = int((now + TOKEN_LIFETIME).timestamp())
    body = _BODY.pack(_VERSION, who.kind.value, who.subject_id.bytes, expires)
    return base64.urlsafe_b64encode(body + _tag(key, body)).rstrip(b"=").decode("ascii")


def open_token(key: bytes, token: str, *, now: datetime) -> Unsubscribe:
    """The recipient a token names; raises :class:`InvalidToken` when forged or expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken from exc
    if len(raw) != _BODY.size + _TAG_LENGTH:
        raise InvalidToken
    body, tag = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(tag, _tag(key, body)):
        raise InvalidToken
    version, kind, subject, expires = _BODY.unpack(body)
    if version != _VERSION or kind not in Subscriber._value2member_map_:
        raise InvalidToken
    if datetime.fromtimestamp(expires, UTC) <= now:
        raise InvalidToken
    return Unsubscribe(kind=Subscriber(kind), subject_id=UUID(bytes=subject))
