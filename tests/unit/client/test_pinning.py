"""Pinning the key directory takes what the demo prints, and refuses anything else at once."""

from __future__ import annotations

import base64

import pytest

from colloque.client import ColloqueClient
from colloque.client.pins import pinned_log_key

KEY = bytes(range(32))


@pytest.mark.parametrize(
    "given",
    [
        KEY,
        bytearray(KEY),
        base64.b64encode(KEY).decode(),
        base64.urlsafe_b64encode(KEY).decode().rstrip("="),
        " " + base64.b64encode(KEY).decode() + "\n",
    ],
)
def test_bytes_and_base64_text_pin_the_same_key(given: bytes | str) -> None:
    with ColloqueClient("http://127.0.0.1:9") as client:
        directory = client.pin_key_directory(origin="colloque.test/log", log_public_key=given)
    assert directory.log_public_key == KEY
    assert directory.origin == "colloque.test/log"


@pytest.mark.parametrize(
    ("origin", "key", "error", "message"),
    [
        ("o", 12, TypeError, "log_public_key must be bytes or base64 str, not int"),
        ("o", None, TypeError, "not NoneType"),
        (b"o", KEY, TypeError, "origin must be str, not bytes"),
        ("  ", KEY, ValueError, "origin must not be empty"),
        ("o", "not base64!", ValueError, "not base64"),
        ("o", base64.b64encode(KEY[:31]).decode(), ValueError, "32 bytes, not 31"),
        ("o", KEY + b"x", ValueError, "32 bytes, not 33"),
    ],
)
def test_wrong_pins_are_refused_at_once(
    origin: object, key: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        pinned_log_key(origin, key)
