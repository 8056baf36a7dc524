"""The incident report's files: the report (JSON and a printable HTML document), per practice the
patients concerned and a letter to each in French and in English, and a draft of the notification
to the supervisory authority (GDPR article 33), in both languages.

These files are the only place the report's personal data goes: the directory and its files are
made readable by their owner alone, and nothing here logs.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from colloque.audit.objects import ObjectKind
from colloque.incidents.report import AppointmentFact, Person, Report, SealedFact
from colloque.notifications.rendering import Language, when

_ENVIRONMENT = Environment(
    loader=PackageLoader("colloque.incidents", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
PLATFORM = "platform"
_PRIVATE_DIRECTORY = 0o700
_PRIVATE_FILE = 0o600


class OutputNotEmpty(Exception):
    """The output directory holds files already: a report never mixes with an older one."""


def report_json(report: Report) -> dict[str, Any]:
    """The whole report as plain JSON values (ids as strings, instants in ISO 8601 UTC)."""
    touched = report.touched
    contacts: dict[UUID, list[dict[str, Any]]] = {}
    for (practice, patient), contact in sorted(report.contacts.items()):
        contacts.setdefault(patient, []).append(
            {"practice_id": str(practice), "phone": contact.phone, "email": contact.email}
        )
    return {
        "generated_at": report.generated_at.isoformat(),
        "criteria": report.suspect.describe(),
        "detected_at": report.detected_at.isoformat(),
        "authority_deadline": report.authority_deadline.isoformat(),
        "incident": None
        if report.incident is None
        else {
            "incident_id": str(report.incident.incident_id),
            "summary": report.incident.summary,
            "detected_at": report.incident.detected_at.isoformat(),
            "timeline": [
                {"at": step.at.isoformat(), "step": step.kind.value, "detail": step.detail}
                for step in report.incident.steps
            ],
        },
        "events": {
            "matched": touched.events,
            "denied": touched.denied,
            "first_at": None if touched.first_at is None else touched.first_at.isoformat(),
            "last_at": None if touched.last_at is None else touched.last_at.isoformat(),
            "actions": dict(sorted(touched.actions.items())),
            "denied_reasons": dict(sorted(touched.denied_reasons.items())),
            "credentials": sorted(str(c) for c in touched.credentials),
            "accounts": sorted(str(a) for a in touched.accounts),
        },
        "practices": [
            {
                "practice_id": str(p.practice_id),
                "name": p.name,
                "patients": [str(patient) for patient in p.patients],
                "appointments": [str(a) for a in p.appointments],
                "sealed_items": [str(i) for i in p.items],
            }
            for p in report.practices
        ],
        "without_practice": [str(patient) for patient in report.without_practice],
        "administrative": {
            "appointments": [_appointment_json(a) for a in report.appointments],
            "patients": [
                _person_json(person, contacts.get(person.patient_id, []))
                for person in _sorted_persons(report)
            ],
        },
        "sealed": {"items": [_item_json(item) for item in report.items]},
        "denied_attempts": {
            kind.value: sorted(str(i) for i in ids) for kind, ids in sorted(touched.tried.items())
        },
        "no_longer_stored": {
            kind.value: [str(i) for i in ids] for kind, ids in sorted(report.gone.items())
        },
    }


def _appointment_json(a: AppointmentFact) -> dict[str, Any]:
    return {
        "appointment_id": str(a.appointment_id),
        "practice_id": str(a.practice_id),
        "patient_id": str(a.patient_id),
        "practitioner_id": str(a.practitioner_id),
        "starts_at": a.starts_at.isoformat(),
        "ends_at": a.ends_at.isoformat(),
        "status": a.status,
    }


def _item_json(item: SealedFact) -> dict[str, Any]:
    return {
        "item_id": str(item.item_id),
        "practice_id": str(item.practice_id),
        "patient_id": str(item.patient_id),
        "kind": item.kind,
        "created_at": item.created_at.isoformat(),
        "size_bytes": item.size_bytes,
    }


def _person_json(person: Person, contacts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "patient_id": str(person.patient_id),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date": None if person.birth_date is None else person.birth_date.isoformat(),
        "account_email": person.email,
        "practice_contacts": contacts,
    }


def _sorted_persons(report: Report) -> list[Person]:
    return sorted(report.persons.values(), key=lambda p: (p.last_name, p.first_name, p.patient_id))


@dataclass(frozen=True, slots=True)
class Letter:
    """What one patient is told about one practice's data (or the platform's)."""

    person: Person
    practice_name: str
    practice_address: str
    timezone: str
    appointments: tuple[AppointmentFact, ...]
    sealed_kinds: tuple[str, ...]


def _letters(report: Report) -> Iterator[tuple[str, Letter]]:
    by_patient_appointments: dict[tuple[UUID, UUID], list[AppointmentFact]] = {}
    for a in report.appointments:
        by_patient_appointments.setdefault((a.practice_id, a.patient_id), []).append(a)
    by_patient_items: dict[tuple[UUID, UUID], set[str]] = {}
    for item in report.items:
        by_patient_items.setdefault((item.practice_id, item.patient_id), set()).add(item.kind)
    for practice in report.practices:
        address = f"{practice.address}, {practice.postcode} {practice.city}"
        for patient in practice.patients:
            key = (practice.practice_id, patient)
            yield (
                str(practice.practice_id),
                Letter(
                    person=report.persons[patient],
                    practice_name=practice.name,
                    practice_address=address,
                    timezone=practice.timezone,
                    appointments=tuple(by_patient_appointments.get(key, ())),
                    sealed_kinds=tuple(sorted(by_patient_items.get(key, ()))),
                ),
            )
    for patient in report.without_practice:
        yield (
            PLATFORM,
            Letter(
                person=report.persons[patient],
                practice_name="Colloque",
                practice_address="",
                timezone="Europe/Paris",
                appointments=(),
                sealed_kinds=(),
            ),
        )


def _context(report: Report, language: Language, timezone: str) -> dict[str, Any]:
    touched = report.touched

    def local(instant: Any) -> str:
        return when(instant, timezone=timezone, language=language)

    return {
        "report": report,
        "touched": touched,
        "local": local,
        "first": None if touched.first_at is None else local(touched.first_at),
        "last": None if touched.last_at is None else local(touched.last_at),
        "detected": local(report.detected_at),
        "deadline": local(report.authority_deadline),
        "patients": len(report.persons),
        "appointments": len(report.appointments),
        "sealed": len(report.items),
        "sealed_kinds": sorted({item.kind for item in report.items}),
        "contained": []
        if report.incident is None
        else [
            (local(step.at), step.detail)
            for step in report.incident.steps
            if step.kind.value == "contained"
        ],
        "tried": sum(len(ids) for ids in touched.tried.values()),
        "kinds": ObjectKind,
    }


def _write(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _directory(path: Path) -> Path:
    path.mkdir(mode=_PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    return path


def write_report(report: Report, output: Path) -> list[Path]:
    """Write every file under ``output`` (made if missing, refused if not empty). Returns the
    files written."""
    if output.exists() and any(output.iterdir()):
        raise OutputNotEmpty(str(output))
    _directory(output)
    written: list[Path] = []

    def put(relative: str, text: str) -> None:
        path = output / relative
        _directory(path.parent)
        _write(path, text)
        written.append(path)

    as_json = report_json(report)
    put("report.json", json.dumps(as_json, indent=2, ensure_ascii=False) + "\n")
    put(
        "report.html",
        _ENVIRONMENT.get_template("report.html").render(
            _context(report, Language.EN, "UTC") | {"json": as_json}
        ),
    )
    for language in Language:
        put(
            f"authority-notification.{language.value}.html",
            _ENVIRONMENT.get_template(f"{language.value}/authority.html").render(
                _context(report, language, "Europe/Paris")
            ),
        )
    lists: dict[str, list[list[str]]] = {}
    # What every letter in one language and zone says about the incident, formatted once.
    shared: dict[tuple[Language, str], dict[str, Any]] = {}
    for folder, letter in _letters(report):
        person = letter.person
        contact = (
            report.contacts.get((UUID(folder), person.patient_id)) if folder != PLATFORM else None
        )
        lists.setdefault(folder, []).append(
            [
                str(person.patient_id),
                person.last_name,
                person.first_name,
                "" if person.birth_date is None else person.birth_date.isoformat(),
                person.email or "",
                (contact.phone or "") if contact else "",
                (contact.email or "") if contact else "",
                str(len(letter.appointments)),
                " ".join(letter.sealed_kinds),
            ]
        )
        for language in Language:
            key = (language, letter.timezone)
            if key not in shared:
                shared[key] = _context(report, language, letter.timezone)
            context = shared[key] | {"letter": letter}
            put(
                f"practices/{folder}/letters/{person.patient_id}.{language.value}.html",
                _ENVIRONMENT.get_template(f"{language.value}/letter.html").render(context),
            )
    for folder, rows in sorted(lists.items()):
        put(f"practices/{folder}/patients.csv", _csv(rows))
    return written


_CSV_HEADER = [
    "patient_id",
    "last_name",
    "first_name",
    "birth_date",
    "account_email",
    "practice_phone",
    "practice_email",
    "appointments_read",
    "sealed_item_kinds",
]


def _csv(rows: list[list[str]]) -> str:
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(_CSV_HEADER)
    rows.sort(key=lambda row: (row[1], row[2], row[0]))
    writer.writerows(rows)
    return lines.getvalue()
