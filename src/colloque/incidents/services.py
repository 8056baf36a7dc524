"""An incident's steps: open it, contain it (end the suspect's sessions and tokens), record the
notifications. Each step is a row of ``incident_steps`` and an audit event naming the incident,
written in the caller's transaction."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accounts.sessions import end_account_sessions, end_credential
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.errors import InvalidInput, NotFound
from colloque.ids import new_id
from colloque.incidents.models import Incident, IncidentStep
from colloque.principal import ANONYMOUS, Principal

#: GDPR article 33(1): the supervisory authority is told within 72 hours of becoming aware.
AUTHORITY_DEADLINE = timedelta(hours=72)
MAX_SUMMARY = 500


class StepKind(enum.StrEnum):
    OPENED = "opened"
    CONTAINED = "contained"
    AUTHORITY_NOTIFIED = "authority_notified"
    PATIENTS_NOTIFIED = "patients_notified"
    REPORTED = "reported"


_ACTIONS = {
    StepKind.OPENED: AuditAction.INCIDENT_OPENED,
    StepKind.CONTAINED: AuditAction.INCIDENT_CONTAINED,
    StepKind.AUTHORITY_NOTIFIED: AuditAction.INCIDENT_NOTIFIED,
    StepKind.PATIENTS_NOTIFIED: AuditAction.INCIDENT_NOTIFIED,
    StepKind.REPORTED: AuditAction.INCIDENT_REPORTED,
}


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    kind: StepKind
    detail: str


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    incident_id: UUID
    detected_at: datetime
    opened_at: datetime
    summary: str
    steps: tuple[Step, ...]

    @property
    def authority_deadline(self) -> datetime:
        return self.detected_at + AUTHORITY_DEADLINE

    def first(self, kind: StepKind) -> datetime | None:
        return next((step.at for step in self.steps if step.kind is kind), None)


def _step(
    session: Session,
    *,
    now: datetime,
    incident_id: UUID,
    kind: StepKind,
    detail: str,
    principal: Principal,
) -> None:
    session.add(
        IncidentStep(step_id=new_id(), incident_id=incident_id, at=now, kind=kind, detail=detail)
    )
    record(
        session,
        at=now,
        action=_ACTIONS[kind],
        principal=principal,
        object_kind=ObjectKind.INCIDENT.value,
        object_id=incident_id,
    )


def do_open_incident(
    session: Session,
    *,
    now: datetime,
    detected_at: datetime,
    summary: str,
    principal: Principal = ANONYMOUS,
) -> UUID:
    summary = summary.strip()
    if not summary or len(summary) > MAX_SUMMARY:
        raise InvalidInput(f"the summary is 1 to {MAX_SUMMARY} characters", field="summary")
    if detected_at > now:
        raise InvalidInput("the detection cannot be in the future", field="detected_at")
    incident_id = new_id()
    session.add(
        Incident(incident_id=incident_id, detected_at=detected_at, opened_at=now, summary=summary)
    )
    session.flush()
    _step(
        session,
        now=now,
        incident_id=incident_id,
        kind=StepKind.OPENED,
        detail=f"detected at {detected_at.isoformat()}",
        principal=principal,
    )
    return incident_id


def _require_incident(session: Session, incident_id: UUID) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("incident not found", field="incident_id")
    return incident


def do_contain(
    session: Session,
    *,
    now: datetime,
    incident_id: UUID,
    credentials: tuple[UUID, ...] = (),
    accounts: tuple[UUID, ...] = (),
    principal: Principal = ANONYMOUS,
) -> int:
    """End the named sessions or tokens and every session of the named accounts; one step per
    credential or account, saying how many ended. Returns the total."""
    _require_incident(session, incident_id)
    if not credentials and not accounts:
        raise InvalidInput("name a credential or an account to contain", field="credential")
    total = 0
    for credential in credentials:
        ended = end_credential(session, credential=credential)
        total += ended
        _step(
            session,
            now=now,
            incident_id=incident_id,
            kind=StepKind.CONTAINED,
            detail=f"credential {credential}: {ended} session(s) ended",
            principal=principal,
        )
    for account_id in accounts:
        ended = end_account_sessions(session, account_id=account_id)
        total += ended
        _step(
            session,
            now=now,
            incident_id=incident_id,
            kind=StepKind.CONTAINED,
            detail=f"account {account_id}: {ended} session(s) and token(s) ended",
            principal=principal,
        )
    return total


def do_record_notified(
    session: Session,
    *,
    now: datetime,
    incident_id: UUID,
    kind: StepKind,
    detail: str,
    principal: Principal = ANONYMOUS,
) -> None:
    if kind not in (StepKind.AUTHORITY_NOTIFIED, StepKind.PATIENTS_NOTIFIED):
        raise InvalidInput("only a notification is recorded this way", field="kind")
    _require_incident(session, incident_id)
    _step(
        session,
        now=now,
        incident_id=incident_id,
        kind=kind,
        detail=detail[:MAX_SUMMARY],
        principal=principal,
    )


def do_record_report(
    session: Session,
    *,
    now: datetime,
    incident_id: UUID,
    detail: str,
    principal: Principal = ANONYMOUS,
) -> None:
    """The report was written (its counts, never its contents)."""
    _require_incident(session, incident_id)
    _step(
        session,
        now=now,
        incident_id=incident_id,
        kind=StepKind.REPORTED,
        detail=detail[:MAX_SUMMARY],
        principal=principal,
    )


def get_incident(session: Session, *, incident_id: UUID) -> IncidentRecord:
    incident = _require_incident(session, incident_id)
    steps = session.scalars(
        select(IncidentStep)
        .where(IncidentStep.incident_id == incident_id)
        .order_by(IncidentStep.at, IncidentStep.step_id)
    )
    return IncidentRecord(
        incident_id=incident.incident_id,
        detected_at=incident.detected_at,
        opened_at=incident.opened_at,
        summary=incident.summary,
        steps=tuple(Step(at=s.at, kind=StepKind(s.kind), detail=s.detail) for s in steps),
    )
