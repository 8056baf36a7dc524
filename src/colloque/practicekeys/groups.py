"""The two key groups of a practice, described once so that one set of services serves both.

The practice group (every member; its id is the practice's) opens visit reasons, messages and
documents; the practitioners' group (its id derived by ``clinical_group_id``) opens notes, and
only practitioners ever hold its key (docs/crypto.md 5.4). Both share the practice's one signed
membership chain, the tables (``clinical`` tells their rows apart) and the formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from colloque.audit.services import AuditAction
from colloque.authorization.policy import Action
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.statements import Role


@dataclass(frozen=True)
class KeyGroup:
    #: The rows' ``clinical`` column.
    clinical: bool
    view: Action
    manage: Action
    #: Who the chain must attest as the signer of an epoch statement (and so who makes epochs).
    signer_role: Role
    #: Whom the key is wrapped for: attested members with one of these roles.
    member_roles: frozenset[Role]
    #: Said by errors, audit events and logs: never a secret.
    name: str
    not_found: str
    created: AuditAction
    wrapped: AuditAction
    rotated: AuditAction

    def group_id(self, practice_id: UUID) -> UUID:
        return clinical_group_id(practice_id) if self.clinical else practice_id


PRACTICE = KeyGroup(
    clinical=False,
    view=Action.PRACTICE_KEYS_VIEW,
    manage=Action.PRACTICE_KEYS_MANAGE,
    signer_role=Role.ADMIN,
    member_roles=frozenset({Role.PRACTITIONER, Role.SECRETARY, Role.ADMIN}),
    name="practice_key_group",
    not_found="practice key group not found",
    created=AuditAction.PRACTICE_KEY_GROUP_CREATED,
    wrapped=AuditAction.PRACTICE_KEY_GROUP_WRAPPED,
    rotated=AuditAction.PRACTICE_KEY_GROUP_ROTATED,
)

CLINICAL = KeyGroup(
    clinical=True,
    view=Action.PRACTICE_CLINICAL_KEYS_VIEW,
    manage=Action.PRACTICE_CLINICAL_KEYS_MANAGE,
    signer_role=Role.PRACTITIONER,
    member_roles=frozenset({Role.PRACTITIONER}),
    name="clinical_key_group",
    not_found="practitioners' key group not found",
    created=AuditAction.CLINICAL_KEY_GROUP_CREATED,
    wrapped=AuditAction.CLINICAL_KEY_GROUP_WRAPPED,
    rotated=AuditAction.CLINICAL_KEY_GROUP_ROTATED,
)
