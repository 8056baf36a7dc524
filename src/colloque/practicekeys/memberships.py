"""Signed membership statements of a practice key group on the server (docs/crypto.md, 5.12).

An admin's client signs who holds which role; the server checks what it can from the clear bytes
(the next sequence and previous hash, the caller's current signing key, an admin of the chain as
signer, a role the practice's membership agrees with, the last admin kept) and appends the
statements to the key directory in one append. A removal statement also performs the removal.
Clients verify the chain themselves: these checks stop mistakes, not a hostile operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from colloque.accounts.models import KeyBundleRow
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.crypto.errors import CryptoError
from colloque.crypto.statements import (
    GENESIS_PREVIOUS,
    MEMBERSHIP_TYPE,
    GroupEpochStatement,
    MembershipStatement,
    Role,
    member_entries,
    member_set_digest,
    verify_group_epoch_signature,
    verify_membership_signature,
)
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.errors import Conflict, InvalidInput, NotFound
from colloque.keydirectory.interfaces import LogSigner
from colloque.keydirectory.models import KeyDirectoryLeaf
from colloque.keydirectory.services import (
    ProvenLeaf,
    publish_bindings,
    signed_checkpoint,
    subject_log,
    tree_size,
)
from colloque.practicekeys.models import PracticeKeyEpoch, PracticeKeyWrap
from colloque.principal import Principal
from colloque.principal import Role as MemberRole
from colloque.scheduling.models import PracticeMember

#: The role a statement attests, as the practice's membership names it.
ROLE_NAMES = {
    Role.PRACTITIONER: MemberRole.PRACTITIONER.value,
    Role.SECRETARY: MemberRole.SECRETARY.value,
    Role.ADMIN: MemberRole.ADMIN.value,
}


_A = {Role.ADMIN: "an admin", Role.PRACTITIONER: "a practitioner"}


def stored_chain(session: Session, *, practice_id: UUID) -> list[MembershipStatement]:
    """The group's membership statements, in sequence order (empty before the genesis)."""
    leaves = session.scalars(
        select(KeyDirectoryLeaf.leaf)
        .where(
            KeyDirectoryLeaf.subject_kind == SubjectKind.GROUP.value,
            KeyDirectoryLeaf.subject_id == practice_id,
            KeyDirectoryLeaf.purpose == MEMBERSHIP_TYPE,
        )
        .order_by(KeyDirectoryLeaf.epoch)
    ).all()
    return [MembershipStatement.from_leaf(leaf) for leaf in leaves]


def attested(chain: Sequence[MembershipStatement]) -> dict[UUID, Role]:
    """Who the chain attests now (removed accounts left out)."""
    roles: dict[UUID, Role] = {}
    for statement in chain:
        roles[statement.member_id] = statement.role
    return {member: role for member, role in roles.items() if role is not Role.REMOVED}


def signed_chain(session: Session, *, practice_id: UUID) -> list[MembershipStatement]:
    """The practice's chain, for a new group epoch: 422 naming ``statement`` before its genesis,
    checked before the wraps, so that an admin is told what to sign first."""
    chain = stored_chain(session, practice_id=practice_id)
    if not chain:
        raise InvalidInput(
            "the practice has no signed memberships: an admin attests them first", field="statement"
        )
    return chain


def remove_membership(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    account_id: UUID,
    must_exist: bool = True,
) -> None:
    """The membership and the member's wraps (of both groups) go, the practice group's current
    epoch becomes rotation-due, and so does the practitioners' group's when the member was a
    practitioner or held its key; never the last admin. ``must_exist=False`` for a signed removal
    of an account already gone."""
    # Lock the admins too, so two admins removing each other cannot both succeed.
    admins = session.scalars(
        select(PracticeMember.account_id)
        .where(
            PracticeMember.practice_id == practice_id,
            PracticeMember.role == MemberRole.ADMIN.value,
        )
        .with_for_update()
    ).all()
    member = session.get(PracticeMember, (practice_id, account_id), with_for_update=True)
    if member is None and must_exist:
        raise NotFound("member not found")
    practitioner = member is not None and member.role == MemberRole.PRACTITIONER.value
    if member is not None:
        if member.role == MemberRole.ADMIN.value and len(admins) <= 1:
            raise Conflict("the last admin of a practice cannot be removed")
        session.delete(member)
    held_clinical = _drop_wraps(session, practice_id, account_id, clinical_only=False)
    _mark_rotation_due(session, practice_id, clinical=False)
    if practitioner or held_clinical:
        _mark_rotation_due(session, practice_id, clinical=True)
    record(
        session,
        at=now,
        action=AuditAction.MEMBER_REMOVED,
        principal=principal,
        practice_id=practice_id,
        object_kind="account",
        object_id=account_id,
    )


def leave_practitioners_group(session: Session, *, practice_id: UUID, account_id: UUID) -> None:
    """The account no longer holds the practitioners' key (it left that role): its wraps of that
    group go, and the group, if the account held any, becomes rotation-due."""
    if _drop_wraps(session, practice_id, account_id, clinical_only=True):
        _mark_rotation_due(session, practice_id, clinical=True)


def _drop_wraps(
    session: Session, practice_id: UUID, account_id: UUID, *, clinical_only: bool
) -> bool:
    """Delete the account's wraps in the practice (of the practitioners' group only, or of both);
    whether it held any of the practitioners' group."""
    held = session.scalar(
        select(PracticeKeyWrap.epoch)
        .where(
            PracticeKeyWrap.practice_id == practice_id,
            PracticeKeyWrap.clinical.is_(True),
            PracticeKeyWrap.account_id == account_id,
        )
        .limit(1)
    )
    wraps = delete(PracticeKeyWrap).where(
        PracticeKeyWrap.practice_id == practice_id, PracticeKeyWrap.account_id == account_id
    )
    if clinical_only:
        wraps = wraps.where(PracticeKeyWrap.clinical.is_(True))
    session.execute(wraps)
    return held is not None


def _mark_rotation_due(session: Session, practice_id: UUID, *, clinical: bool) -> None:
    """The group's current epoch (if it has one) is to be rotated by the next client to act."""
    latest = session.scalars(
        select(PracticeKeyEpoch)
        .where(PracticeKeyEpoch.practice_id == practice_id, PracticeKeyEpoch.clinical == clinical)
        .order_by(PracticeKeyEpoch.epoch.desc())
        .limit(1)
    ).first()
    if latest is not None:
        latest.rotation_due = True


def _signer_key(session: Session, principal: Principal, *, field: str) -> KeyBinding:
    bundle = (
        None if principal.account_id is None else session.get(KeyBundleRow, principal.account_id)
    )
    if bundle is None:
        raise InvalidInput("the caller has no signing key", field=field)
    return KeyBinding(
        SubjectKind.USER, bundle.account_id, KeyPurpose.SIGNING, bundle.epoch, bundle.signing_public
    )


def _check(
    statement: MembershipStatement,
    *,
    field: str,
    practice_id: UUID,
    sequence: int,
    head: bytes,
    roles: dict[UUID, Role],
    members: dict[UUID, str],
    signer: KeyBinding,
) -> None:
    if statement.group_id != practice_id:
        raise InvalidInput("a statement of another practice", field=field)
    if statement.sequence != sequence + 1 or statement.previous != head:
        raise Conflict("the membership chain has moved on; read it again", field=field)
    if statement.signer_id != signer.subject_id:
        raise InvalidInput("statements are signed by the caller", field=field)
    try:
        verify_membership_signature(statement, signer=signer)
    except CryptoError:
        raise InvalidInput("not signed by the caller's current signing key", field=field) from None
    if sequence == 0:
        if (statement.member_id, statement.role) != (statement.signer_id, Role.ADMIN):
            raise InvalidInput("the first statement is an admin attesting themselves", field=field)
    elif roles.get(statement.signer_id) is not Role.ADMIN:
        raise InvalidInput("the signer is not an admin in the chain", field=field)
    if statement.role is Role.REMOVED:
        if statement.member_id not in roles:
            raise InvalidInput("not an attested member", field=field)
    elif members.get(statement.member_id) != ROLE_NAMES[statement.role]:
        raise InvalidInput("not a member of the practice with this role", field=field)
    after = {**roles, statement.member_id: statement.role}
    if Role.ADMIN not in after.values():
        raise Conflict("the last admin of a practice cannot leave", field=field)


def do_append_memberships(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    leaves: Sequence[bytes],
    log: LogSigner,
    field: str | None = None,
) -> list[UUID]:
    """Append the admin's signed statements, in order; a removal also removes the member (the
    membership, their wraps; the group becomes rotation-due), and a member attested in another
    role than practitioner loses any wrap of the practitioners' group (which becomes
    rotation-due). Returns the removed accounts. Errors name ``statements[i]``, or ``field`` when
    the caller sent one statement under that name (a role change)."""
    require(
        principal, Action.PRACTICE_MEMBERSHIP_ATTEST, PracticeTarget(practice_id), what="practice"
    )
    chain = stored_chain(session, practice_id=practice_id)
    roles = attested(chain)
    head = chain[-1].leaf_hash() if chain else GENESIS_PREVIOUS
    signer = _signer_key(session, principal, field=field or "statements")
    members = {
        row.account_id: row.role
        for row in session.execute(
            select(PracticeMember.account_id, PracticeMember.role).where(
                PracticeMember.practice_id == practice_id
            )
        )
    }
    parsed: list[MembershipStatement] = []
    for index, leaf in enumerate(leaves):
        name = field or f"statements[{index}]"
        try:
            statement = MembershipStatement.from_leaf(leaf)
        except CryptoError:
            raise InvalidInput("not a membership statement", field=name) from None
        _check(
            statement,
            field=name,
            practice_id=practice_id,
            sequence=len(chain) + len(parsed),
            head=head,
            roles=roles,
            members=members,
            signer=signer,
        )
        if statement.role is Role.REMOVED:
            roles.pop(statement.member_id)
        else:
            roles[statement.member_id] = statement.role
        head = statement.leaf_hash()
        parsed.append(statement)
    # A duplicate sequence from a concurrent append is refused there (409): one per sequence.
    publish_bindings(session, bindings=parsed, now=now, log=log)
    removed = [s.member_id for s in parsed if s.role is Role.REMOVED]
    # Attested in another role (a role change): the practitioners' key is no longer theirs.
    for account_id in {s.member_id for s in parsed if s.role in (Role.SECRETARY, Role.ADMIN)}:
        leave_practitioners_group(session, practice_id=practice_id, account_id=account_id)
    for account_id in removed:
        remove_membership(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            account_id=account_id,
            must_exist=False,
        )
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_KEY_GROUP_ATTESTED,
        principal=principal,
        practice_id=practice_id,
        object_kind="practice_key_group",
        object_id=practice_id,
    )
    return removed


def group_log(
    session: Session, *, principal: Principal, practice_id: UUID, log: LogSigner
) -> tuple[list[ProvenLeaf], str]:
    """For staff: every leaf of the group (bindings and statements), proven against the latest
    checkpoint, readable before the group has a key (the genesis comes first)."""
    require(principal, Action.PRACTICE_KEYS_VIEW, PracticeTarget(practice_id), what="practice")
    size = tree_size(session)
    leaves = subject_log(session, SubjectKind.GROUP, practice_id, size=size)
    return leaves, signed_checkpoint(session, size=size, log=log)


def _encryption_epochs(session: Session, account_ids: Sequence[UUID]) -> dict[UUID, int]:
    rows = session.execute(
        select(KeyDirectoryLeaf.subject_id, func.max(KeyDirectoryLeaf.epoch).label("epoch"))
        .where(
            KeyDirectoryLeaf.subject_kind == SubjectKind.USER.value,
            KeyDirectoryLeaf.subject_id.in_(account_ids),
            KeyDirectoryLeaf.purpose == KeyPurpose.ENCRYPTION.value,
        )
        .group_by(KeyDirectoryLeaf.subject_id)
    )
    return {row.subject_id: row.epoch for row in rows}


def check_epoch_statement(
    session: Session,
    *,
    principal: Principal,
    group_id: UUID,
    signer_role: Role,
    epoch: int,
    public_key: bytes,
    wrapped: Sequence[UUID],
    leaf: bytes | None,
    chain: Sequence[MembershipStatement],
) -> tuple[GroupEpochStatement, bytes]:
    """The group epoch statement every new epoch needs, with the member entries it covers; 422
    naming ``statement`` when it is missing or wrong. ``chain``: the practice's, from
    :func:`signed_chain`; ``group_id``: the practice's or its practitioners' group.

    Checked from the clear bytes: this group, epoch and key; the caller's current signing key;
    the chain's current sequence (409 when it moved on) and, as signer, a member it attests in
    ``signer_role`` (an admin; a practitioner for the practitioners' group); the digest of exactly
    the wrapped members at their current encryption epochs."""
    if leaf is None:
        raise InvalidInput("a group epoch needs its signed statement", field="statement")
    try:
        statement = GroupEpochStatement.from_leaf(leaf)
    except CryptoError:
        raise InvalidInput("not a group epoch statement", field="statement") from None
    if (statement.group_id, statement.epoch, statement.public_key) != (
        group_id,
        epoch,
        public_key,
    ):
        raise InvalidInput("a statement of another group, epoch or key", field="statement")
    signer = _signer_key(session, principal, field="statements")
    if statement.signer_id != signer.subject_id:
        raise InvalidInput("statements are signed by the caller", field="statement")
    try:
        verify_group_epoch_signature(statement, signer=signer)
    except CryptoError:
        raise InvalidInput(
            "not signed by the caller's current signing key", field="statement"
        ) from None
    if statement.membership_sequence != len(chain):
        raise Conflict("the membership chain has moved on; read it again", field="statement")
    if attested(chain).get(statement.signer_id) is not signer_role:
        raise InvalidInput(f"the signer is not {_A[signer_role]} in the chain", field="statement")
    epochs = _encryption_epochs(session, wrapped)
    members = [(account_id, epochs[account_id]) for account_id in wrapped]
    if member_set_digest(members) != statement.member_digest:
        raise InvalidInput("the statement names other members than the wraps", field="statement")
    return statement, member_entries(members)
