"""``colloque serve | migrate | demo | worker | rotate-secret | legacy-log-key | verify-web |
witness | outbox | audit | incident``.

Errors end with a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import base64
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

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
    SERVER_OPTIONS,
    DatabaseOption,
    check_database_role,
    database_of,
    fail,
    settings_of,
)
from colloque.cli.incident import incident_app
from colloque.cli.outbox import outbox_app
from colloque.cli.witness import witness_app
from colloque.clock import SystemClock
from colloque.config import ConfigurationError, Settings
from colloque.logs import configure as configure_logging
from colloque.server_keys import ServerKeys
from colloque.storage.migrate import upgrade
from colloque.storage.roles import DatabaseRoleError, is_permission_denied

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

MAX_DEMO_PRACTITIONERS = 10_000
MAX_DEMO_APPOINTMENTS = 1_000_000
MAX_DEMO_PATIENTS = 2_000_000


def _migrate(settings: Settings) -> None:
    try:
        upgrade(settings.effective_database_url, app_role=settings.database_app_role)
    except DatabaseRoleError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:
        if is_permission_denied(exc):
            raise fail(
                "this database role lacks a privilege the migration needs (permission denied): run "
                "`colloque migrate` as the database's owner first (docs/operations.md, "
                '"Audit log")'
            ) from None
        raise fail(f"migration failed ({type(exc).__name__}); is the database reachable?") from None


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Bring the database schema up to date."""
    settings = settings_of(database_url)
    _migrate(settings)
    console.print("schema is up to date")


@app.command()
def serve(
    database_url: DatabaseOption = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    proxy_headers: Annotated[
        bool | None,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="Trust X-Forwarded-For, X-Forwarded-Proto and X-Request-ID from the addresses "
            "of --forwarded-allow-ips. Overrides COLLOQUE_PROXY_HEADERS (default: on).",
        ),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="The reverse proxies' addresses or networks, comma-separated, or '*'. "
            "Overrides COLLOQUE_FORWARDED_ALLOW_IPS (default: 127.0.0.1).",
        ),
    ] = None,
) -> None:
    """Run the HTTP API (migrating the schema first)."""
    settings = settings_of(database_url)
    overrides: dict[str, object] = {}
    if proxy_headers is not None:
        overrides["proxy_headers"] = proxy_headers
    if forwarded_allow_ips is not None:
        overrides["forwarded_allow_ips"] = forwarded_allow_ips
    settings = settings.model_copy(update=overrides)
    if settings.run_refresher:
        from colloque.worker import audit_sealing

        try:
            audit_sealing(settings)  # the audit signing key: refused here rather than in a worker
        except ConfigurationError as exc:
            raise fail(str(exc)) from None
    _migrate(settings)
    checked = database_of(settings)
    try:
        check_database_role(settings, checked)
    finally:
        checked.dispose()
    _run_server(settings, host=host or settings.host, port=port or settings.port, workers=workers)


def _run_server(settings: Settings, *, host: str, port: int, workers: int) -> None:

    import uvicorn

    configure_logging(json=settings.environment == "production")
    # The workers import colloque.web.main, which reads its settings from the environment.
    os.environ.update(_server_environment(settings, workers=workers))
    uvicorn.run(
        "colloque.web.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        log_config=_uvicorn_log_config(),
        **SERVER_OPTIONS,
        # The app applies the proxy headers itself, from the same settings, so that the one
        # list of trusted proxies also decides whether their X-Request-ID is taken
        # (colloque.api.observability); uvicorn must not rewrite the client before it looks.
        proxy_headers=False,
    )


def _server_environment(settings: Settings, *, workers: int) -> dict[str, str]:
    """What the server's processes must find in their environment."""
    from colloque.metrics import prepare_multiprocess_dir

    environment = {
        "COLLOQUE_PROXY_HEADERS": "true" if settings.proxy_headers else "false",
        "COLLOQUE_FORWARDED_ALLOW_IPS": settings.forwarded_allow_ips,
    }
    if settings.database_url:
        environment["COLLOQUE_DATABASE_URL"] = settings.database_url
    if workers > 1:
        directory = settings.prometheus_multiproc_dir or (settings.data_dir / "prometheus")
        prepare_multiprocess_dir(directory)
        environment["PROMETHEUS_MULTIPROC_DIR"] = str(directory.resolve())
    return environment


def _uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging, without its copy of tracebacks the app has logged already."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["without_app_tracebacks"] = {
        "()": "colloque.logs.WithoutAppTracebacks"
    }
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("without_app_tracebacks")
    return config


@app.command()
def worker(
    database_url: DatabaseOption = None,
    once: Annotated[bool, typer.Option(help="Run one cycle and exit.")] = False,
) -> None:
    """Deliver the outbox (mail and SMS), rebuild stale search caches, lapse expired waitlist
    holds and sweep document streams never described, periodically."""
    from colloque.delivery.outbox import DeliveryReport, OutboxWorker
    from colloque.delivery.setup import outbox_delivery_from_settings
    from colloque.storage.blobs import FilesystemBlobStore
    from colloque.worker import SweepSchedule, audit_sealing, run_cycle

    settings = settings_of(database_url)
    database = database_of(settings)
    check_database_role(settings, database)
    clock = SystemClock()
    try:
        delivery = outbox_delivery_from_settings(settings, database=database, clock=clock)
    except ConfigurationError as exc:
        raise fail(str(exc)) from None

    def print_delivery(report: DeliveryReport) -> None:
        console.print(
            f"outbox: sent {report.sent}, retrying {report.retried}, failed {report.failed}"
        )

    outbox = OutboxWorker(
        delivery, interval=settings.outbox_interval_seconds, on_report=print_delivery
    )
    if not once:
        outbox.start()
    try:
        audit = audit_sealing(settings)
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    sweeps = SweepSchedule(FilesystemBlobStore(settings.data_dir / "blobs"), clock)
    while True:
        report = run_cycle(
            database,
            clock,
            batch=settings.refresh_batch,
            blobs=sweeps.due(),
            document_upload_grace=settings.document_upload_grace,
            address_retention=settings.audit_address_retention,
            audit=audit,
        )
        console.print(
            f"integrated {report.audit_integrated} audit events, "
            f"refreshed {report.agendas_refreshed} agendas, lapsed {report.offers_lapsed} offers, "
            f"swept {report.documents_swept} documents never described, "
            f"{report.temporaries_removed} temporary files"
        )
        if once:
            print_delivery(delivery.run_until_idle())
            return
        time.sleep(settings.refresh_interval_seconds)


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
    _migrate(settings)
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
        _run_server(settings, host=host or settings.host, port=port or settings.port, workers=1)


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
