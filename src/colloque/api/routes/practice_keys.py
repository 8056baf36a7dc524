"""HTTP routes of practice key groups, and of removing a practice member."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response, status
from pydantic import Field

from colloque.api.deps import DB, ClockDep, CurrentPrincipal, LogDep
from colloque.api.limits import KEY_GROUP_BODY_LIMIT, body_limit
from colloque.api.routes.key_directory import BindingOut
from colloque.api.schemas import B64, Body, Out
from colloque.practicekeys import services
from colloque.practicekeys.models import PracticeKeyEpoch

router = APIRouter(prefix="/api/v1/practices/{practice_id}", tags=["practice keys"])
#: Far above any practice; bounds the request body.
MAX_WRAPS = 5000
MAX_U32 = 2**32 - 1
Key32 = Annotated[B64, Field(min_length=32, max_length=32)]
Epoch = Annotated[int, Field(ge=1, le=MAX_U32)]


class WrapIn(Body):
    account_id: UUID
    wrap: Annotated[B64, Field(min_length=1, max_length=512)]


Wraps = Annotated[list[WrapIn], Field(max_length=MAX_WRAPS)]


def _wraps(wraps: list[WrapIn]) -> list[services.MemberWrap]:
    return [services.MemberWrap(w.account_id, w.wrap) for w in wraps]


class GroupCreateIn(Body):
    public_key: Key32
    wraps: Wraps


class RotationIn(Body):
    epoch: Epoch
    public_key: Key32
    wraps: Wraps


class WrapsIn(Body):
    epoch: Epoch
    wraps: Wraps


class EpochOut(Out):
    practice_id: UUID
    epoch: int
    public_key: B64
    leaf_index: int

    @classmethod
    def of(cls, row: PracticeKeyEpoch) -> EpochOut:
        return cls(
            practice_id=row.practice_id,
            epoch=row.epoch,
            public_key=row.public_key,
            leaf_index=row.leaf_index,
        )


class WrapOut(Out):
    epoch: int
    wrap: B64


class GroupOut(Out):
    epoch: int
    rotation_due: bool
    binding: BindingOut
    wraps: list[WrapOut]
    signed_checkpoint: str


class WrapsAddedOut(Out):
    added: int


class MemberOut(Out):
    account_id: UUID
    role: str
    encryption_key: BindingOut | None
    wrapped: bool


class MembersOut(Out):
    epoch: int | None
    members: list[MemberOut]
    signed_checkpoint: str


@router.post(
    "/key-group",
    response_model=EpochOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create the practice's key group: its public key and a wrap for every member",
    description=(
        "A practice member creates the group key on their device and posts a wrap for every member "
        "with a key. 409 when the group exists, 422 for missing or extra wraps."
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
    with db.write() as session:
        row = services.do_create_group(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            public_key=body.public_key,
            wraps=_wraps(body.wraps),
            log=log,
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
    with db.read() as session:
        state = services.group_state(session, principal=principal, practice_id=practice_id, log=log)
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
    with db.read() as session:
        found = services.list_members(
            session, principal=principal, practice_id=practice_id, log=log
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
        "A member wraps the current group key for members who do not hold it yet. 409 when the "
        "epoch is no longer current."
    ),
    responses={409: {"description": "The group key has changed"}},
)
@body_limit(KEY_GROUP_BODY_LIMIT)
def add_wraps(
    practice_id: UUID, body: WrapsIn, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> WrapsAddedOut:
    with db.write() as session:
        added = services.do_add_wraps(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            epoch=body.epoch,
            wraps=_wraps(body.wraps),
        )
    return WrapsAddedOut(added=added)


@router.post(
    "/key-group/rotations",
    response_model=EpochOut,
    status_code=status.HTTP_201_CREATED,
    summary="Rotate the group key: the next epoch, wrapped for exactly the remaining members",
    description=(
        "A member posts the next epoch, wrapped for exactly the remaining members. 409 when the "
        "epoch is not the next one."
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
        )
        return EpochOut.of(row)


@router.delete(
    "/members/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a member (admins; not the last admin); the group key becomes rotation-due",
    description=(
        "Practice admins remove a member; the group key becomes rotation-due. 409 for the last "
        "admin."
    ),
    responses={409: {"description": "The last admin cannot be removed"}},
)
def remove_member(
    practice_id: UUID, account_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> Response:
    with db.write() as session:
        services.do_remove_member(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            account_id=account_id,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
