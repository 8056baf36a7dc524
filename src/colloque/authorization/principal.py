"""The acting principal that every service function receives."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from uuid import UUID


class Role(enum.StrEnum):
    PRACTITIONER = "practitioner"
    SECRETARY = "secretary"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Membership:
    role: Role
    practitioner_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated account (``account_id``) or the anonymous visitor (``None``)."""

    account_id: UUID | None
    memberships: Mapping[UUID, Membership] = field(default_factory=lambda: MappingProxyType({}))
    is_operator: bool = False
    #: False for a practice member who has not set up (or not passed) MFA: no practice action then.
    mfa_satisfied: bool = True

    @property
    def is_authenticated(self) -> bool:
        return self.account_id is not None

    def role_in(self, practice_id: UUID) -> Role | None:
        membership = self.memberships.get(practice_id)
        return membership.role if membership else None


ANONYMOUS = Principal(account_id=None)
