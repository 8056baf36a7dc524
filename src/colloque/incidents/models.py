"""An incident's own record: when it was detected, and each step of the response with its time.

Ids and counts only: what a step says (which credential was revoked, how many sessions ended)
names no person. The steps are also audit events (``ObjectKind.INCIDENT``), so the record of the
response is as tamper-evident as the rest of the log.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

STEP_KINDS = ("opened", "contained", "authority_notified", "patients_notified", "reported")


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    incident_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    #: When the operator became aware of the breach: GDPR article 33's 72 hours run from here.
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: What happened, as the operator describes it (no personal data: it is printed on reports).
    summary: Mapped[str] = mapped_column(String(500))


class IncidentStep(Base):
    __tablename__ = "incident_steps"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in STEP_KINDS) + ")", name="kind"
        ),
        Index("ix_incident_steps_incident_at", "incident_id", "at"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    step_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.incident_id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(24))
    #: What was done, in ids and counts ("credential 5f0c...: 1 session ended").
    detail: Mapped[str] = mapped_column(String(500))
