"""``colloque incident open | contain | notified | show | report``: a personal data breach's
record, and the report of exactly what it touched (docs/operations.md, "Incident response").

Only ids and counts are printed: the personal data of a report goes into its output directory,
never to the terminal or a log.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from colloque.cli.common import DatabaseOption, database_of, fail, settings_of
from colloque.clock import SystemClock
from colloque.errors import ColloqueError

incident_app = typer.Typer(
    help="A personal data breach: its record (detection, containment, notifications) and the "
    "report of what it touched.",
    no_args_is_help=True,
)
console = Console()


def _uuid(value: str | None, option: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise fail(f"{option} must be a UUID") from None


def _instant(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 instant with its offset: a time without one would be read in nobody knows
    which zone."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be an ISO 8601 instant (2026-03-02T09:00:00+01:00)") from None
    if parsed.tzinfo is None:
        raise fail(f"{option} needs its UTC offset (2026-03-02T09:00:00+01:00 or ...Z)")
    return parsed.astimezone(UTC)


@incident_app.command("open")
def incident_open(
    summary: Annotated[str, typer.Option(help="What happened (no personal data).")],
    detected_at: Annotated[
        str | None,
        typer.Option(help="When the breach was detected (ISO 8601 with offset); default now."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record a breach: the 72 hours to notify the supervisory authority run from detection."""
    from colloque.incidents.services import AUTHORITY_DEADLINE, do_open_incident

    detected = _instant(detected_at, "--detected-at")
    database = database_of(settings_of(database_url))
    now = SystemClock().now()
    try:
        with database.write() as session:
            incident_id = do_open_incident(
                session, now=now, detected_at=detected or now, summary=summary
            )
    except ColloqueError as exc:
        raise fail(exc.detail) from None
    finally:
        database.dispose()
    deadline = (detected or now) + AUTHORITY_DEADLINE
    typer.echo(f"incident {incident_id} opened; notify the authority by {deadline.isoformat()}")


@incident_app.command("contain")
def incident_contain(
    incident_id: Annotated[str, typer.Argument(help="The incident's id.")],
    credential: Annotated[
        list[str] | None,
        typer.Option(help="A session or token id from the audit log (repeatable)."),
    ] = None,
    account: Annotated[
        list[str] | None,
        typer.Option(help="An account whose every session and token ends (repeatable)."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """End the suspect sessions and tokens, and record it in the incident's timeline."""
    from colloque.incidents.services import do_contain

    incident = _uuid(incident_id, "INCIDENT_ID")
    assert incident is not None
    credentials = tuple(_uuid(c, "--credential") for c in credential or ())
    accounts = tuple(_uuid(a, "--account") for a in account or ())
    database = database_of(settings_of(database_url))
    try:
        with database.write() as session:
            ended = do_contain(
                session,
                now=SystemClock().now(),
                incident_id=incident,
                credentials=tuple(c for c in credentials if c is not None),
                accounts=tuple(a for a in accounts if a is not None),
            )
    except ColloqueError as exc:
        raise fail(exc.detail) from None
    finally:
        database.dispose()
    typer.echo(f"{ended} sessions and tokens ended")


@incident_app.command("notified")
def incident_notified(
    incident_id: Annotated[str, typer.Argument(help="The incident's id.")],
    authority: Annotated[
        bool, typer.Option("--authority", help="The supervisory authority was notified.")
    ] = False,
    patients: Annotated[
        bool, typer.Option("--patients", help="The patients concerned were notified.")
    ] = False,
    note: Annotated[
        str, typer.Option(help="A reference (the authority's case number, a mailing batch).")
    ] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Record a notification, with its time."""
    from colloque.incidents.services import StepKind, do_record_notified

    if authority == patients:
        raise fail("give exactly one of --authority and --patients")
    incident = _uuid(incident_id, "INCIDENT_ID")
    assert incident is not None
    kind = StepKind.AUTHORITY_NOTIFIED if authority else StepKind.PATIENTS_NOTIFIED
    database = database_of(settings_of(database_url))
    try:
        with database.write() as session:
            do_record_notified(
                session,
                now=SystemClock().now(),
                incident_id=incident,
                kind=kind,
                detail=note or ("authority notified" if authority else "patients notified"),
            )
    except ColloqueError as exc:
        raise fail(exc.detail) from None
    finally:
        database.dispose()
    typer.echo(f"incident {incident}: {kind.value}")


@incident_app.command("show")
def incident_show(
    incident_id: Annotated[str, typer.Argument(help="The incident's id.")],
    database_url: DatabaseOption = None,
) -> None:
    """The incident's timeline and its 72-hour deadline."""
    from colloque.incidents.services import get_incident

    incident = _uuid(incident_id, "INCIDENT_ID")
    assert incident is not None
    database = database_of(settings_of(database_url))
    try:
        with database.read() as session:
            found = get_incident(session, incident_id=incident)
    except ColloqueError as exc:
        raise fail(exc.detail) from None
    finally:
        database.dispose()
    typer.echo(f"incident {found.incident_id}: {found.summary}")
    typer.echo(f"detected {found.detected_at.isoformat()}")
    typer.echo(f"authority deadline {found.authority_deadline.isoformat()}")
    for step in found.steps:
        typer.echo(f"{step.at.isoformat()} {step.kind.value}: {step.detail}")


@incident_app.command("report")
def incident_report(
    output: Annotated[Path, typer.Option(help="A new or empty directory for the report's files.")],
    account: Annotated[str | None, typer.Option(help="The suspect account's id.")] = None,
    credential: Annotated[
        str | None, typer.Option(help="The suspect session or token id (audit log).")
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="A client address in full (within its retention).")
    ] = None,
    prefix: Annotated[
        str | None, typer.Option(help="A client network prefix as logged (203.0.113.0/24).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Window start (ISO 8601, offset).")] = None,
    until: Annotated[str | None, typer.Option(help="Window end, excluded.")] = None,
    incident_id: Annotated[
        str | None, typer.Option("--incident", help="The incident this report is for.")
    ] = None,
    detected_at: Annotated[
        str | None, typer.Option(help="Without --incident: when it was detected (default now).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Compute exactly which appointments, people and practices the suspect touched, and write
    the report (JSON, HTML), the per-practice lists and letters (FR, EN) and the draft
    notification to the supervisory authority."""
    from colloque.incidents.documents import OutputNotEmpty, write_report
    from colloque.incidents.report import build_report
    from colloque.incidents.scan import Suspect, count_events
    from colloque.incidents.services import do_record_report

    try:
        suspect = Suspect(
            account_id=_uuid(account, "--account"),
            credential_id=_uuid(credential, "--credential"),
            address=address,
            prefix=prefix,
            since=_instant(since, "--since"),
            until=_instant(until, "--until"),
        )
    except ColloqueError as exc:
        raise fail(exc.detail) from None
    incident = _uuid(incident_id, "--incident")
    detected = _instant(detected_at, "--detected-at")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise fail(f"{output} is not an empty directory")
    database = database_of(settings_of(database_url))
    now = SystemClock().now()
    try:
        with database.read() as session:
            total = count_events(session, suspect)
            with Progress(
                TextColumn("scanning events"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            ) as bar:
                task = bar.add_task("scan", total=total)
                report = build_report(
                    session,
                    now=now,
                    suspect=suspect,
                    incident_id=incident,
                    detected_at=detected,
                    progress=lambda done: bar.advance(task, done),
                )
        written = write_report(report, output)
        counts = (
            f"{report.touched.events} events, {len(report.practices)} practices, "
            f"{len(report.persons)} people, {len(report.appointments)} appointments, "
            f"{len(report.items)} sealed items"
        )
        if incident is not None:
            with database.write() as session:
                do_record_report(session, now=now, incident_id=incident, detail=counts)
    except ColloqueError as exc:
        raise fail(exc.detail) from None
    except OutputNotEmpty:
        raise fail(f"{output} is not an empty directory") from None
    finally:
        database.dispose()
    typer.echo(f"{counts}; {len(written)} files in {output}")
    typer.echo(f"notify the supervisory authority by {report.authority_deadline.isoformat()}")
