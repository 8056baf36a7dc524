"""Binary values on the wire: unpadded base64url text, as the API's schemas read and write them."""

from __future__ import annotations

import base64


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
