"""What a notification says, in the recipient's language: Jinja2 templates, Babel dates.

Pure: it takes what the worker read (names, address, times) and returns the subject, the plain
text, the HTML alternative and the SMS text. What it is given is all a message may hold: the
practitioner's name, the practice's address, the date and time, who cancelled, a link and a
reference; after an absence, the next free times with the same practitioner. Nothing here can reach a reason or a visit type: they are not in :class:`Notice`.
"""

from __future__ import annotations

import base64
import enum
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from colloque.notifications.services import Template


class Language(enum.StrEnum):
    FR = "fr"
    EN = "en"

    @classmethod
    def of(cls, code: str | None) -> Language:
        return cls.EN if code == "en" else cls.FR


class CancelledBy(enum.StrEnum):
    PATIENT = "patient"
    PRACTICE = "practice"


@dataclass(frozen=True, slots=True)
class Notice:
    template: Template
    language: Language
    #: The practice's time zone: every time is written as the patient lives it there.
    timezone: str
    practice_name: str
    link: str
    reference: str
    #: The recipient account's inbox, which lists this message under ``reference``; None for a
    #: patient without an account (the practice's recorded contact), who has no inbox.
    inbox_link: str | None = None
    #: The appointment's: empty for a "new message" notice, which names the practice only.
    practitioner: str = ""
    practice_address: str = ""
    starts_at: datetime | None = None
    previous_starts_at: datetime | None = None
    cancelled_by: CancelledBy | None = None
    #: Until when a waitlist offer's hold keeps the time for the patient.
    held_until: datetime | None = None
    #: A cancellation by the practice because the practitioner is away (an absence, a
    #: holiday): the practitioner's page, to book again, or to join the waitlist when
    #: ``other_times`` is empty. None for any other message.
    rebook_link: str | None = None
    #: The next free times with the same practitioner for an appointment of the same length.
    other_times: tuple[datetime, ...] = ()
    #: Reminders only: the one-click unsubscribe link (also in the mail's headers).
    unsubscribe: str | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str


_ENVIRONMENT = Environment(
    loader=PackageLoader("colloque.notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: The templates the worker renders (every one there is today).
RENDERED_TEMPLATES = frozenset(Template)
REMINDERS = frozenset({Template.REMINDER_WEEK, Template.REMINDER_DAY, Template.REMINDER_SMS})
#: The day's SMS says what the day's email says.
_FILES = {Template.REMINDER_SMS: "reminder_day"}


def reference_code(message_id: UUID) -> str:
    """A short code that names one message: the message says it, the account's inbox lists it."""
    return base64.b32encode(message_id.bytes[:5]).decode("ascii")


def when(instant: datetime, *, timezone: str, language: Language) -> str:
    """'jeudi 14 août 2026 à 09:30' / 'Thursday 14 August 2026 at 09:30', in the practice's zone."""
    zone = ZoneInfo(timezone)
    local = instant.astimezone(zone)
    locale = "fr_FR" if language is Language.FR else "en_GB"
    day = format_date(local.date(), format="full", locale=locale)
    hour = format_time(local.time(), format="HH:mm", locale=locale)
    return f"{day} à {hour}" if language is Language.FR else f"{day} at {hour}"


def render(notice: Notice) -> Rendered:
    def local(instant: datetime | None) -> str | None:
        if instant is None:
            return None
        return when(instant, timezone=notice.timezone, language=notice.language)

    context = {
        "practitioner": notice.practitioner,
        "practice_name": notice.practice_name,
        "practice_address": notice.practice_address,
        "when": local(notice.starts_at),
        "previous_when": local(notice.previous_starts_at),
        "held_until": local(notice.held_until),
        "cancelled_by": notice.cancelled_by.value if notice.cancelled_by else None,
        "rebook_link": notice.rebook_link,
        "other_times": [
            when(time, timezone=notice.timezone, language=notice.language)
            for time in notice.other_times
        ],
        "link": notice.link,
        "inbox_link": notice.inbox_link,
        "reference": notice.reference,
        "unsubscribe": notice.unsubscribe,
    }
    base = f"{notice.language.value}/{_FILES.get(notice.template, notice.template.value)}"
    return Rendered(
        subject=_ENVIRONMENT.get_template(f"{base}.subject").render(context).strip(),
        text=_ENVIRONMENT.get_template(f"{base}.txt").render(context),
        html=_ENVIRONMENT.get_template(f"{base}.html").render(context),
        sms=_ENVIRONMENT.get_template(f"{base}.sms").render(context).strip(),
    )
