"""An outbox row made into a message, from current data at delivery time.

Names, the address and the recipient's language are read now, so a renamed practice or a changed
address is what the patient reads. The times told are the event's (the booking, the move from one
time to another, the cancellation and who made it), so each change is told as it happened even if
another followed. Nothing about the visit is read: not the reason, not the visit type, not the
practitioner's specialty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.booking.models import Appointment, AppointmentEvent
from colloque.booking.rules import CancelReason, Status
from colloque.delivery.recipients import Recipient, Undeliverable, patient_of, recipient_of
from colloque.delivery.reminders import local_day, reminder_key, sms_day
from colloque.errors import NotFound
from colloque.notifications.calendar import CalendarEntry, appointment_ics
from colloque.notifications.interfaces import Attachment, OutgoingMail, TextMessage
from colloque.notifications.models import OutboxMessage
from colloque.notifications.rendering import (
    REMINDERS,
    CancelledBy,
    Language,
    Notice,
    Rendered,
    reference_code,
    render,
)
from colloque.notifications.services import Template
from colloque.notifications.unsubscribe import make_token
from colloque.principal import ANONYMOUS
from colloque.scheduling.models import Practice, Practitioner
from colloque.search.availability import list_free_slots

#: A no-show follow-up not sent within this of the appointment is not sent.
NO_SHOW_TOO_LATE = timedelta(days=3)
_CALENDAR_SUMMARY = {Language.FR: "Rendez-vous avec {name}", Language.EN: "Appointment with {name}"}
_PRACTICE_ROLES = frozenset({"practitioner", "secretary", "admin", "system"})
#: Cancellation reasons that mean "the practitioner is away" (an absence, a holiday: what
#: booking/absences.py cancels with): the message offers other times with them.
_AWAY_REASONS = frozenset(
    {CancelReason.PRACTITIONER_UNAVAILABLE.value, CancelReason.PRACTICE_CLOSED.value}
)
#: How many other times the message offers, and how far ahead it looks for them.
OTHER_TIMES = 3
OTHER_TIMES_DAYS = 56


@dataclass(frozen=True, slots=True)
class MailConfig:
    """What the worker needs to write mail: the Message-ID domain and the site's address."""

    domain: str
    public_url: str
    #: Signs the one-click unsubscribe links of reminders (``ServerKeys.unsubscribe_token``).
    unsubscribe_key: bytes | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return self.public_url.split("://", 1)[1]

    def message_id(self, row_id: UUID) -> str:
        return f"<{row_id}@{self.domain}>"

    def inbox_link(self, recipient: Recipient) -> str | None:
        """Where the recipient checks a message's reference: their account's inbox, if any."""
        return f"{self.public_url}/me/notifications" if recipient.account_id else None


@dataclass(frozen=True, slots=True)
class Composed:
    recipient: Recipient
    mail: OutgoingMail | None
    sms: TextMessage | None


def compose(session: Session, row: OutboxMessage, config: MailConfig, *, now: datetime) -> Composed:
    template = Template(row.template)
    if template is Template.MESSAGE_RECEIVED:
        return _compose_message_notice(session, row, config)
    if row.appointment_id is None:
        raise Undeliverable("no_appointment")
    appointment = session.get(Appointment, (row.practice_id, row.appointment_id))
    if appointment is None:
        raise Undeliverable("no_appointment")
    template = Template(row.template)
    if template is Template.NO_SHOW_FOLLOW_UP:
        _check_no_show(appointment, now=now)
    elif appointment.starts_at <= now:
        # Told too late to matter (a worker long down, rows queued before delivery existed):
        # a confirmation of an appointment already begun would only confuse.
        raise Undeliverable("past")
    patient_id = patient_of(patient_id=row.patient_id, appointment=appointment)
    recipient = recipient_of(session, practice_id=row.practice_id, patient_id=patient_id)
    practice = session.get(Practice, row.practice_id)
    practitioner = session.get(Practitioner, appointment.practitioner_id)
    if practice is None or practitioner is None:
        raise Undeliverable("no_appointment")
    held_until = None
    if template is Template.WAITLIST_OFFER:
        # Only an offer still open is worth telling: one accepted, declined or lapsed since it
        # was queued would send the patient to a time that is no longer theirs to take.
        if appointment.status != Status.HELD.value or appointment.hold_expires_at is None:
            raise Undeliverable("offer_closed")
        if appointment.hold_expires_at <= now:
            raise Undeliverable("offer_closed")
        held_until = appointment.hold_expires_at
    event = (
        session.get(AppointmentEvent, (row.practice_id, row.event_id))
        if row.event_id is not None
        else None
    )
    if template in REMINDERS:
        _check_reminder(row, template, appointment, recipient, timezone=practice.timezone)
    starts_at = appointment.starts_at
    previous = None
    if event is not None and template is Template.APPOINTMENT_MOVED:
        previous = event.previous_starts_at
    if event is not None and event.new_starts_at is not None:
        starts_at = event.new_starts_at
    rebook_link = None
    other_times: tuple[datetime, ...] = ()
    practitioner_page = (
        f"{config.public_url}/practitioners/{appointment.practice_id}/{appointment.practitioner_id}"
    )
    if (
        template is Template.APPOINTMENT_CANCELLED
        and event is not None
        and event.reason in _AWAY_REASONS
        and _cancelled_by(appointment, event) is CancelledBy.PRACTICE
    ):
        rebook_link = practitioner_page
        other_times = _other_times(session, appointment, now=now)
    elif template is Template.NO_SHOW_FOLLOW_UP:
        rebook_link = practitioner_page
    name = " ".join(
        p for p in (practitioner.title, practitioner.first_name, practitioner.last_name) if p
    )
    unsubscribe = headers = None
    if template in (Template.REMINDER_WEEK, Template.REMINDER_DAY):
        unsubscribe, headers = _unsubscribe(config, recipient, now=now)
    address = f"{practice.address}, {practice.postcode} {practice.city}"
    notice = Notice(
        template=template,
        language=recipient.language,
        timezone=practice.timezone,
        practitioner=name,
        practice_name=practice.name,
        practice_address=address,
        starts_at=starts_at,
        previous_starts_at=previous,
        cancelled_by=_cancelled_by(appointment, event)
        if template is Template.APPOINTMENT_CANCELLED
        else None,
        held_until=held_until,
        link=f"{config.public_url}/me/appointments",
        inbox_link=config.inbox_link(recipient),
        reference=reference_code(row.message_id),
        rebook_link=rebook_link,
        other_times=other_times,
        unsubscribe=unsubscribe,
    )
    rendered = render(notice)
    attachments: tuple[Attachment, ...] = ()
    if recipient.email and template is Template.APPOINTMENT_CONFIRMED:
        attachments = (
            Attachment(
                filename="rendez-vous.ics"
                if recipient.language is Language.FR
                else "appointment.ics",
                content_type="text/calendar",
                data=appointment_ics(
                    CalendarEntry(
                        appointment_id=appointment.appointment_id,
                        host=config.host,
                        starts_at=appointment.starts_at,
                        ends_at=appointment.ends_at,
                        changed_at=appointment.updated_at,
                        summary=_CALENDAR_SUMMARY[recipient.language].format(name=name),
                        location=f"{practice.name}, {address}",
                    )
                ),
            ),
        )
    return _composed(row, config, recipient, rendered, attachments, headers or ())


def audit_composed(session: Session, row: OutboxMessage, *, now: datetime) -> None:
    """Addressing a message read the patient's contact and their appointment: a read of personal
    data like any other. The worker acts for no account (``ANONYMOUS``; the event's interface
    says ``worker``)."""
    appointment = (
        None
        if row.appointment_id is None
        else session.get(Appointment, (row.practice_id, row.appointment_id))
    )
    refs = [(ObjectKind.NOTIFICATION, row.message_id)]
    if appointment is not None:
        refs.append((ObjectKind.APPOINTMENT, appointment.appointment_id))
    record(
        session,
        at=now,
        action=AuditAction.NOTIFICATION_COMPOSED,
        principal=ANONYMOUS,
        practice_id=row.practice_id,
        subject_id=patient_of(patient_id=row.patient_id, appointment=appointment),
        object_kind="notification",
        object_id=row.message_id,
        objects=refs,
    )


def _compose_message_notice(session: Session, row: OutboxMessage, config: MailConfig) -> Composed:
    """ "You have a new message from <practice>": the practice's name and a link, nothing else
    (the server cannot read the message, and would not say it if it could)."""
    patient_id = patient_of(patient_id=row.patient_id, appointment=None)
    recipient = recipient_of(session, practice_id=row.practice_id, patient_id=patient_id)
    practice = session.get(Practice, row.practice_id)
    if practice is None:
        raise Undeliverable("no_practice")
    notice = Notice(
        template=Template.MESSAGE_RECEIVED,
        language=recipient.language,
        timezone=practice.timezone,
        practice_name=practice.name,
        link=f"{config.public_url}/me/records",
        inbox_link=config.inbox_link(recipient),
        reference=reference_code(row.message_id),
    )
    return _composed(row, config, recipient, render(notice), (), ())


def _composed(
    row: OutboxMessage,
    config: MailConfig,
    recipient: Recipient,
    rendered: Rendered,
    attachments: tuple[Attachment, ...],
    headers: tuple[tuple[str, str], ...],
) -> Composed:
    """The mail when the recipient has an address, else the SMS when they have a phone."""
    mail = sms = None
    template = Template(row.template)
    if template is Template.REMINDER_SMS:
        # The SMS reminder goes to the phone even when an email is known: the emails go too.
        if not recipient.phone:
            raise Undeliverable("no_contact")
        sms = TextMessage(
            to=recipient.phone, text=rendered.sms, idempotency_key=f"colloque-{row.message_id}"
        )
    elif template in REMINDERS and not recipient.email:
        # The email reminders are email only: the SMS of the day has its own row.
        raise Undeliverable("no_contact")
    elif recipient.email:
        mail = OutgoingMail(
            to=recipient.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=config.message_id(row.message_id),
            attachments=attachments,
            headers=headers,
        )
    elif recipient.phone:
        sms = TextMessage(
            to=recipient.phone, text=rendered.sms, idempotency_key=f"colloque-{row.message_id}"
        )
    return Composed(recipient=recipient, mail=mail, sms=sms)


def _check_no_show(appointment: Appointment, *, now: datetime) -> None:
    """Said only of an appointment still marked a no-show, and not days later (a worker long
    down): a late reproach helps nobody."""
    if appointment.status != Status.NO_SHOW.value:
        raise Undeliverable("no_longer_no_show")
    if now - appointment.starts_at > NO_SHOW_TOO_LATE:
        raise Undeliverable("past")


def _other_times(
    session: Session, appointment: Appointment, *, now: datetime
) -> tuple[datetime, ...]:
    """The next free online times with the same practitioner, of the cancelled appointment's
    length (the server never learns the visit type; it knows the duration), from current data."""
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds()) // 60
    try:
        slots = list_free_slots(
            session,
            now=now,
            practice_id=appointment.practice_id,
            practitioner_id=appointment.practitioner_id,
            visit_type_id=None,
            duration_minutes=minutes,
            start=now,
            days=OTHER_TIMES_DAYS,
        )
    except NotFound:
        # No online visit type of this length any more: the message offers the waitlist.
        return ()
    return tuple(slot.start for slot in slots[:OTHER_TIMES])


def _check_reminder(
    row: OutboxMessage,
    template: Template,
    appointment: Appointment,
    recipient: Recipient,
    *,
    timezone: str,
) -> None:
    """A reminder goes only for an appointment still booked at the time it was queued for, whose
    policy and recipient still want reminders."""
    if appointment.status != Status.BOOKED.value:
        raise Undeliverable("not_booked")
    if not appointment.reminders_wanted or not recipient.reminders:
        raise Undeliverable("reminders_off")
    if template is Template.REMINDER_SMS:
        moved = row.dedupe_key is None or sms_day(row.dedupe_key) != local_day(
            appointment.starts_at, timezone
        )
    else:
        moved = row.dedupe_key != reminder_key(template, appointment)
    if moved:
        # Its new time has reminders of its own, queued under a new key.
        raise Undeliverable("moved")


def _unsubscribe(
    config: MailConfig, recipient: Recipient, *, now: datetime
) -> tuple[str | None, tuple[tuple[str, str], ...] | None]:
    """The link and the RFC 8058 headers: a POST to the link turns reminders off."""
    if config.unsubscribe_key is None or recipient.subscriber is None:
        return None, None
    token = make_token(config.unsubscribe_key, recipient.subscriber, now=now)
    link = f"{config.public_url}/unsubscribe/{token}"
    return link, (
        ("List-Unsubscribe", f"<{link}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )


def _cancelled_by(appointment: Appointment, event: AppointmentEvent | None) -> CancelledBy:
    if event is not None:
        return CancelledBy.PRACTICE if event.actor_role in _PRACTICE_ROLES else CancelledBy.PATIENT
    if appointment.status == Status.CANCELLED_BY_PATIENT.value:
        return CancelledBy.PATIENT
    return CancelledBy.PRACTICE
