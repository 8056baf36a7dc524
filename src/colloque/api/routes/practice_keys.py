"""HTTP routes of practice key groups (the practice's, and its practitioners' that notes are sealed
to: the same shapes under ``/clinical-key-group``). Members' removal and role changes: members.py."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from colloque.api.deps import DB, ClockDep, CurrentPrincipal, LogDep
from colloque.api.limits import KEY_GROUP_BODY_LIMIT, body_limit
from colloque.api.routes.key_directory import BindingOut, LeafOut
from colloque.api.routes.practice_key_schemas import (
    EpochOut,
    GroupCreateIn,
    GroupLogOut,
    GroupOut,
    HolderOut,
    HoldersOut,
    MemberOut,
    MembershipsAddedOut,
    MembershipsIn,
    MembersOut,
    RotationIn,
    WrapIn,
    WrapOut,
    WrapsAddedOut,
    WrapsIn,
)
from colloque.practicekeys import holders, memberships, reading, services
from colloque.practicekeys.groups import CLINICAL, PRACTICE, KeyGroup

router = APIRouter(prefix="/api/v1/practices/{practice_id}", tags=["practice keys"])


def _wraps(wraps: list[WrapIn]) -> list[services.MemberWrap]:
    return [services.MemberWrap(w.account_id, w.wrap) for w in wraps]


@router.post(
    "/key-group",
    response_model=EpochOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create the practice's key group: its public key and a wrap for every member",
    description=(
        "An admin creates the group key on their device, once the practice's membership chain is "
        "signed, and posts a wrap for every attested member with a key and the group epoch "
        "statement. 409 when the group exists or the membership chain moved on, 422 for no chain "
        "yet or a missing or wrong `statement`, or for missing or extra wraps."
    ),
    responses={409: {"description": "The practice already has a key group"}},
)
@body_limit(KEY_GROUP_BODY_LIMIT)
def create_group(
    practice_id: UUID,
    body: GroupCreateIn,
    db: DB,
    clock: ClockDep,
    log: LogDep,
    principal: CurrentPrincipal,
) -> EpochOut:
    return _create(PRACTICE, practice_id, body, db, clock, log, principal)


def _create(
    group: KeyGroup,
    practice_id: UUID,
    body: GroupCreateIn,
    db: DB,
    clock: ClockDep,
    log: LogDep,
    principal: CurrentPrincipal,
) -> EpochOut:
    with db.write() as session:
        row = services.do_create_group(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            public_key=body.public_key,
            wraps=_wraps(body.wraps),
            log=log,
            statement=body.statement,
            group=group,
        )
        return EpochOut.of(row)


@router.get(
    "/key-group",
    response_model=GroupOut,
    summary="The current group key binding with its proof, and my wraps of every epoch",
    description=(
        "Practice members read the current group binding with its proof and their own wraps of "
        "every epoch."
    ),
)
def group(practice_id: UUID, db: DB, log: LogDep, principal: CurrentPrincipal) -> GroupOut:
    return _group(PRACTICE, practice_id, db, log, principal)


def _group(
    group: KeyGroup, practice_id: UUID, db: DB, log: LogDep, principal: CurrentPrincipal
) -> GroupOut:
    with db.read() as session:
        state = reading.group_state(
            session, principal=principal, practice_id=practice_id, log=log, group=group
        )
        return GroupOut(
            epoch=state.epoch,
            rotation_due=state.rotation_due,
            binding=BindingOut.of(state.binding),
            wraps=[WrapOut(epoch=w.epoch, wrap=w.wrap) for w in state.wraps],
            signed_checkpoint=state.signed_checkpoint,
        )


@router.get(
    "/key-group/members",
    response_model=MembersOut,
    summary="Members with their encryption keys and whether they hold the current group key",
    description=(
        "Practice members list the members, their encryption keys and whether they hold the current"
        " group key."
    ),
)
def members(practice_id: UUID, db: DB, log: LogDep, principal: CurrentPrincipal) -> MembersOut:
    return _members(PRACTICE, practice_id, db, log, principal)


def _members(
    group: KeyGroup, practice_id: UUID, db: DB, log: LogDep, principal: CurrentPrincipal
) -> MembersOut:
    with db.read() as session:
        found = reading.list_members(
            session, principal=principal, practice_id=practice_id, log=log, group=group
        )
        return MembersOut(
            epoch=found.epoch,
            signed_checkpoint=found.signed_checkpoint,
            members=[
                MemberOut(
                    account_id=m.account_id,
                    role=m.role,
                    encryption_key=BindingOut.of(m.key) if m.key is not None else None,
                    wrapped=m.wrapped,
                )
                for m in found.members
            ],
        )


@router.post(
    "/key-group/wraps",
    response_model=WrapsAddedOut,
    summary="Wrap the current group key for members who do not hold it yet",
    description=(
        "An admin wraps the current group key for attested members who do not hold it yet. 409 "
        "when the epoch is no longer current."
    ),
    responses={409: {"description": "The group key has changed"}},
)
@body_limit(KEY_GROUP_BODY_LIMIT)
def add_wraps(
    practice_id: UUID, body: WrapsIn, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> WrapsAddedOut:
    return _add_wraps(PRACTICE, practice_id, body, db, clock, principal)


def _add_wraps(
    group: KeyGroup,
    practice_id: UUID,
    body: WrapsIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> WrapsAddedOut:
    with db.write() as session:
        added = services.do_add_wraps(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            epoch=body.epoch,
            wraps=_wraps(body.wraps),
            group=group,
        )
    return WrapsAddedOut(added=added)


@router.post(
    "/key-group/rotations",
    response_model=EpochOut,
    status_code=status.HTTP_201_CREATED,
    summary="Rotate the group key: the next epoch, wrapped for exactly the remaining members",
    description=(
        "An admin posts the next epoch, wrapped for exactly the remaining attested members, with "
        "the group epoch statement. 409 when the epoch is not the next one or the membership "
        "chain moved on; 422 for no chain yet or a missing or wrong `statement`."
    ),
    responses={409: {"description": "The epoch is not the one after the current one"}},
)
@body_limit(KEY_GROUP_BODY_LIMIT)
def rotate(
    practice_id: UUID,
    body: RotationIn,
    db: DB,
    clock: ClockDep,
    log: LogDep,
    principal: CurrentPrincipal,
) -> EpochOut:
    return _rotate(PRACTICE, practice_id, body, db, clock, log, principal)


def _rotate(
    group: KeyGroup,
    practice_id: UUID,
    body: RotationIn,
    db: DB,
    clock: ClockDep,
    log: LogDep,
    principal: CurrentPrincipal,
) -> EpochOut:
    with db.write() as session:
        row = services.do_rotate_group(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            epoch=body.epoch,
            public_key=body.public_key,
            wraps=_wraps(body.wraps),
            log=log,
            statement=body.statement,
            group=group,
        )
        return EpochOut.of(row)


@router.post(
    "/key-group/memberships",
    response_model=MembershipsAddedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Append signed membership statements to the group's chain (admins)",
    description=(
        "An admin's client signs who holds which role (docs/crypto.md 5.12); the statements enter "
        "the key directory in one append. A removal statement also removes the member. 422 naming "
        "`statements[i]` for a malformed one, another practice, a signer other than the caller's "
        "current key, a signer who is not an admin of the chain, or a role the practice's "
        "membership does not agree with; 409 when the chain has moved on or for the last admin."
    ),
    responses={409: {"description": "The chain has moved on, or the last admin would leave"}},
)
@body_limit(KEY_GROUP_BODY_LIMIT)
def append_memberships(
    practice_id: UUID,
    body: MembershipsIn,
    db: DB,
    clock: ClockDep,
    log: LogDep,
    principal: CurrentPrincipal,
) -> MembershipsAddedOut:
    with db.write() as session:
        removed = memberships.do_append_memberships(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            leaves=body.statements,
            log=log,
        )
    return MembershipsAddedOut(removed=removed)


@router.get(
    "/key-group/memberships",
    response_model=GroupLogOut,
    summary="The group's leaves in the key directory (bindings and signed statements), proven",
    description=(
        "Practice members read every leaf of the group in the key directory, each with its "
        "inclusion proof against the latest checkpoint, also before the group has a key."
    ),
)
def group_log(practice_id: UUID, db: DB, log: LogDep, principal: CurrentPrincipal) -> GroupLogOut:
    with db.read() as session:
        leaves, note = memberships.group_log(
            session, principal=principal, practice_id=practice_id, log=log
        )
    return GroupLogOut(
        chain=[
            LeafOut(leaf=p.leaf, leaf_index=p.leaf_index, inclusion_proof=p.proof) for p in leaves
        ],
        signed_checkpoint=note,
    )


# The practitioners' key group (notes) -----------------------------------------------------------

_PRACTITIONERS_ONLY = (
    " Practitioners only: 403 for a secretary or an admin, 404 for anyone outside the practice."
)


@router.post(
    "/clinical-key-group",
    response_model=EpochOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create the practitioners' key group (notes): its public key and a wrap for each",
    description=(
        "A practitioner creates the key notes are sealed to on their device, once the practice's "
        "membership chain is signed, and posts a wrap for every attested practitioner with a key "
        "and their own group epoch statement. 409 when the group exists or the membership chain "
        "moved on, 422 for no chain yet, a missing or wrong `statement`, or missing or extra "
        "`wraps`." + _PRACTITIONERS_ONLY
    ),
    responses={409: {"description": "The practice already has a practitioners' key group"}},
)
@body_limit(KEY_GROUP_BODY_LIMIT)
def create_clinical_group(
    practice_id: UUID,
    body: GroupCreateIn,
    db: DB,
    clock: ClockDep,
    log: LogDep,
    principal: CurrentPrincipal,
) -> EpochOut:
    return _create(CLINICAL, practice_id, body, db, clock, log, principal)


@router.get(
    "/clinical-key-group",
    response_model=GroupOut,
    summary="The practitioners' group key binding with its proof, and my wraps of every epoch",
    description=(
        "A practitioner reads the current binding of the key notes are sealed to, with its proof, "
        "and their own wraps of every epoch. 404 before a practitioner made the group."
        + _PRACTITIONERS_ONLY
    ),
)
def clinical_group(practice_id: UUID, db: DB, log: LogDep, principal: CurrentPrincipal) -> GroupOut:
    return _group(CLINICAL, practice_id, db, log, principal)


@router.get(
    "/clinical-key-group/members",
    response_model=MembersOut,
    summary="Practitioners with their encryption keys and whether they hold the group key",
    description=(
        "A practitioner lists the practice's practitioners, their encryption keys and whether "
        "they hold the current key of the practitioners' group." + _PRACTITIONERS_ONLY
    ),
)
def clinical_members(
    practice_id: UUID, db: DB, log: LogDep, principal: CurrentPrincipal
) -> MembersOut:
    return _members(CLINICAL, practice_id, db, log, principal)


@router.get(
    "/clinical-key-group/holders",
    response_model=HoldersOut,
    summary="Which practitioners hold the current key of the practitioners' group (staff)",
    description=(
        "Any member of the practice's staff lists its practitioners with whether each holds the "
        "current key of the practitioners' group (`wrapped`): no keys, no wraps. `epoch` is null "
        "before a practitioner made the group. 404 for anyone outside the practice."
    ),
)
def clinical_holders(practice_id: UUID, db: DB, principal: CurrentPrincipal) -> HoldersOut:
    with db.read() as session:
        found = holders.list_clinical_holders(session, principal=principal, practice_id=practice_id)
    return HoldersOut(
        epoch=found.epoch,
        holders=[HolderOut(account_id=h.account_id, wrapped=h.wrapped) for h in found.holders],
    )


@router.post(
    "/clinical-key-group/wraps",
    response_model=WrapsAddedOut,
    summary="Wrap the practitioners' current group key for practitioners who do not hold it",
    description=(
        "A practitioner wraps the current key of the practitioners' group for attested "
        "practitioners who do not hold it yet. 409 when the epoch is no longer current, 422 for "
        "`wraps` of anyone else." + _PRACTITIONERS_ONLY
    ),
    responses={409: {"description": "The group key has changed"}},
)
@body_limit(KEY_GROUP_BODY_LIMIT)
def add_clinical_wraps(
    practice_id: UUID, body: WrapsIn, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> WrapsAddedOut:
    return _add_wraps(CLINICAL, practice_id, body, db, clock, principal)


@router.post(
    "/clinical-key-group/rotations",
    response_model=EpochOut,
    status_code=status.HTTP_201_CREATED,
    summary="Rotate the practitioners' group key, wrapped for exactly the practitioners",
    description=(
        "A practitioner posts the next epoch of the practitioners' group, wrapped for exactly the "
        "attested practitioners, with their group epoch statement. 409 when the epoch is not the "
        "next one or the membership chain moved on; 422 for a missing or wrong `statement` or "
        "`wraps`." + _PRACTITIONERS_ONLY
    ),
    responses={409: {"description": "The epoch is not the one after the current one"}},
)
@body_limit(KEY_GROUP_BODY_LIMIT)
def rotate_clinical(
    practice_id: UUID,
    body: RotationIn,
    db: DB,
    clock: ClockDep,
    log: LogDep,
    principal: CurrentPrincipal,
) -> EpochOut:
    return _rotate(CLINICAL, practice_id, body, db, clock, log, principal)
