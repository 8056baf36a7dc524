"""Client addresses in the audit log: in full for a retention period, then only a prefix (pure).

The event row, which the Merkle log commits to, holds the address's network prefix (/24 for
IPv4, /48 for IPv6) and a salted SHA-256 commitment to the full address. The full address and its
salt sit in a side table (``audit_client_addresses``) that upkeep deletes after
``COLLOQUE_AUDIT_ADDRESS_RETENTION_DAYS``. Until then an investigator can search by address and
the commitment proves the stored address is the one logged; afterwards only the prefix is left,
and the deleted salt makes the commitment useless for guessing the address back.
"""

from __future__ import annotations

import hashlib
import ipaddress

SALT_BYTES = 16
IPV4_PREFIX = 24
IPV6_PREFIX = 48


def prefix_of(address: str) -> str:
    """The network an address belongs to, or a fixed word for what is not an IP address (a test
    client's ``testclient``, a Unix socket)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return "other"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    bits = IPV4_PREFIX if parsed.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{bits}", strict=False))


def commitment(salt: bytes, address: str) -> bytes:
    return hashlib.sha256(salt + address.encode("utf-8")).digest()
