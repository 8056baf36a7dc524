"""HTTP routes of sealed records: notes, messages and the re-wrapping of their keys.

Envelopes and wraps travel as base64url text; the server stores them as opaque bytes after checking
their clear headers (``records.services``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import Field

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.limits import SEALED_BODY_LIMIT, body_limit
from colloque.api.schemas import B64, Body, Out
from colloque.practicekeys.groups import CLINICAL, PRACTICE, KeyGroup
from colloque.records import rewrap, threads
from colloque.records.models import ItemKeyWrap
from colloque.records.services import (
    MAX_ENVELOPE_BYTES,
    MAX_PAGE,
    MAX_WRAP_BYTES,
    MAX_WRAPS,
    ItemWithWraps,
)

router = APIRouter(prefix="/api/v1", tags=["records"])

Envelope = Annotated[B64, Field(min_length=1, max_length=MAX_ENVELOPE_BYTES)]
Wrap = Annotated[B64, Field(min_length=1, max_length=MAX_WRAP_BYTES)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]

STAFF_PATIENT = "/practices/{practice_id}/patients/{patient_id}"
HOLDER_PATIENT = "/me/patients/{patient_id}/practices/{practice_id}"


class SealedIn(Body):
    envelope: Envelope
    wraps: list[Wrap] = Field(min_length=1, max_length=MAX_WRAPS)


class CreatedOut(Out):
    item_id: UUID
    created_at: datetime


class WrapOut(Out):
    recipient_kind: str
    #: The account, or the group (the practice's id, or its practitioners' group's for notes).
    recipient_id: UUID
    epoch: int
    wrap: B64


class ItemOut(Out):
    item_id: UUID
    kind: str
    author_account_id: UUID | None
    created_at: datetime
    envelope: B64
    wraps: list[WrapOut]


def _items(found: list[ItemWithWraps]) -> list[ItemOut]:
    return [
        ItemOut(
            item_id=entry.item.item_id,
            kind=entry.item.kind,
            author_account_id=entry.item.author_account_id,
            created_at=entry.item.created_at,
            envelope=entry.item.envelope,
            wraps=[WrapOut.model_validate(wrap) for wrap in entry.wraps],
        )
        for entry in found
    ]


_STAFF_READ = (
    "Practice staff who may see this patient's records read a page, newest first, with the wraps "
    "they can open; `before` pages on. 403 for a role that may not, 404 when not yours."
)
_HOLDER_READ = (
    "The account holder reads what a practice shares about a patient they hold, a page at a time, "
    "newest first. 404 when the patient or practice is not yours."
)
#: Descriptions of the routes made here, by name (operation id).
DESCRIPTIONS = {
    "practice_notes": _STAFF_READ,
    "practice_messages": _STAFF_READ,
    "practice_documents": _STAFF_READ,
    "my_notes": _HOLDER_READ,
    "holder_messages": _HOLDER_READ,
    "my_documents": _HOLDER_READ,
    "write_note": (
        "A practitioner of the practice stores a note sealed on their device for the patient and "
        "the practice group. 409 when the group key must be rotated first, 422 for headers or "
        "wraps that do not match, or an item id that cannot be used (not random, or already used)."
    ),
    "practice_send": (
        "Practice staff send a message sealed on their device. 409 when the group key must be "
        "rotated first, 422 for headers or wraps that do not match, or an item id that cannot be "
        "used (not random, or already used)."
    ),
    "holder_send": (
        "The account holder sends a sealed message for a patient they hold. 409 when the group key "
        "must be rotated first, 422 for headers or wraps that do not match, or an item id that "
        "cannot be used (not random, or already used)."
    ),
}
_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The group key must be rotated first"}
}


def add_page_route(
    target: APIRouter, path: str, *, kind: str, as_holder: bool, name: str, summary: str
) -> None:
    """A route reading a page of sealed items of one kind (notes, messages, documents), newest
    first, from one side (staff or holder). ``name`` is its operation id."""

    def read_items(
        practice_id: UUID,
        patient_id: UUID,
        db: DB,
        clock: ClockDep,
        principal: CurrentPrincipal,
        before: UUID | None = None,
        limit: Limit = 50,
    ) -> list[ItemOut]:
        # A write transaction: reading personal data writes its audit event.
        with db.write() as session:
            return _items(
                threads.read_items(
                    session,
                    now=clock.now(),
                    principal=principal,
                    kind=kind,
                    as_holder=as_holder,
                    practice_id=practice_id,
                    patient_id=patient_id,
                    before=before,
                    limit=limit,
                )
            )

    target.add_api_route(
        path,
        read_items,
        methods=["GET"],
        response_model=list[ItemOut],
        name=name,
        summary=summary,
        description=DESCRIPTIONS[name],
    )


def _thread_routes(
    path: str,
    *,
    kind: str,
    as_holder: bool,
    write: tuple[str, str] | None,
    read: tuple[str, str],
) -> None:
    """The two routes of one thread (notes or messages) seen from one side (staff or holder):
    post a sealed item, and read a page of them, newest first. ``write`` and ``read`` are each
    the route's name (its operation id) and summary; holders do not write notes."""

    def write_item(
        practice_id: UUID,
        patient_id: UUID,
        body: SealedIn,
        db: DB,
        clock: ClockDep,
        principal: CurrentPrincipal,
    ) -> CreatedOut:
        with db.write() as session:
            row = threads.do_write_item(
                session,
                now=clock.now(),
                principal=principal,
                kind=kind,
                as_holder=as_holder,
                practice_id=practice_id,
                patient_id=patient_id,
                envelope=body.envelope,
                wraps=body.wraps,
            )
            return CreatedOut(item_id=row.item_id, created_at=row.created_at)

    if write is not None:
        router.add_api_route(
            path,
            body_limit(SEALED_BODY_LIMIT)(write_item),
            methods=["POST"],
            response_model=CreatedOut,
            status_code=status.HTTP_201_CREATED,
            name=write[0],
            summary=write[1],
            description=DESCRIPTIONS[write[0]],
            responses=_WRITE_RESPONSES,
        )
    add_page_route(router, path, kind=kind, as_holder=as_holder, name=read[0], summary=read[1])


_thread_routes(
    STAFF_PATIENT + "/notes",
    kind=threads.NOTE,
    as_holder=False,
    write=("write_note", "A practitioner's sealed note about a patient of the practice"),
    read=("practice_notes", "Sealed notes, newest first"),
)
_thread_routes(
    HOLDER_PATIENT + "/notes",
    kind=threads.NOTE,
    as_holder=True,
    write=None,
    read=("my_notes", "The notes a practice wrote about a patient you hold"),
)
_thread_routes(
    STAFF_PATIENT + "/messages",
    kind=threads.MESSAGE,
    as_holder=False,
    write=("practice_send", "A sealed message from the practice to a patient"),
    read=("practice_messages", "The conversation, newest first"),
)
_thread_routes(
    HOLDER_PATIENT + "/messages",
    kind=threads.MESSAGE,
    as_holder=True,
    write=("holder_send", "A sealed message from a patient you hold to a practice"),
    read=("holder_messages", "Your conversation with a practice"),
)


# Re-wrapping after a group rotation, re-sharing after a patient's key reset ------------------


class StaleWrapOut(Out):
    item_id: UUID
    #: The group the wrap is for: the practice's id, or its practitioners' group's (notes).
    recipient_id: UUID
    epoch: int
    wrap: B64


class StaleWrapsOut(Out):
    current_epoch: int
    wraps: list[StaleWrapOut]
    #: Pass as ``after`` for the next page; null on the last page.
    next_after: UUID | None


#: Which group's item key wraps: the practice group (default) or the practitioners' (notes).
GroupName = Literal["practice", "clinical"]
_GROUPS: dict[str, KeyGroup] = {"practice": PRACTICE, "clinical": CLINICAL}


class WrapsIn(Body):
    wraps: list[Wrap] = Field(min_length=1, max_length=rewrap.MAX_BATCH)
    #: None (absent): the practice group.
    group: GroupName | None = None


class CountOut(Out):
    stored: int


def _stale(wraps: list[ItemKeyWrap]) -> list[StaleWrapOut]:
    return [StaleWrapOut.model_validate(wrap) for wrap in wraps]


@router.get(
    "/practices/{practice_id}/item-key-wraps/stale",
    response_model=StaleWrapsOut,
    summary="The practice's item key wraps at an older group epoch, by item id",
    description=(
        "Practice members list item key wraps at an older group epoch, to re-wrap them on a device;"
        " `group=clinical`: the practitioners' group's (notes), for practitioners only (403 for "
        "another role)."
    ),
)
def stale_wraps(
    practice_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    after: UUID | None = None,
    limit: Limit = 100,
    group: GroupName = "practice",
) -> StaleWrapsOut:
    with db.write() as session:
        found = rewrap.list_stale_practice_wraps(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            after=after,
            limit=limit,
            group=_GROUPS[group],
        )
        return StaleWrapsOut(
            current_epoch=found.current_epoch,
            wraps=_stale(found.wraps),
            next_after=found.next_after,
        )


@router.post(
    "/practices/{practice_id}/item-key-wraps",
    response_model=CountOut,
    summary="Item keys re-wrapped for the practice's current group epoch",
    description=(
        "Practice members post item keys re-wrapped for the current group epoch. 422 for wraps that"
        " do not match. `group: clinical`: for the practitioners' group (notes), practitioners "
        "only (403 for another role)."
    ),
)
@body_limit(SEALED_BODY_LIMIT)
def post_rewraps(
    practice_id: UUID, body: WrapsIn, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> CountOut:
    with db.write() as session:
        stored = rewrap.do_rewrap_practice_items(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            wraps=body.wraps,
            group=_GROUPS[body.group or "practice"],
        )
        return CountOut(stored=stored)


class ReshareOut(Out):
    holder_account_id: UUID
    holder_epoch: int
    wraps: list[StaleWrapOut]
    next_after: UUID | None


class ReshareIn(Body):
    identity_checked: bool
    wraps: list[Wrap] = Field(min_length=1, max_length=rewrap.MAX_BATCH)


class RecipientsOut(Out):
    #: Seal for this account's current encryption key (proven by the key directory) and the
    #: practice group's; None when no account holds the patient.
    holder_account_id: UUID | None


@router.get(
    STAFF_PATIENT + "/recipients",
    response_model=RecipientsOut,
    summary="Whom a note or message about this patient is sealed for, besides the practice",
    description=(
        "The account that holds a patient of the practice (none for a patient without an "
        "account), so that a member's client seals notes and messages for them too, after "
        "checking their keys in the key directory. Any staff member; 404 when the patient is not "
        "registered at this practice."
    ),
)
def recipients(
    practice_id: UUID, patient_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> RecipientsOut:
    with db.write() as session:
        holder = threads.get_holder(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            patient_id=patient_id,
        )
        return RecipientsOut(holder_account_id=holder)


@router.get(
    STAFF_PATIENT + "/reshare",
    response_model=ReshareOut,
    summary="A patient's items not yet shared with their current keys",
    description=(
        "Practice staff list a patient's items not yet shared with the patient's current keys "
        "(after a key reset)."
    ),
)
def reshare_candidates(
    practice_id: UUID,
    patient_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    after: UUID | None = None,
    limit: Limit = 100,
) -> ReshareOut:
    with db.write() as session:
        found = rewrap.list_reshare(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            patient_id=patient_id,
            after=after,
            limit=limit,
        )
        return ReshareOut(
            holder_account_id=found.holder_account_id,
            holder_epoch=found.holder_epoch,
            wraps=_stale(found.wraps),
            next_after=found.next_after,
        )


@router.post(
    STAFF_PATIENT + "/reshare",
    response_model=CountOut,
    summary="Re-share a patient's items to their new keys, after checking their identity",
    description=(
        "Practice staff re-share a patient's items to their new keys, after checking their "
        "identity. 422 for wraps that do not match."
    ),
)
@body_limit(SEALED_BODY_LIMIT)
def reshare(
    practice_id: UUID,
    patient_id: UUID,
    body: ReshareIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> CountOut:
    with db.write() as session:
        stored = rewrap.do_reshare_patient_items(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            patient_id=patient_id,
            identity_checked=body.identity_checked,
            wraps=body.wraps,
        )
        return CountOut(stored=stored)
