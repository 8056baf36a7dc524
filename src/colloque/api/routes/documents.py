"""HTTP routes of documents: the stream goes up and down as raw bytes, never whole in memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from colloque.api.deps import DB, ClockDep, CurrentPrincipal, SettingsDep
from colloque.api.limits import SEALED_BODY_LIMIT, body_limit
from colloque.api.routes.records import (
    HOLDER_PATIENT,
    STAFF_PATIENT,
    CreatedOut,
    SealedIn,
    add_page_route,
)
from colloque.crypto.sealed_documents import MAX_STREAM_BYTES
from colloque.errors import TooLarge
from colloque.records import documents, threads
from colloque.storage.blobs import BlobStore, BlobWriter

router = APIRouter(prefix="/api/v1", tags=["records"])

#: An upload reaches the disk through the thread pool in batches of about this much: the event
#: loop never waits on a write, and a request holds at most a batch (plus one piece) in memory.
WRITE_BATCH_BYTES = 1024 * 1024

OCTETS = "application/octet-stream"
_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"content": {OCTETS: {}}, "description": "The encrypted document stream"}
}


def _blob_store(request: Request) -> BlobStore:
    """The store create_app made (the filesystem under the data directory), which the upkeep's
    sweep uses too."""
    store: BlobStore = request.app.state.blob_store
    return store


Blobs = Annotated[BlobStore, Depends(_blob_store)]


def _write_all(writer: BlobWriter, pieces: list[bytes]) -> None:
    for piece in pieces:
        writer.write(piece)


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}},
    }
}
_DESCRIBED: dict[int | str, dict[str, Any]] = {
    409: {"description": "The group key must be rotated first"}
}


async def _upload(
    request: Request,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    blobs: BlobStore,
    *,
    as_holder: bool,
    practice_id: UUID,
    patient_id: UUID,
    document_id: UUID,
) -> Response:
    def check() -> None:
        with db.read() as session:
            documents.check_upload(
                session,
                principal=principal,
                as_holder=as_holder,
                practice_id=practice_id,
                patient_id=patient_id,
                document_id=document_id,
            )

    await run_in_threadpool(check)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_STREAM_BYTES:
        raise TooLarge("documents are limited to 100 MiB", field="body")
    framing = documents.StreamFraming(document_id)
    writer = blobs.create(documents.blob_key(practice_id, document_id))
    pending: list[bytes] = []
    pending_bytes = 0
    try:
        async for piece in request.stream():
            data = framing.feed(piece)
            if data:
                pending.append(data)
                pending_bytes += len(data)
            if pending_bytes >= WRITE_BATCH_BYTES:
                await run_in_threadpool(_write_all, writer, pending)
                pending, pending_bytes = [], 0
        framing.finish()
        await run_in_threadpool(_write_all, writer, pending)
        await run_in_threadpool(lambda: writer.commit(at=clock.now()))
    except BaseException:
        # Here, not in the thread pool: a cancelled request could not await it. Closing and
        # unlinking one file is quick; a process killed first leaves the temporary file to the
        # upkeep's sweep.
        writer.abort()
        raise
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    STAFF_PATIENT + "/documents/{document_id}/content",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Upload a document's encrypted stream (body: raw bytes), before its envelope",
    openapi_extra=_UPLOAD_BODY,
    description=(
        "Practice staff upload a document's encrypted stream (raw bytes, at most 100 MiB) before "
        "posting its sealed description. 413 past the limit, 422 when the document id cannot be "
        "used (not random, or already used: the same answer)."
    ),
)
@body_limit(None)  # a raw stream, limited by the route itself (MAX_STREAM_BYTES)
async def upload_document(
    practice_id: UUID,
    patient_id: UUID,
    document_id: UUID,
    request: Request,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    blobs: Blobs,
) -> Response:
    return await _upload(
        request,
        db,
        clock,
        principal,
        blobs,
        as_holder=False,
        practice_id=practice_id,
        patient_id=patient_id,
        document_id=document_id,
    )


@router.put(
    HOLDER_PATIENT + "/documents/{document_id}/content",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Upload the encrypted stream of a document you share with a practice",
    openapi_extra=_UPLOAD_BODY,
    description=(
        "The account holder uploads the encrypted stream (raw bytes, at most 100 MiB) of a "
        "document about a patient they hold, for a practice that knows the patient, before "
        "posting its sealed description. 413 past the limit, 422 when the document id cannot be "
        "used (not random, or already used: the same answer), 404 when the patient or practice "
        "is not yours."
    ),
)
@body_limit(None)  # a raw stream, limited by the route itself (MAX_STREAM_BYTES)
async def holder_upload(
    practice_id: UUID,
    patient_id: UUID,
    document_id: UUID,
    request: Request,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    blobs: Blobs,
) -> Response:
    return await _upload(
        request,
        db,
        clock,
        principal,
        blobs,
        as_holder=True,
        practice_id=practice_id,
        patient_id=patient_id,
        document_id=document_id,
    )


def _describe(
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    blobs: BlobStore,
    body: SealedIn,
    *,
    as_holder: bool,
    practice_id: UUID,
    patient_id: UUID,
) -> CreatedOut:
    with db.write() as session:
        row = documents.do_store_document(
            session,
            now=clock.now(),
            principal=principal,
            as_holder=as_holder,
            practice_id=practice_id,
            patient_id=patient_id,
            envelope=body.envelope,
            wraps=body.wraps,
            blobs=blobs,
            upload_grace=settings.document_upload_grace,
        )
        return CreatedOut(item_id=row.item_id, created_at=row.created_at)


@router.post(
    STAFF_PATIENT + "/documents",
    response_model=CreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="The sealed description of an uploaded document",
    description=(
        "Practice staff post the sealed description of an uploaded stream. 409 when the group key "
        "must be rotated first, 422 when the id cannot be used (not random, or already used)."
    ),
    responses=_DESCRIBED,
)
@body_limit(SEALED_BODY_LIMIT)
def describe_document(
    practice_id: UUID,
    patient_id: UUID,
    body: SealedIn,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    blobs: Blobs,
) -> CreatedOut:
    return _describe(
        db,
        clock,
        settings,
        principal,
        blobs,
        body,
        as_holder=False,
        practice_id=practice_id,
        patient_id=patient_id,
    )


@router.post(
    HOLDER_PATIENT + "/documents",
    response_model=CreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="The sealed description of a document you shared with a practice",
    description=(
        "The account holder posts the sealed description of a stream they uploaded, sealed for "
        "themselves and the practice group. 409 when the group key must be rotated first, 422 "
        "when the id cannot be used (not random, or already used), 404 when the patient or "
        "practice is not yours."
    ),
    responses=_DESCRIBED,
)
@body_limit(SEALED_BODY_LIMIT)
def holder_describe(
    practice_id: UUID,
    patient_id: UUID,
    body: SealedIn,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    blobs: Blobs,
) -> CreatedOut:
    return _describe(
        db,
        clock,
        settings,
        principal,
        blobs,
        body,
        as_holder=True,
        practice_id=practice_id,
        patient_id=patient_id,
    )


add_page_route(
    router,
    STAFF_PATIENT + "/documents",
    kind=threads.DOCUMENT,
    as_holder=False,
    name="practice_documents",
    summary="A patient's documents (their sealed descriptions), newest first",
)
add_page_route(
    router,
    HOLDER_PATIENT + "/documents",
    kind=threads.DOCUMENT,
    as_holder=True,
    name="my_documents",
    summary="The documents a practice keeps about a patient you hold",
)


def _download(
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    blobs: BlobStore,
    *,
    as_holder: bool,
    practice_id: UUID,
    patient_id: UUID,
    document_id: UUID,
) -> StreamingResponse:
    with db.write() as session:
        stream: Iterator[bytes] = documents.open_document_stream(
            session,
            now=clock.now(),
            principal=principal,
            as_holder=as_holder,
            practice_id=practice_id,
            patient_id=patient_id,
            document_id=document_id,
            blobs=blobs,
        )
    return StreamingResponse(stream, media_type=OCTETS)


@router.get(
    STAFF_PATIENT + "/documents/{document_id}/content",
    response_class=StreamingResponse,
    responses=_STREAM,
    summary="Download a document's encrypted stream",
    description=(
        "Practice staff download a document's encrypted stream. 404 when it is not there or not "
        "yours."
    ),
)
def practice_download(
    practice_id: UUID,
    patient_id: UUID,
    document_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    blobs: Blobs,
) -> StreamingResponse:
    return _download(
        db,
        clock,
        principal,
        blobs,
        as_holder=False,
        practice_id=practice_id,
        patient_id=patient_id,
        document_id=document_id,
    )


@router.get(
    HOLDER_PATIENT + "/documents/{document_id}/content",
    response_class=StreamingResponse,
    responses=_STREAM,
    summary="Download a document about a patient you hold (encrypted stream)",
    description=(
        "The account holder downloads a document about a patient they hold. 404 when it is not "
        "there or not yours."
    ),
)
def holder_download(
    practice_id: UUID,
    patient_id: UUID,
    document_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    blobs: Blobs,
) -> StreamingResponse:
    return _download(
        db,
        clock,
        principal,
        blobs,
        as_holder=True,
        practice_id=practice_id,
        patient_id=patient_id,
        document_id=document_id,
    )
