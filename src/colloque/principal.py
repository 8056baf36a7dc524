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
    #: Never a membership: an operator's read-only access to one practice, granted by one of its
    #: admins for at most 72 hours (``authorization.services.do_grant_operator_access``).
    OPERATOR = "operator"


#: The roles a practice membership can hold (``practice_members.role``). Inputs that create
#: memberships (invitations) must accept these only, never :attr:`Role.OPERATOR`.
MEMBER_ROLES = frozenset({Role.PRACTITIONER, Role.SECRETARY, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Membership:
    role: Role
    practitioner_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated account (``account_id``) or the anonymous visitor (``None``)."""

    account_id: UUID | None
    #: Practice id -> role there. For an operator, also the practices it holds an active grant
    #: for (role :attr:`Role.OPERATOR`); a real membership of the same practice takes precedence.
    memberships: Mapping[UUID, Membership] = field(default_factory=lambda: MappingProxyType({}))
    is_operator: bool = False
    #: False for a practice member who has not set up (or not passed) MFA: no practice action then.
    mfa_satisfied: bool = True
    #: The session or token this request came with (:func:`credential_id`), for the audit log: a
    #: stolen token is told from its owner's other sessions by it. None in-process (CLI, worker).
    credential_id: UUID | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.account_id is not None

    def role_in(self, practice_id: UUID) -> Role | None:
        membership = self.memberships.get(practice_id)
        return membership.role if membership else None


ANONYMOUS = Principal(account_id=None)


def credential_id(token_hash: bytes) -> UUID:
    """A session's id in the audit log: the first 128 bits of its stored SHA-256 hash. It names the
    session without being a secret (the token cannot be recovered from it), and needs no column."""
    return UUID(bytes=token_hash[:16])
