"""Client addresses: the prefix kept for good, the commitment that only the salt opens."""

from __future__ import annotations

import pytest

from colloque.audit.addresses import commitment, prefix_of


@pytest.mark.parametrize(
    ("address", "prefix"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("testclient", "other"),
        ("", "other"),
    ],
)
def test_prefix(address: str, prefix: str) -> None:
    assert prefix_of(address) == prefix


def test_commitment_depends_on_salt_and_address() -> None:
    salt = bytes(range(16))
    assert commitment(salt, "203.0.113.77") == commitment(salt, "203.0.113.77")
    assert commitment(salt, "203.0.113.77") != commitment(salt, "203.0.113.78")
    assert commitment(bytes(16), "203.0.113.77") != commitment(salt, "203.0.113.77")
