"""Who receives a message: only ever the patient the message is about.

The recipient is never stored in the outbox. It is found at delivery from the patient: their
holder account's address (for a relative, the account that manages them), or, for a patient
registered by phone without an account, the contact the practice recorded (``practice_patients``).
An appointment message names its appointment; the patient must be that appointment's own, or
the message is refused (``misaddressed``) rather than sent to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.accounts.models import Account
from colloque.booking.models import Appointment
from colloque.notifications.rendering import Language
from colloque.notifications.unsubscribe import Subscriber, Unsubscribe
from colloque.patients.models import Patient, PracticePatient


@dataclass(frozen=True, slots=True)
class Recipient:
    language: Language
    email: str | None = None
    phone: str | None = None
    #: The account whose address it is (its inbox lists the message); None for the contact a
    #: practice recorded for a patient without an account, who has no inbox.
    account_id: UUID | None = None
    #: Whose setting turns reminders off: the account, or the patient without one.
    subscriber: Unsubscribe | None = None
    reminders: bool = True


class Undeliverable(Exception):
    """No one may or can receive the message; ``category`` says why (no personal data)."""

    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


def patient_of(*, patient_id: UUID | None, appointment: Appointment | None) -> UUID:
    """The patient a message is about: the appointment's own, which the row must agree with."""
    if appointment is not None:
        if patient_id is not None and appointment.patient_id != patient_id:
            raise Undeliverable("misaddressed")
        return appointment.patient_id
    if patient_id is None:
        raise Undeliverable("no_patient")
    return patient_id


def recipient_of(session: Session, *, practice_id: UUID, patient_id: UUID) -> Recipient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise Undeliverable("no_patient")
    if patient.holder_account_id is not None:
        account = session.get(Account, patient.holder_account_id)
        if account is not None and account.email and not account.disabled:
            return Recipient(
                language=Language.of(account.language),
                email=account.email,
                account_id=account.account_id,
                subscriber=Unsubscribe(Subscriber.ACCOUNT, account.account_id),
                reminders=account.reminders,
            )
        if account is not None:
            raise Undeliverable("no_contact")
    contact = session.get(PracticePatient, (practice_id, patient_id))
    if contact is None or not (contact.email or contact.phone):
        raise Undeliverable("no_contact")
    return Recipient(
        language=Language.FR,
        email=contact.email,
        phone=contact.phone,
        subscriber=Unsubscribe(Subscriber.PATIENT, patient.patient_id),
        reminders=patient.reminders,
    )
