"""Documents up to 100 MB: the ciphertext stream in blob storage, its signed description in the database.

Upload is two steps (docs/crypto.md, section 5.3): the client streams the encrypted document
(``PUT .../documents/{id}/content``; the server checks its header names this document and that its
size is one a stream can have), then posts the item envelope that describes it, signed by the
author over the stream's digest. Until then the blob is unreachable: every read starts from the
database row. A stream must be described within the upload grace period (a setting); one never
described is removed by the upkeep (:mod:`colloque.records.upkeep`) once older than that.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action
from colloque.crypto.documents import HEADER_BYTES
from colloque.crypto.errors import CryptoError
from colloque.crypto.items import read_item_header
from colloque.crypto.sealed_documents import (
    MAX_STREAM_BYTES,
    check_stream_size,
    read_stream_header,
)
from colloque.errors import InvalidInput, NotFound, TooLarge, UnusableId
from colloque.ids import is_random
from colloque.principal import Principal
from colloque.records.models import SealedItemRow
from colloque.records.services import item_id_taken, store_sealed_item
from colloque.records.threads import DOCUMENT, held_patient, staff_patient
from colloque.storage.blobs import BlobMissing, BlobStore

BLOB_PREFIX = "documents"


def blob_key(practice_id: UUID, document_id: UUID) -> str:
    return f"{BLOB_PREFIX}/{practice_id}/{document_id}"


def parse_blob_key(key: str) -> tuple[UUID, UUID] | None:
    """The practice and document a key names, or None for a key this module never makes."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != BLOB_PREFIX:
        return None
    try:
        practice_id, document_id = UUID(parts[1]), UUID(parts[2])
    except ValueError:
        return None
    if blob_key(practice_id, document_id) != key:
        return None
    return practice_id, document_id


def _may_add(
    session: Session, principal: Principal, as_holder: bool, practice_id: UUID, patient_id: UUID
) -> None:
    """A practitioner adds to a patient of the practice; the holder shares with a practice that
    knows the patient (as for messages: nobody writes to a practice that never saw them)."""
    if as_holder:
        held_patient(
            session,
            principal,
            Action.PATIENT_DOCUMENT_SHARE,
            practice_id,
            patient_id,
            known_there=True,
        )
    else:
        staff_patient(session, principal, Action.PRACTICE_CLINICAL_WRITE, practice_id, patient_id)


UNUSABLE_DOCUMENT_ID = "this document id cannot be used: draw a new random one (UUID version 4)"


def check_upload(
    session: Session,
    *,
    principal: Principal,
    as_holder: bool,
    practice_id: UUID,
    patient_id: UUID,
    document_id: UUID,
) -> None:
    """May this principal upload this document's stream? Only before its envelope is stored."""
    _may_add(session, principal, as_holder, practice_id, patient_id)
    # As for an item id (records.services): a described document's id, anyone's, answers like
    # a malformed one.
    if item_id_taken(session, document_id) or not is_random(document_id):
        raise UnusableId(UNUSABLE_DOCUMENT_ID, field="document_id")


class StreamFraming:
    """Checks an upload as it arrives, without the key: the first 46 bytes must be the header of
    this document's stream (nothing is passed on before), the total a size a stream can have."""

    def __init__(self, document_id: UUID) -> None:
        self._document_id = document_id
        self._head: bytearray | None = bytearray()
        self.size = 0

    def feed(self, piece: bytes) -> bytes:
        """What to write now (possibly nothing)."""
        self.size += len(piece)
        if self.size > MAX_STREAM_BYTES:
            raise TooLarge("documents are limited to 100 MiB", field="body")
        if self._head is None:
            return piece
        self._head += piece
        if len(self._head) < HEADER_BYTES:
            return b""
        try:
            document_id = read_stream_header(bytes(self._head[:HEADER_BYTES]))
        except CryptoError:
            raise InvalidInput("not an encrypted document", field="body") from None
        if document_id != self._document_id:
            raise InvalidInput("the stream of another document", field="body")
        head, self._head = bytes(self._head), None
        return head

    def finish(self) -> None:
        try:
            check_stream_size(self.size)
        except CryptoError:
            raise InvalidInput("the document stream is incomplete", field="body") from None


def do_store_document(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    as_holder: bool,
    practice_id: UUID,
    patient_id: UUID,
    envelope: bytes,
    wraps: Sequence[bytes],
    blobs: BlobStore,
    upload_grace: timedelta,
) -> SealedItemRow:
    """The description of a document whose stream was uploaded within ``upload_grace``; checked
    like any sealed item. An older stream is refused: the sweep may be removing it."""
    _may_add(session, principal, as_holder, practice_id, patient_id)
    try:
        document_id = read_item_header(envelope).item_id
    except CryptoError:
        raise InvalidInput("not an item envelope", field="envelope") from None
    stream = blobs.stat(blob_key(practice_id, document_id))
    if stream is None:
        raise InvalidInput("upload the document's content first", field="envelope")
    if stream.committed_at < now - upload_grace:
        raise InvalidInput(
            "the document's content was uploaded too long ago: upload it again",
            field="envelope",
        )
    return store_sealed_item(
        session,
        principal=principal,
        practice_id=practice_id,
        patient_id=patient_id,
        kind=DOCUMENT,
        context_id=patient_id,
        envelope=envelope,
        wraps=wraps,
        now=now,
        size_bytes=stream.size,
    )


def open_document_stream(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    as_holder: bool,
    practice_id: UUID,
    patient_id: UUID,
    document_id: UUID,
    blobs: BlobStore,
) -> Iterator[bytes]:
    """The ciphertext of a document the principal may read, as a stream. Audited."""
    if as_holder:
        held_patient(
            session,
            principal,
            Action.PATIENT_RECORDS_VIEW,
            practice_id,
            patient_id,
            known_there=False,
        )
    else:
        staff_patient(session, principal, Action.PRACTICE_CLINICAL_READ, practice_id, patient_id)
    # The patient is the reader's (checked above): their documents only, in one query, so that
    # another patient's document costs what a missing one does.
    found = session.scalar(
        select(SealedItemRow.item_id).where(
            SealedItemRow.practice_id == practice_id,
            SealedItemRow.item_id == document_id,
            SealedItemRow.kind == DOCUMENT,
            SealedItemRow.patient_id == patient_id,
        )
    )
    if found is None:
        raise NotFound("document not found", field="document_id")
    try:
        stream = blobs.open(blob_key(practice_id, document_id))
    except BlobMissing:
        raise NotFound("document not found", field="document_id") from None
    record(
        session,
        at=now,
        action=AuditAction.SEALED_ITEMS_READ,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind=DOCUMENT,
        object_id=document_id,
        objects=[(ObjectKind.ITEM, document_id)],
    )
    return stream
