"""The unsubscribe token: opaque, signed for this purpose only, expiring; one error for all."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from colloque.notifications.unsubscribe import (
    TOKEN_LIFETIME,
    InvalidToken,
    Subscriber,
    Unsubscribe,
    make_token,
    open_token,
)

KEY = bytes(range(32))
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def test_a_token_opens_to_whom_it_names_until_it_expires() -> None:
    who = Unsubscribe(Subscriber.PATIENT, uuid4())
    token = make_token(KEY, who, now=NOW)
    assert open_token(KEY, token, now=NOW + TOKEN_LIFETIME - timedelta(seconds=1)) == who
    with pytest.raises(InvalidToken):
        open_token(KEY, token, now=NOW + TOKEN_LIFETIME)
    # It holds the id and the expiry only: 16 + 8 bytes, 4 of format, 32 of tag.
    assert len(base64.urlsafe_b64decode(token + "==")) == 58


def _resigned(body: bytes) -> str:
    tag = hmac.new(KEY, b"colloque/unsubscribe\x00" + body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + tag).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "é",
        make_token(bytes(32), Unsubscribe(Subscriber.ACCOUNT, UUID(int=7)), now=NOW),
        make_token(KEY, Unsubscribe(Subscriber.ACCOUNT, UUID(int=8)), now=NOW)[:-4],
        # Well signed, but a version or a kind we do not make.
        _resigned(bytes([2, 1]) + bytes(16) + (2**40).to_bytes(8, "big")),
        _resigned(bytes([1, 9]) + bytes(16) + (2**40).to_bytes(8, "big")),
    ],
)
def test_anything_else_is_one_error(token: str) -> None:
    with pytest.raises(InvalidToken):
        open_token(KEY, token, now=NOW)
