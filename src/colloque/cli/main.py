"""``colloque serve | worker`` (in ``cli/server.py``), ``migrate | demo | rotate-secret |
legacy-log-key | verify-web``, and the groups ``witness | outbox | audit | incident | canaries``.

Errors end with a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import func, select

from colloque.audit.context import Interface, bind_for_process
from colloque.cli.audit import audit_app
from colloque.cli.canaries import canaries_app
from colloque.cli.common import (
    DatabaseOption,
    database_of,
    fail,
    settings_of,
)
from colloque.cli.incident import incident_app
from colloque.cli.outbox import outbox_app
from colloque.cli.server import migrate_schema, run_server, serve, worker
from colloque.cli.witness import witness_app
from colloque.clock import SystemClock
from colloque.config import Settings
from colloque.server_keys import ServerKeys

app = typer.Typer(
    name="colloque",
    help="Colloque: medical appointments with end-to-end encrypted health data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()


@app.callback()
def _every_command() -> None:
    # What a command does is audited as the CLI's, whoever's principal it acts as.
    bind_for_process(Interface.CLI)


app.add_typer(witness_app, name="witness")
app.add_typer(outbox_app, name="outbox")
app.add_typer(audit_app, name="audit")
app.add_typer(incident_app, name="incident")
app.add_typer(canaries_app, name="canaries")
app.command()(serve)
app.command()(worker)

MAX_DEMO_PRACTITIONERS = 10_000
MAX_DEMO_APPOINTMENTS = 1_000_000
MAX_DEMO_PATIENTS = 2_000_000


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Bring the database schema up to date."""
    settings = settings_of(database_url)
    migrate_schema(settings)
    console.print("schema is up to date")


@app.command()
def demo(
    database_url: DatabaseOption = None,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same data.")
    ] = 2026,
    practitioners: Annotated[
        int, typer.Option(help=f"Practitioners to create (1 to {MAX_DEMO_PRACTITIONERS}).")
    ] = 200,
    patients: Annotated[int, typer.Option(help="Patient accounts to create.")] = 1_000,
    appointments: Annotated[
        int, typer.Option(help=f"Appointments to create (0 to {MAX_DEMO_APPOINTMENTS}).")
    ] = 20_000,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server afterwards.")
    ] = True,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on.")] = None,
) -> None:
    """Load realistic demo data (once), print the URL, the logins with fresh bearer tokens and
    lines to try (on every start), and serve."""
    if not 1 <= practitioners <= MAX_DEMO_PRACTITIONERS:
        raise fail(f"--practitioners must be between 1 and {MAX_DEMO_PRACTITIONERS}")
    if not 0 <= appointments <= MAX_DEMO_APPOINTMENTS:
        raise fail(f"--appointments must be between 0 and {MAX_DEMO_APPOINTMENTS}")
    if not 1 <= patients <= MAX_DEMO_PATIENTS:
        raise fail(f"--patients must be between 1 and {MAX_DEMO_PATIENTS}")
    settings = settings_of(database_url)
    if settings.environment == "production":
        raise fail("demo data is refused in production")
    migrate_schema(settings)
    database = database_of(settings)

    from colloque.demo.generator import generate_demo
    from colloque.keydirectory.config import LogKey
    from colloque.scheduling.models import Practitioner

    with database.read() as session:
        existing = session.scalar(select(func.count()).select_from(Practitioner)) or 0
    if existing:
        console.print(
            f"the database already holds {existing} practitioners; demo data not loaded again"
        )
    else:
        with Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(stage, total=total)
                progress.update(tasks[stage], completed=done, total=total)

            generate_demo(
                database,
                seed=seed,
                practitioners=practitioners,
                patients=patients,
                appointments=appointments,
                now=SystemClock().now(),
                progress=report,
                canary_key=settings.server_keys.canary_tag,
            )
    url = f"http://{host or settings.host}:{port or settings.port}"
    from colloque.demo.welcome import example_booking, issue_demo_logins, welcome_lines

    now = SystemClock().now()
    log = LogKey.from_settings(settings)
    example = example_booking(database, now=now)
    lines = welcome_lines(
        url,
        logins=issue_demo_logins(database, now=now),
        example=example,
        log_origin=log.origin,
        log_public_key=base64.b64encode(log.public_key).decode(),
    )
    # Plain lines, never wrapped: tokens and commands are made to be pasted. The web pages come
    # first: they are what a person opens.
    typer.echo(f"\nColloque demo: open {url}/ in a browser (search and practitioners' pages)")
    if example is not None:
        typer.echo(
            f"  {example.practitioner_name}'s page: "
            f"{url}/practitioners/{example.practice_id}/{example.practitioner_id}"
        )
    typer.echo(f"API: {url}/api/v1  (docs: {url}/docs)")
    for line in lines:
        typer.echo(line)
    # Links in the demo's mail point to the demo's own pages.
    os.environ.setdefault("COLLOQUE_PUBLIC_URL", url)
    maildir = _demo_maildir(settings)
    if maildir is not None:
        typer.echo(
            f"Mail the demo sends (confirmations, cancellations, codes): the maildir {maildir} "
            f"(read it with: mutt -f {maildir})"
        )
    database.dispose()
    if serve_after:
        run_server(settings, host=host or settings.host, port=port or settings.port, workers=1)


def _demo_maildir(settings: Settings) -> Path | None:
    """The demo delivers its mail into a maildir, where a person can read it, unless the mail
    backend was chosen; the server's processes find the choice in their environment."""
    from colloque.config import MailBackend

    if settings.mail_backend not in (None, MailBackend.MAILDIR):
        return None
    maildir = settings.effective_maildir_path.resolve()
    os.environ["COLLOQUE_MAIL_BACKEND"] = MailBackend.MAILDIR.value
    os.environ["COLLOQUE_MAILDIR_PATH"] = str(maildir)
    return maildir


@app.command("verify-web")
def verify_web(
    url: Annotated[str, typer.Argument(help="A page of the server, e.g. a practitioner's page.")],
    manifest: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="asset-manifest.json from your own build."
        ),
    ],
) -> None:
    """Check that the page and every script and stylesheet it loads match your build's asset
    manifest (exit 1 when anything differs)."""
    import httpx2

    from colloque.web.verify import read_manifest, verify_page

    if not url.startswith(("http://", "https://")):
        raise fail("the URL must start with http:// or https://")
    try:
        expected = read_manifest(manifest.read_bytes())
    except (ValueError, KeyError, TypeError) as exc:
        raise fail(f"{manifest} is not an asset manifest ({type(exc).__name__})") from None
    with httpx2.Client(timeout=20, follow_redirects=False) as client:

        def fetch(target: str) -> tuple[int, bytes]:
            response = client.get(target)
            return response.status_code, response.content

        try:
            report = verify_page(url, expected, fetch)
        except httpx2.HTTPError as exc:
            raise fail(f"cannot fetch from {url}: {type(exc).__name__}") from None
    for finding in report.findings:
        typer.echo(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.what}: {finding.detail}")
    if not report.ok:
        typer.echo("the web client differs from your build")
        raise typer.Exit(code=1)
    typer.echo("the web client matches your build")


def _read_secret_file(path: Path) -> str:
    """The file's text without its final line break; ``-`` reads standard input."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {type(exc).__name__}") from None
    secret = text.rstrip("\r\n")
    if not secret:
        raise fail(f"{path} holds no secret")
    return secret


@app.command("rotate-secret")
def rotate_secret(
    old_secret_file: Annotated[
        Path,
        typer.Option(
            "--old-secret-file",
            help="A file holding the previous COLLOQUE_SECRET_KEY ('-': standard input). "
            "The secret itself is never an argument: it would show in the process list.",
        ),
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Re-seal every TOTP seed from the previous secret under COLLOQUE_SECRET_KEY, in one
    transaction (docs/operations.md, "Rotating the secret key"). Safe to run again."""
    from sqlalchemy.exc import SQLAlchemyError

    from colloque.accounts.secrets import SealedUnderNeither, do_reseal_totp_seeds

    settings = settings_of(database_url)
    old_secret = _read_secret_file(old_secret_file)
    if old_secret == settings.secret_key.get_secret_value():
        raise fail(
            "the old secret is COLLOQUE_SECRET_KEY itself: set COLLOQUE_SECRET_KEY to the new one"
        )
    database = database_of(settings)
    try:
        with Progress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("re-sealing TOTP seeds", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            with database.write() as session:
                result = do_reseal_totp_seeds(
                    session,
                    old=ServerKeys.from_secret(old_secret),
                    new=settings.server_keys,
                    progress=report,
                )
    except SealedUnderNeither as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise fail(
            f"cannot re-seal ({type(exc).__name__}); is the database reachable and migrated?"
        ) from None
    finally:
        database.dispose()
    console.print(
        f"re-sealed {result.resealed} TOTP seeds under the new secret; "
        f"{result.current} were already under it"
    )


@app.command("legacy-log-key")
def legacy_log_key() -> None:
    """Print the key directory log key that versions before COLLOQUE_KEY_DIRECTORY_LOG_KEY
    derived from COLLOQUE_SECRET_KEY: set it as COLLOQUE_KEY_DIRECTORY_LOG_KEY to keep the log
    clients pinned. It is a secret: keep the output out of logs and shells' history."""
    from colloque.keydirectory.config import LogKey
    from colloque.server_keys import legacy_log_signing_seed

    try:
        settings = Settings()
    except Exception as exc:  # pydantic reports which variable is wrong
        raise fail(f"invalid configuration: {exc}") from None
    seed = legacy_log_signing_seed(settings.secret_key.get_secret_value())
    log = LogKey(origin=settings.key_directory_origin, seed=seed)
    # Plain lines, never wrapped: made to be appended to an environment file.
    typer.echo(f"COLLOQUE_KEY_DIRECTORY_LOG_KEY={base64.b64encode(seed).decode()}")
    typer.echo(
        f"# log public key {base64.b64encode(log.public_key).decode()} "
        "(compare with GET /api/v1/key-directory)"
    )
