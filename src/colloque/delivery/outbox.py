"""The outbox worker: claim due messages, send them, record the result; retry, then give up.

Claiming is one short transaction: due rows (pending, due, not leased by a live worker) are
locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that workers never wait on each other
nor take the same row; SQLite serializes the whole transaction (``BEGIN IMMEDIATE``). The claim
counts an attempt and leases the rows until ``now + lease``. Each message is then composed
(a read), sent with no transaction open, and its result written in a transaction of its own.

A worker killed at any point leaves its claimed rows leased; once the lease ends another round
takes them over. The one message that can go twice is the one whose sending the SMTP server had
accepted when the worker died, before its result was written: it goes again with the same
Message-ID (and the same idempotency key to the SMS provider), which the recipient's mail
system and the provider treat as the same message (docs/notifications.md).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

import structlog
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from colloque.audit.context import Interface, bind_for_process
from colloque.clock import Clock
from colloque.crypto.errors import CryptoError
from colloque.delivery.channels import Channels
from colloque.delivery.compose import Composed, MailConfig, audit_composed, compose
from colloque.delivery.pauses import alert_admins
from colloque.delivery.recipients import Undeliverable
from colloque.delivery.reminders import ReminderPlanner
from colloque.notifications.account_mail import open_account_mail
from colloque.notifications.interfaces import DeliveryError, OutgoingMail
from colloque.notifications.models import AccountMail, OutboxMessage
from colloque.notifications.rendering import RENDERED_TEMPLATES
from colloque.storage.engine import Database

log = structlog.get_logger("colloque.delivery")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50

    def delay(self, attempts: int, rng: random.Random, retry_after: float | None) -> timedelta:
        """Exponential from ``base``, capped, with jitter in its upper half (so that messages
        that failed together do not all come back together); at least what the server asked."""
        full = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** max(attempts - 1, 0))
        seconds = full / 2 + rng.uniform(0, full / 2)
        if retry_after is not None:
            seconds = max(seconds, retry_after)
        return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.sent + other.sent, self.retried + other.retried, self.failed + other.failed
        )

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


Row = TypeVar("Row", OutboxMessage, AccountMail)


class OutboxDelivery:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        channels: Channels,
        *,
        mail: MailConfig,
        account_mail_key: bytes,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        reminders: ReminderPlanner | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._channels = channels
        self._mail = mail
        self._key = account_mail_key
        self._policy = policy or RetryPolicy()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._reminders = reminders

    # -- rounds ------------------------------------------------------------------------------

    def run_round(self) -> DeliveryReport:
        """Claim and deliver one batch of each kind of message, over one connection; first, alert
        the admins of a practice whose messages the mass-change breaker just held."""
        try:
            self._alert_round()
            self.plan_reminders()
            return self._account_round(None) + self._appointment_round()
        finally:
            self.close()

    def plan_reminders(self) -> int:
        """Queue the reminders whose moment came (``delivery.reminders``), in a transaction."""
        if self._reminders is None:
            return 0
        with self._database.write() as session:
            return self._reminders.plan(session, now=self._clock.now())

    def close(self) -> None:
        self._channels.email.close()
        if self._channels.sms is not None:
            self._channels.sms.close()

    def run_until_idle(self, max_rounds: int = 1_000) -> DeliveryReport:
        total = DeliveryReport()
        for _ in range(max_rounds):
            report = self.run_round()
            total += report
            if report.handled == 0:
                break
        return total

    def deliver_account_mail(self, mail_ids: Sequence[UUID]) -> DeliveryReport:
        """Send these account mails now if they are still due (the request path's fast lane)."""
        if not mail_ids:
            return DeliveryReport()
        try:
            return self._account_round(list(mail_ids))
        finally:
            self._channels.email.close()

    def deliver_account_mail_quietly(self, mail_ids: Sequence[UUID]) -> None:
        """:meth:`deliver_account_mail` for a background task: a failure is left to the worker."""
        try:
            self.deliver_account_mail(mail_ids)
        except Exception as exc:  # the rows stay due; the worker's next round takes them
            log.error("account_mail_fast_lane_failed", error_type=type(exc).__name__)

    def _alert_round(self) -> None:
        with self._database.write() as session:
            alerted = alert_admins(
                session, now=self._clock.now(), key=self._key, public_url=self._mail.public_url
            )
        if alerted:
            log.warning("outbox_mass_change_paused", pauses=alerted)

    # -- appointment messages ----------------------------------------------------------------

    def _appointment_round(self) -> DeliveryReport:
        now = self._clock.now()
        with self._database.write() as session:
            claimed = [
                (row.practice_id, row.message_id)
                for row in self._claim(
                    session,
                    OutboxMessage,
                    now,
                    OutboxMessage.template.in_([t.value for t in RENDERED_TEMPLATES]),
                )
            ]
        report = DeliveryReport()
        for key in claimed:
            report += self._deliver_appointment_message(key)
        return report

    def _deliver_appointment_message(self, key: tuple[UUID, UUID]) -> DeliveryReport:
        try:
            # A write: the read of the patient's contact is audited before the message goes.
            with self._database.write() as session:
                row = session.get(OutboxMessage, key)
                if row is None:  # pragma: no cover - rows are never deleted while leased
                    return DeliveryReport()
                now = self._clock.now()
                composed = compose(session, row, self._mail, now=now)
                audit_composed(session, row, now=now)
        except Undeliverable as exc:
            return self._record(OutboxMessage, key, error=exc.category, permanent=True)
        # Whom it goes to is recorded with the result, so the account's inbox lists it (a retry
        # as "on its way"); the next attempt finds the recipient afresh from the patient.
        account_id = composed.recipient.account_id
        try:
            self._send(composed)
        except DeliveryError as exc:
            return self._record(
                OutboxMessage,
                key,
                error=exc.category,
                permanent=exc.permanent,
                retry_after=exc.retry_after,
                recipient=account_id,
            )
        return self._record(OutboxMessage, key, recipient=account_id)

    def _send(self, composed: Composed) -> None:
        if composed.mail is not None:
            self._channels.email.deliver(self._dated(composed.mail))
        elif composed.sms is not None:
            if self._channels.sms is None:
                raise DeliveryError("no SMS channel", category="no_sms_channel", permanent=True)
            self._channels.sms.deliver(composed.sms)

    def _dated(self, mail: OutgoingMail) -> OutgoingMail:
        return OutgoingMail(
            to=mail.to,
            subject=mail.subject,
            text=mail.text,
            message_id=mail.message_id,
            html=mail.html,
            attachments=mail.attachments,
            date=self._clock.now(),
            headers=mail.headers,
        )

    # -- account mail ------------------------------------------------------------------------

    def _account_round(self, only: list[UUID] | None) -> DeliveryReport:
        now = self._clock.now()
        with self._database.write() as session:
            extra: tuple[ColumnElement[bool], ...] = (
                () if only is None else (AccountMail.mail_id.in_(only),)
            )
            claimed = [row.mail_id for row in self._claim(session, AccountMail, now, *extra)]
        report = DeliveryReport()
        for mail_id in claimed:
            report += self._deliver_account_mail(mail_id)
        return report

    def _deliver_account_mail(self, mail_id: UUID) -> DeliveryReport:
        with self._database.read() as session:
            row = session.get(AccountMail, mail_id)
            if row is None:  # pragma: no cover - rows are never deleted while leased
                return DeliveryReport()
            try:
                message = open_account_mail(row, key=self._key)
            except (CryptoError, ValueError):
                return self._record(AccountMail, mail_id, error="unreadable", permanent=True)
        try:
            self._channels.email.deliver(
                OutgoingMail(
                    to=message.to,
                    subject=message.subject,
                    text=message.text,
                    message_id=self._mail.message_id(mail_id),
                    date=self._clock.now(),
                )
            )
        except DeliveryError as exc:
            return self._record(
                AccountMail,
                mail_id,
                error=exc.category,
                permanent=exc.permanent,
                retry_after=exc.retry_after,
            )
        return self._record(AccountMail, mail_id)

    # -- the shared state machine ------------------------------------------------------------

    def _claim(
        self, session: Session, model: type[Row], now: datetime, *extra: ColumnElement[bool]
    ) -> list[Row]:
        statement = (
            select(model)
            .where(
                model.status == "pending",
                # No due time: a row written by a server older than this worker (a rolling
                # upgrade), due at once.
                or_(model.due_at.is_(None), model.due_at <= now),
                or_(model.leased_until.is_(None), model.leased_until <= now),
                *extra,
            )
            .order_by(model.due_at)
            .limit(self._policy.batch)
            .with_for_update(skip_locked=True)
        )
        rows = list(session.scalars(statement).all())
        for row in rows:
            row.attempts += 1
            row.leased_until = now + self._policy.lease
        return rows

    def _record(
        self,
        model: type[Row],
        key: object,
        *,
        error: str | None = None,
        permanent: bool = False,
        retry_after: float | None = None,
        recipient: UUID | None = None,
    ) -> DeliveryReport:
        now = self._clock.now()
        with self._database.write() as session:
            row = session.get(model, key)
            if row is None:  # pragma: no cover - rows are never deleted while leased
                return DeliveryReport()
            row.leased_until = None
            if isinstance(row, OutboxMessage):
                row.recipient_account_id = recipient
            if error is None:
                row.status = "sent"
                row.sent_at = now
                row.last_error = None
                _wipe(row)
                return DeliveryReport(sent=1)
            row.last_error = error[:48]
            if permanent or row.attempts >= self._policy.max_attempts:
                row.status = "failed"
                _wipe(row)
                log.warning("outbox_message_failed", table=model.__tablename__, error=error)
                return DeliveryReport(failed=1)
            row.due_at = now + self._policy.delay(row.attempts, self._rng, retry_after)
            return DeliveryReport(retried=1)


def _wipe(row: OutboxMessage | AccountMail) -> None:
    """Account mail's sealed content goes once it has no further use."""
    if isinstance(row, AccountMail):
        row.sealed = None


class OutboxWorker:
    """Runs delivery rounds on a daemon thread: every ``interval`` seconds, or at once when
    :meth:`wake` is called (a request just queued mail), until stopped."""

    def __init__(
        self,
        delivery: OutboxDelivery,
        *,
        interval: float,
        on_report: Callable[[DeliveryReport], None] | None = None,
    ) -> None:
        self._delivery = delivery
        self._interval = interval
        self._on_report = on_report
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="colloque-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        bind_for_process(Interface.WORKER)  # a new thread starts from an empty context
        while not self._stop.is_set():
            try:
                report = self._delivery.run_until_idle()
                if self._on_report is not None and report.handled:
                    self._on_report(report)
            except Exception as exc:  # keep the loop alive; the next round retries
                log.error("outbox_round_failed", error_type=type(exc).__name__)
            self._wake.wait(self._interval)
            self._wake.clear()
