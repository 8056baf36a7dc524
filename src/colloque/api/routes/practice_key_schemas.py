"""Request and response bodies of the practice key group routes (practice_keys.py)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from colloque.api.routes.key_directory import BindingOut, LeafOut
from colloque.api.schemas import B64, Body, Out
from colloque.practicekeys.models import PracticeKeyEpoch

#: Far above any practice; bounds the request body.
MAX_WRAPS = 5000
MAX_U32 = 2**32 - 1
Key32 = Annotated[B64, Field(min_length=32, max_length=32)]
Epoch = Annotated[int, Field(ge=1, le=MAX_U32)]


class WrapIn(Body):
    account_id: UUID
    wrap: Annotated[B64, Field(min_length=1, max_length=512)]


Wraps = Annotated[list[WrapIn], Field(max_length=MAX_WRAPS)]


#: The epoch's group epoch statement (docs/crypto.md 5.12): required for every epoch (a missing one
#: is the 422 naming it, so that the problem says what to sign).
Statement = Annotated[B64, Field(min_length=1, max_length=512)] | None


class GroupCreateIn(Body):
    public_key: Key32
    wraps: Wraps
    statement: Statement = None


class RotationIn(Body):
    epoch: Epoch
    public_key: Key32
    wraps: Wraps
    statement: Statement = None


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


class MembershipsIn(Body):
    #: Signed membership statements (docs/crypto.md 5.12), in sequence order.
    statements: Annotated[
        list[Annotated[B64, Field(min_length=1, max_length=512)]],
        Field(min_length=1, max_length=MAX_WRAPS),
    ]


class MembershipsAddedOut(Out):
    removed: list[UUID]


class GroupLogOut(Out):
    chain: list[LeafOut]
    signed_checkpoint: str


class MembersOut(Out):
    epoch: int | None
    members: list[MemberOut]
    signed_checkpoint: str


class HolderOut(Out):
    account_id: UUID
    wrapped: bool


class HoldersOut(Out):
    epoch: int | None
    holders: list[HolderOut]
