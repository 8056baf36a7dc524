"""Periodic upkeep: rebuild stale search caches, pass lapsed waitlist holds on, purge expired
account data and past anomaly counters, sweep document streams never described, and seal the audit log (the sequencer,
checkpoints and witnesses, ``audit.upkeep.Sealing``).

It runs inside ``colloque serve`` by default (a daemon thread), or alone with
``colloque worker``. Each agenda is rebuilt in its own short transaction, so a slow rebuild never
holds a lock for long, and two workers at once only repeat each other's work.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from colloque.accounts.upkeep import purge_expired_account_data
from colloque.audit.context import Interface, bind_for_process
from colloque.audit.signing import SigningKeyError, signer_from_settings
from colloque.audit.upkeep import Sealing, forget_client_addresses
from colloque.audit.witnesses import FileWitness
from colloque.booking.waitlist.offers import lapse_due_offers
from colloque.clock import Clock
from colloque.config import (
    DEFAULT_AUDIT_ADDRESS_RETENTION_DAYS,
    DEFAULT_DOCUMENT_UPLOAD_GRACE_SECONDS,
    ConfigurationError,
    Settings,
)
from colloque.containment.services import purge_windows
from colloque.keydirectory.exports import export_checkpoints
from colloque.keydirectory.witnesses import HttpWitness
from colloque.principal import ANONYMOUS
from colloque.records.upkeep import sweep_document_blobs
from colloque.search.cache import agendas_due, refresh_agendas
from colloque.storage.blobs import BlobStore
from colloque.storage.engine import Database

log = structlog.get_logger("colloque.worker")


@dataclass(frozen=True, slots=True)
class CycleReport:
    agendas_refreshed: int
    offers_lapsed: int
    #: Document streams never described, and temporary files of cut-off uploads, removed.
    documents_swept: int = 0
    temporaries_removed: int = 0
    #: Audit events integrated into their Merkle logs, and the checkpoint signed (its size).
    audit_integrated: int = 0
    audit_checkpoint: int | None = None


_DEFAULT_GRACE = timedelta(seconds=DEFAULT_DOCUMENT_UPLOAD_GRACE_SECONDS)
#: Counter windows older than this are dropped (longer than any sensible counting window).
COUNTER_RETENTION = timedelta(days=2)
#: Agendas whose search cache one upkeep transaction rebuilds: a few statements for them all.
AGENDAS_PER_REFRESH = 50
_DEFAULT_ADDRESS_RETENTION = timedelta(days=DEFAULT_AUDIT_ADDRESS_RETENTION_DAYS)
#: The documents sweep walks the whole blob directory: hourly is ample against a grace of hours.
DOCUMENT_SWEEP_INTERVAL = timedelta(hours=1)


class SweepSchedule:
    """Hands out the blob store to at most one cycle per :data:`DOCUMENT_SWEEP_INTERVAL`."""

    def __init__(self, blobs: BlobStore | None, clock: Clock) -> None:
        self._blobs = blobs
        self._clock = clock
        self._last: datetime | None = None

    def due(self) -> BlobStore | None:
        now = self._clock.now()
        if self._blobs is None or (
            self._last is not None and now - self._last < DOCUMENT_SWEEP_INTERVAL
        ):
            return None
        self._last = now
        return self._blobs


def run_cycle(
    database: Database,
    clock: Clock,
    *,
    batch: int,
    blobs: BlobStore | None = None,
    document_upload_grace: timedelta = _DEFAULT_GRACE,
    address_retention: timedelta = _DEFAULT_ADDRESS_RETENTION,
    audit: Sealing | None = None,
) -> CycleReport:
    """One round of upkeep; the documents sweep runs when given the ``blobs`` store, the audit
    log's sealing when given ``audit``."""
    with database.write() as session:
        lapsed = lapse_due_offers(session, now=clock.now(), principal=ANONYMOUS)
    with database.write() as session:
        # Expired sessions, codes, recovery grants and throttle windows: nothing kept for nothing.
        purge_expired_account_data(session, now=clock.now())
        # The anomaly counters of past windows (docs/containment.md): the audit log keeps the reads.
        purge_windows(session, before=clock.now() - COUNTER_RETENTION)
    with database.write() as session:
        forget_client_addresses(session, now=clock.now(), retention=address_retention)
    with database.read() as session:
        due = agendas_due(session, now=clock.now(), limit=batch)
    refreshed = 0
    for start in range(0, len(due), AGENDAS_PER_REFRESH):
        # Agendas removed meanwhile are left out.
        with database.write() as session:
            refreshed += len(
                refresh_agendas(
                    session, now=clock.now(), keys=due[start : start + AGENDAS_PER_REFRESH]
                )
            )
    integrated, checkpoint = 0, None
    if audit is not None:
        sealed = audit.run(database, clock)
        integrated, checkpoint = sealed.integrated, sealed.checkpoint
        if audit.file_witness is not None:
            export_checkpoints(database, audit.file_witness)
    swept = temporaries = 0
    if blobs is not None:
        # Last, so that a failing store never holds up the rest of the upkeep.
        sweep = sweep_document_blobs(
            database, blobs=blobs, now=clock.now(), upload_grace=document_upload_grace
        )
        swept, temporaries = sweep.streams_removed, sweep.temporaries_removed
    return CycleReport(
        agendas_refreshed=refreshed,
        offers_lapsed=lapsed,
        documents_swept=swept,
        temporaries_removed=temporaries,
        audit_integrated=integrated,
        audit_checkpoint=checkpoint,
    )


def audit_sealing(settings: Settings) -> Sealing:
    """The audit log's sealing from the settings; ConfigurationError when its signing key cannot
    be used (production refuses to start without one)."""
    try:
        signer = signer_from_settings(settings)
    except SigningKeyError as error:
        raise ConfigurationError(str(error)) from None
    return Sealing(
        signer=signer,
        origin=settings.effective_audit_origin,
        cadence=timedelta(seconds=settings.audit_checkpoint_seconds),
        batch=settings.audit_sequencer_batch,
        round_limit=settings.audit_sequencer_round,
        file_witness=(
            None if settings.audit_witness_dir is None else FileWitness(settings.audit_witness_dir)
        ),
        # The key directory's witnesses: one witness process follows both logs.
        witnesses=[HttpWitness(e.name, e.public_key, e.url) for e in settings.witnesses],
    )


class BackgroundRefresher:
    """Runs :func:`run_cycle` every ``interval`` seconds on a daemon thread until stopped."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        interval: float,
        batch: int,
        blobs: BlobStore | None = None,
        document_upload_grace: timedelta = _DEFAULT_GRACE,
        address_retention: timedelta = _DEFAULT_ADDRESS_RETENTION,
        audit: Sealing | None = None,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._interval = interval
        self._batch = batch
        self._sweeps = SweepSchedule(blobs, clock)
        self._grace = document_upload_grace
        self._address_retention = address_retention
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="colloque-refresher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        bind_for_process(Interface.WORKER)  # a new thread starts from an empty context
        while not self._stop.is_set():
            try:
                report = run_cycle(
                    self._database,
                    self._clock,
                    batch=self._batch,
                    blobs=self._sweeps.due(),
                    document_upload_grace=self._grace,
                    address_retention=self._address_retention,
                    audit=self._audit,
                )
                log_report(report)
            except Exception as exc:  # keep the loop alive; the next cycle retries
                log.error("upkeep_failed", error_type=type(exc).__name__)
            self._stop.wait(self._interval)


def log_report(report: CycleReport) -> None:
    """Counts only: never which practice or document."""
    if (
        report.agendas_refreshed
        or report.offers_lapsed
        or report.documents_swept
        or report.temporaries_removed
        or report.audit_integrated
    ):
        log.info(
            "upkeep_cycle",
            agendas_refreshed=report.agendas_refreshed,
            offers_lapsed=report.offers_lapsed,
            documents_swept=report.documents_swept,
            temporaries_removed=report.temporaries_removed,
            audit_integrated=report.audit_integrated,
            audit_checkpoint=report.audit_checkpoint,
        )
