"""What ``colloque demo`` prints on every start: fresh bearer tokens for the demo logins, and
"Try:" lines that work as printed, the example booking chosen by the real rules.

Bearer tokens are real secrets, so they are not derived from the seed: each start issues the
four logins a new token (the patient's valid :data:`DEMO_TOKEN_LIFETIME`; the practice members',
staff tokens, 12 hours and 30 minutes without use, docs/accounts.md); earlier ones stay valid
until they expire. Every line is plain text, made to be pasted whatever the width of the terminal.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select

from colloque.accounts.models import Account
from colloque.accounts.services import do_issue_token
from colloque.booking.queries import patient_history
from colloque.booking.rules import check_anti_hoarding
from colloque.demo.network import EMAIL_DOMAIN
from colloque.demo.showcase import DEMO_PASSWORDS, DEMO_TOKEN_LIFETIME, SHOWCASE_NAME, DemoLogin
from colloque.errors import RuleViolation
from colloque.patients.models import Patient
from colloque.scheduling.models import Practice, PracticePractitioner, Practitioner, VisitType
from colloque.search.availability import list_free_slots
from colloque.storage.engine import Database

#: The demo logins, in the order they are printed.
ROLES = ("patient", "secretary", "practitioner", "admin")
#: The example books the showcase's general practitioner, for a plain consultation.
EXAMPLE_SPECIALTY = "general_practice"
EXAMPLE_VISIT_TYPE = "Consultation"
#: How far ahead the example looks for a slot the rules accept.
EXAMPLE_DAYS = 60
#: Where each demo login starts in the browser: the patient on their appointments, a practice
#: member on their account (the web has no practice pages yet; TOTP is set up there).
WEB_START = {"patient": "/login?next=/me/appointments"}
WEB_START_STAFF = "/login"


@dataclass(frozen=True, slots=True)
class ExampleBooking:
    """A booking the demo patient can make now: a free slot that no rule refuses."""

    practice_id: UUID
    practitioner_id: UUID
    practitioner_name: str
    patient_id: UUID
    visit_type_id: UUID
    duration_minutes: int
    starts_at: datetime

    def body(self) -> dict[str, object]:
        """The body of ``POST /api/v1/appointments`` (without a sealed reason: curl cannot seal)."""
        return {
            "practice_id": str(self.practice_id),
            "practitioner_id": str(self.practitioner_id),
            "patient_id": str(self.patient_id),
            "starts_at": self.starts_at.isoformat(),
            "duration_minutes": self.duration_minutes,
        }


def issue_demo_logins(db: Database, *, now: datetime) -> tuple[DemoLogin, ...]:
    """The demo logins found in the database, each with a new bearer token; none if it holds no
    demo data."""
    logins = []
    with db.write() as session:
        for role in ROLES:
            account = session.scalars(
                select(Account).where(Account.email == f"{role}@{EMAIL_DOMAIN}")
            ).one_or_none()
            if account is None:
                continue
            token = do_issue_token(
                session, now=now, account_id=account.account_id, lifetime=DEMO_TOKEN_LIFETIME
            )
            logins.append(
                DemoLogin(
                    role, account.display_name, account.email or "", DEMO_PASSWORDS[role], token
                )
            )
    return tuple(logins)


def example_booking(db: Database, *, now: datetime) -> ExampleBooking | None:
    """The first slot of the showcase GP's consultation that the demo patient may book online
    now: free, within notice and horizon, and clear of anti-hoarding (the patient already has
    appointments with this doctor). None without the showcase or such a slot."""
    with db.read() as session:
        found = session.execute(
            select(Practice, Practitioner, VisitType)
            .join(PracticePractitioner, PracticePractitioner.practice_id == Practice.practice_id)
            .join(
                Practitioner,
                Practitioner.practitioner_id == PracticePractitioner.practitioner_id,
            )
            .join(
                VisitType,
                (VisitType.practice_id == Practice.practice_id)
                & (VisitType.practitioner_id == Practitioner.practitioner_id),
            )
            .where(
                Practice.name == SHOWCASE_NAME,
                Practitioner.specialty == EXAMPLE_SPECIALTY,
                VisitType.label == EXAMPLE_VISIT_TYPE,
            )
        ).first()
        patient_id = session.scalar(
            select(Patient.patient_id)
            .join(Account, Account.account_id == Patient.holder_account_id)
            .where(Account.email == f"patient@{EMAIL_DOMAIN}", Patient.relationship == "self")
        )
        if found is None or patient_id is None:
            return None
        practice, practitioner, visit_type = found
        history = patient_history(
            session,
            patient_id=patient_id,
            practice_id=practice.practice_id,
            practitioner_id=practitioner.practitioner_id,
            specialty=practitioner.specialty,
            now=now,
        )
        slots = list_free_slots(
            session,
            now=now,
            practice_id=practice.practice_id,
            practitioner_id=practitioner.practitioner_id,
            visit_type_id=visit_type.visit_type_id,
            duration_minutes=None,
            start=now,
            days=EXAMPLE_DAYS,
        )
        for slot in slots:
            try:
                check_anti_hoarding(
                    starts_at=slot.start,
                    other_starts=history.future_starts_in_specialty,
                    min_gap_days=practice.anti_hoarding_days,
                )
            except RuleViolation:
                continue
            return ExampleBooking(
                practice_id=practice.practice_id,
                practitioner_id=practitioner.practitioner_id,
                practitioner_name=" ".join(
                    p
                    for p in (practitioner.title, practitioner.first_name, practitioner.last_name)
                    if p
                ),
                patient_id=patient_id,
                visit_type_id=visit_type.visit_type_id,
                duration_minutes=visit_type.duration_minutes,
                starts_at=slot.start.astimezone(ZoneInfo(practice.timezone)),
            )
    return None


def _curl(url: str, *, token: str | None = None, body: dict[str, object] | None = None) -> str:
    parts = ["curl", "-s"]
    if token is not None:
        parts += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        parts += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    return " ".join([*(shlex.quote(p) for p in parts), shlex.quote(url), "| python3 -m json.tool"])


def try_lines(
    base: str, *, logins: Sequence[DemoLogin], example: ExampleBooking | None
) -> list[str]:
    """The "Try:" commands, one a line (and a comment): search, the example's slots, book it,
    list the patient's appointments."""
    api = f"{base}/api/v1"
    lines = [_curl(f"{api}/search?" + urlencode({"specialty": EXAMPLE_SPECIALTY, "city": "Paris"}))]
    patient = next((login for login in logins if login.role == "patient"), None)
    if example is not None:
        query = urlencode(
            {
                "visit_type_id": str(example.visit_type_id),
                "from": example.starts_at.isoformat(),
                "days": 1,
            }
        )
        path = f"{api}/practices/{example.practice_id}/practitioners/{example.practitioner_id}"
        lines.append(_curl(f"{path}/slots?{query}"))
        if patient is not None:
            lines.append(
                f"# book {example.practitioner_name} for the patient, "
                f"{example.starts_at:%A %d %B %H:%M} ({example.duration_minutes} min):"
            )
            lines.append(_curl(f"{api}/appointments", token=patient.token, body=example.body()))
    if patient is not None:
        lines.append(_curl(f"{api}/me/appointments", token=patient.token))
    return lines


def welcome_lines(
    base: str,
    *,
    logins: Sequence[DemoLogin],
    example: ExampleBooking | None,
    log_origin: str,
    log_public_key: str,
    expires: timedelta = DEMO_TOKEN_LIFETIME,
) -> list[str]:
    """Everything printed after the URL: the logins, the Try lines, the key directory to pin."""
    lines: list[str] = []
    if logins:
        lines.append(
            "Demo logins (bearer tokens are new on each start; the patient's is valid "
            f"{expires.days} days, practice members' 12 hours and end after 30 minutes unused):"
        )
        for login in logins:
            lines += [
                f"  {login.role:<13}{login.display_name}",
                f"    web       {base}{WEB_START.get(login.role, WEB_START_STAFF)}",
                f"    email     {login.email}",
                f"    password  {login.password}",
                f"    token     {login.token}",
            ]
    else:
        lines.append("This database holds no demo logins.")
    lines.append("Try:")
    lines += [f"  {line}" for line in try_lines(base, logins=logins, example=example)]
    lines += [
        "Key directory to pin in clients (colloque.client):",
        f"  client.pin_key_directory(origin={log_origin!r}, log_public_key={log_public_key!r})",
        "The showcase's reasons are sealed: log in as the patient or a practice member with",
        "colloque.client and call read_reason() on an appointment to open one.",
    ]
    return lines
