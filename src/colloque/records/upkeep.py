"""The documents sweep: streams uploaded but never described, and what cut-off uploads left.

For the background worker (``colloque.worker``); idempotent, safe to run from two processes.

Why it never removes a described document's stream: the description endpoint refuses a stream
committed more than the grace period ago (:func:`colloque.records.documents.do_store_document`),
and the sweep only considers streams committed more than the grace period *plus*
:data:`COMMIT_MARGIN` before an instant taken before it looks for their rows. A description that
passed its check therefore commits its row at least the margin before the sweep looks, unless its
transaction takes longer than the margin. A stream committed again after the sweep listed it is
judged again, at the instant of removal, by :meth:`BlobStore.delete_if_committed_before`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from uuid import UUID

from sqlalchemy import select

from colloque.records.documents import BLOB_PREFIX, parse_blob_key
from colloque.records.models import SealedItemRow
from colloque.storage.blobs import BlobInfo, BlobStore
from colloque.storage.engine import Database

#: Far longer than a description's transaction, and than the clocks of two servers differ.
COMMIT_MARGIN = timedelta(hours=1)
#: Streams looked up in the database per query.
SWEEP_BATCH = 500


@dataclass(frozen=True, slots=True)
class DocumentSweep:
    streams_removed: int
    temporaries_removed: int


def sweep_document_blobs(
    database: Database,
    *,
    blobs: BlobStore,
    now: datetime,
    upload_grace: timedelta,
    batch: int = SWEEP_BATCH,
) -> DocumentSweep:
    """Remove the streams with no row that were committed before ``now - upload_grace -
    COMMIT_MARGIN``, then the temporary files untouched since ``now - upload_grace``.

    ``now`` must be taken before this call: the rows it looks for are those committed by then.
    """
    cutoff = now - upload_grace - COMMIT_MARGIN
    old = (info for info in blobs.scan(BLOB_PREFIX) if info.committed_at < cutoff)
    removed = 0
    for chunk in _chunks(old, batch):
        # Any row under the practice and id keeps the stream, whatever its kind: when in doubt,
        # keep the bytes.
        candidates: dict[tuple[UUID, UUID], str] = {}
        for info in chunk:
            ids = parse_blob_key(info.key)
            if ids is not None:
                candidates[ids] = info.key
        if not candidates:
            continue
        with database.read() as session:
            rows = session.execute(
                select(SealedItemRow.practice_id, SealedItemRow.item_id).where(
                    SealedItemRow.item_id.in_([document for _, document in candidates])
                )
            )
            described = {(practice, item) for practice, item in rows}
        for ids, key in candidates.items():
            if ids not in described and blobs.delete_if_committed_before(key, cutoff):
                removed += 1
    temporaries = blobs.remove_stale_temporaries(now - upload_grace)
    return DocumentSweep(streams_removed=removed, temporaries_removed=temporaries)


def _chunks(items: Iterable[BlobInfo], size: int) -> Iterator[list[BlobInfo]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
