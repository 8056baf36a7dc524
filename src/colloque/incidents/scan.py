"""Which audit events an incident concerns, and what they touched (pure, but for the query).

A suspect is a principal (account), a credential (session or token), a client address (in full,
within its retention, through ``audit_client_addresses``) or prefix, and a time window, in any
combination: an event matches when it meets every criterion given. Each criterion is led by an
index of ``audit_events`` (``(credential_id, at)``, ``(actor_account_id, at)``,
``(client_prefix, at)``, ``(at)``) or of ``audit_client_addresses`` (``(address, at)``), so the
scan reads the suspect's events, not the log.

:class:`Touched` folds the events: what allowed events named (appointments, patients, items, with
the practice each was read in) is what was touched; what denied events named was only tried.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from colloque.audit.addresses import prefix_of
from colloque.audit.models import AuditClientAddress, AuditEvent
from colloque.audit.objects import ObjectKind, unpack
from colloque.audit.services import Outcome
from colloque.errors import InvalidInput

#: Events fetched per round trip: big enough that 10 million events cost few trips, small enough
#: that a batch of packed agendas stays a few megabytes.
BATCH = 20_000


@dataclass(frozen=True, slots=True)
class Suspect:
    account_id: UUID | None = None
    credential_id: UUID | None = None
    address: str | None = None
    prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if all(
            value is None
            for value in (
                self.account_id,
                self.credential_id,
                self.address,
                self.prefix,
                self.since,
                self.until,
            )
        ):
            raise InvalidInput(
                "name an account, a credential, an address, a prefix or a time window",
                field="suspect",
            )
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidInput("the window's start must come before its end", field="since")
        if self.address is not None and prefix_of(self.address) == "other":
            raise InvalidInput("not an IP address", field="address")

    def describe(self) -> dict[str, str]:
        """The criteria as given, for the report."""
        given = {
            "account_id": self.account_id,
            "credential_id": self.credential_id,
            "address": self.address,
            "prefix": self.prefix,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
        }
        return {name: str(value) for name, value in given.items() if value is not None}


_COLUMNS = (
    AuditEvent.at,
    AuditEvent.action,
    AuditEvent.outcome,
    AuditEvent.reason,
    AuditEvent.practice_id,
    AuditEvent.subject_id,
    AuditEvent.object_kind,
    AuditEvent.object_id,
    AuditEvent.objects,
    AuditEvent.credential_id,
    AuditEvent.actor_account_id,
)


SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def _filtered(query: SelectT, suspect: Suspect) -> SelectT:
    # The time bounds go on the joined address table too, so that its (address, at) index
    # bounds the scan when the address leads.
    if suspect.address is not None:
        query = query.join(
            AuditClientAddress, AuditClientAddress.event_id == AuditEvent.event_id
        ).where(AuditClientAddress.address == suspect.address)
        if suspect.since is not None:
            query = query.where(AuditClientAddress.at >= suspect.since)
        if suspect.until is not None:
            query = query.where(AuditClientAddress.at < suspect.until)
    if suspect.credential_id is not None:
        query = query.where(AuditEvent.credential_id == suspect.credential_id)
    if suspect.account_id is not None:
        query = query.where(AuditEvent.actor_account_id == suspect.account_id)
    if suspect.prefix is not None:
        query = query.where(AuditEvent.client_prefix == suspect.prefix)
    if suspect.since is not None:
        query = query.where(AuditEvent.at >= suspect.since)
    if suspect.until is not None:
        query = query.where(AuditEvent.at < suspect.until)
    return query


def count_events(session: Session, suspect: Suspect) -> int:
    """How many events match (for a progress bar's total): the same index, no rows fetched."""
    counted = session.scalar(_filtered(select(func.count()).select_from(AuditEvent), suspect))
    return int(counted or 0)


@dataclass(frozen=True, slots=True)
class EventRow:
    at: datetime
    action: str
    outcome: str
    reason: str | None
    practice_id: UUID | None
    subject_id: UUID | None
    object_kind: str
    object_id: UUID | None
    objects: bytes | None
    credential_id: UUID | None
    actor_account_id: UUID | None


def matching_events(session: Session, suspect: Suspect) -> Iterator[list[EventRow]]:
    """The matching events in batches of :data:`BATCH`, streamed (a server-side cursor on
    PostgreSQL), oldest first."""
    query = _filtered(select(*_COLUMNS), suspect).order_by(AuditEvent.at, AuditEvent.event_id)
    result = session.execute(query.execution_options(yield_per=BATCH))
    for partition in result.partitions():
        yield [EventRow(*row) for row in partition]


#: A patient touched in a practice's context, or in none (an account's own records).
PracticeKey = UUID | None


@dataclass
class Touched:
    """What the matching events name, folded one batch at a time."""

    events: int = 0
    denied: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    actions: Counter[str] = field(default_factory=Counter)
    denied_reasons: Counter[str] = field(default_factory=Counter)
    credentials: set[UUID] = field(default_factory=set)
    accounts: set[UUID] = field(default_factory=set)
    appointments: set[UUID] = field(default_factory=set)
    items: set[UUID] = field(default_factory=set)
    #: Patients named by an event, with the practice the event was in.
    patients: set[tuple[PracticeKey, UUID]] = field(default_factory=set)
    #: What denied events named: tried, not obtained.
    tried: dict[ObjectKind, set[UUID]] = field(default_factory=dict)

    def add(self, batch: list[EventRow]) -> None:
        for event in batch:
            self._add(event)

    def _add(self, event: EventRow) -> None:
        self.events += 1
        if self.first_at is None or event.at < self.first_at:
            self.first_at = event.at
        if self.last_at is None or event.at > self.last_at:
            self.last_at = event.at
        self.actions[event.action] += 1
        if event.credential_id is not None:
            self.credentials.add(event.credential_id)
        if event.actor_account_id is not None:
            self.accounts.add(event.actor_account_id)
        refs = _named(event)
        if event.outcome == Outcome.DENIED:
            self.denied += 1
            self.denied_reasons[event.reason or "unknown"] += 1
            for kind, ids in refs.items():
                self.tried.setdefault(kind, set()).update(ids)
            return
        self.appointments.update(refs.get(ObjectKind.APPOINTMENT, ()))
        self.items.update(refs.get(ObjectKind.ITEM, ()))
        self.patients.update(
            (event.practice_id, patient) for patient in refs.get(ObjectKind.PATIENT, ())
        )


def _named(event: EventRow) -> dict[ObjectKind, frozenset[UUID]]:
    """Every object an event names. Events written before migration 0023 have no ``objects``
    and named their main object and patient alone."""
    if event.objects is not None:
        return unpack(event.objects)
    refs: dict[ObjectKind, set[UUID]] = {}
    if event.object_id is not None and event.object_kind in _KIND_VALUES:
        refs.setdefault(ObjectKind(event.object_kind), set()).add(event.object_id)
    if event.subject_id is not None:
        refs.setdefault(ObjectKind.PATIENT, set()).add(event.subject_id)
    return {kind: frozenset(ids) for kind, ids in refs.items()}


_KIND_VALUES = frozenset(kind.value for kind in ObjectKind)


def scan(
    session: Session, suspect: Suspect, *, progress: Callable[[int], None] | None = None
) -> Touched:
    """Fold every matching event; ``progress`` is told how many events each batch held."""
    touched = Touched()
    for batch in matching_events(session, suspect):
        touched.add(batch)
        if progress is not None:
            progress(len(batch))
    return touched
