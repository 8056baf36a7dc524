"""The containment package's contracts: the error a suspended credential gets."""

from __future__ import annotations

from colloque.errors import ColloqueError


class CredentialSuspended(ColloqueError):
    """The session or token was suspended after unusual reading (docs/containment.md): the owner
    signs in again (members with their second factor); their account is not affected."""

    status = 401
    code = "credential-suspended"
    title = "Session suspended"

    def __init__(self) -> None:
        super().__init__(
            "this session was suspended after unusual activity; sign in again "
            "(with your second factor for a practice account)"
        )
