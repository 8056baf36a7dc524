"""The drill's search must find a canary in every encoding it claims to cover, or it proves nothing."""

from __future__ import annotations

import base64
import binascii
import json
import os
import urllib.parse

import pytest

from tests.functional.drill.harness import search

CANARY = "CANARY-chest pain é 7f3a"


@pytest.mark.parametrize("prefix", range(5))
def test_finds_base64_at_any_alignment(prefix: int) -> None:
    data = os.urandom(prefix) + CANARY.encode() + os.urandom(7)
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        assert search({"dump": b"x" + encode(data) + b"y"}, [CANARY])


@pytest.mark.parametrize(
    "leaked",
    [
        CANARY.encode(),
        CANARY.encode("utf-16-le"),
        binascii.hexlify(CANARY.encode()),
        binascii.hexlify(CANARY.encode()).upper(),
        urllib.parse.quote(CANARY).encode(),
        json.dumps(CANARY).encode(),
        b"\\x" + binascii.hexlify(CANARY.encode()),  # PostgreSQL bytea in a plain dump
    ],
)
def test_finds_each_plain_encoding(leaked: bytes) -> None:
    findings = search({"log": b"before " + leaked + b" after"}, [CANARY])
    assert findings
    assert findings[0].artifact == "log"


def test_finds_nothing_in_ciphertext() -> None:
    assert search({"dump": os.urandom(1 << 16)}, [CANARY]) == []
