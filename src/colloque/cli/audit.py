"""``colloque audit verify | status | checkpoint | key | hsm-keygen``: the audit log's tamper
evidence.

``verify`` exits 1 naming the first inconsistency; configuration and database errors exit 2
with a one-line message, never a traceback.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from colloque.audit.upkeep import Sealing
from colloque.cli.common import DatabaseOption, database_of, fail, settings_of
from colloque.clock import SystemClock
from colloque.config import ConfigurationError, Settings
from colloque.storage.engine import Database

audit_app = typer.Typer(
    help="The audit log: verify its Merkle logs and checkpoints, show its state, sign now.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)


def _sealing(settings: Settings) -> Sealing:
    from colloque.worker import audit_sealing

    try:
        return audit_sealing(settings)
    except ConfigurationError as error:
        raise fail(str(error)) from None


@audit_app.command()
def key(database_url: DatabaseOption = None) -> None:
    """Print ORIGIN=PUBLIC_KEY, what a witness follows (``colloque witness serve --log``)."""
    settings = settings_of(database_url)
    sealing = _sealing(settings)
    public = base64.b64encode(sealing.signer.public_key).decode("ascii")
    console.print(f"{sealing.origin}={public}", soft_wrap=True, highlight=False)


@audit_app.command("hsm-keygen")
def hsm_keygen() -> None:
    """Make the audit log's Ed25519 key on the PKCS#11 token that COLLOQUE_AUDIT_PKCS11_MODULE,
    _TOKEN_LABEL, _PIN and _KEY_LABEL name, and print its public key. The private key is made
    on the token and never leaves it."""
    from colloque.audit.hsm import HsmError, generate_key, token_key_from_settings

    settings = settings_of(None)
    try:
        token_key = token_key_from_settings(settings)
        if token_key is None:
            raise fail("set COLLOQUE_AUDIT_PKCS11_MODULE (and its token label and PIN) first")
        public = generate_key(token_key)
    except HsmError as error:
        raise fail(str(error)) from None
    console.print(
        f"made key {token_key.key_label!r} on {token_key.describe()}; public key: "
        f"{base64.b64encode(public).decode('ascii')}",
        soft_wrap=True,
        highlight=False,
    )


@audit_app.command()
def checkpoint(database_url: DatabaseOption = None) -> None:
    """Integrate every pending event and sign a checkpoint now (if the logs grew), then export
    it to the witnesses."""
    settings = settings_of(database_url)
    sealing = _sealing(settings)
    database = database_of(settings)
    try:
        reports = [sealing.run(database, SystemClock(), force=True)]
        # A round integrates a bounded number of events: go on until the queue is empty.
        while reports[-1].integrated == sealing.round_limit:
            reports.append(sealing.run(database, SystemClock(), force=True))
    finally:
        database.dispose()
    signed = [report.checkpoint for report in reports if report.checkpoint is not None]
    if not signed:
        console.print("no new events since the latest checkpoint")
    else:
        console.print(
            f"checkpoint of size {signed[-1]} signed, exported "
            f"{sum(report.exported for report in reports)}, cosigned by "
            f"{reports[-1].cosigned} witnesses"
        )


@audit_app.command()
def verify(
    database_url: DatabaseOption = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Recompute every log, head and checkpoint from the rows, check the exported checkpoints
    (the audit log's and the key directory's), and name the first inconsistency."""
    from colloque.audit import verify as checks
    from colloque.keydirectory.exports import verify_exported

    settings = settings_of(database_url)
    sealing = _sealing(settings)
    database = database_of(settings)
    expected = checks.Expected(sealing.origin, sealing.signer.public_key)
    # Outside production the development key; in production settings_of required a real one.
    key_log = checks.Expected(
        settings.key_directory_origin, _log_public_key(settings.log_signing_seed)
    )
    try:
        with Progress(
            TextColumn("verifying the audit log"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            disable=not progress,
        ) as bar:
            task = bar.add_task("rows", total=checks.work(database))
            report = checks.verify(
                database,
                expected=expected,
                now=SystemClock().now(),
                bound=timedelta(seconds=settings.audit_integration_bound_seconds),
                witness=sealing.file_witness,
                progress=lambda rows: bar.advance(task, rows),
            )
            key_exported = (
                0
                if sealing.file_witness is None
                else verify_exported(database, sealing.file_witness, expected=key_log)
            )
    except checks.VerificationFailed as failure:
        errors.print(f"[bold red]inconsistent:[/] {failure}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None
    finally:
        database.dispose()
    console.print(
        f"consistent: {report.leaves} events in {report.logs} logs, {report.heads} heads, "
        f"{report.checkpoints} checkpoints; exported checkpoints checked: {report.exported} "
        f"(audit), {key_exported} (key directory)",
        soft_wrap=True,
    )


def _log_public_key(seed: bytes) -> bytes:
    from colloque.crypto.transparency import log_public_key

    return log_public_key(seed)


@audit_app.command()
def status(database_url: DatabaseOption = None) -> None:
    """Per log: its size; the pending events and the age of the oldest (the window between
    commit and integration); the latest checkpoint; what each witness last cosigned."""
    settings = settings_of(database_url)
    database = database_of(settings)
    try:
        _print_status(database, settings)
    finally:
        database.dispose()


def _print_status(database: Database, settings: Settings) -> None:
    from colloque.audit import checkpoints
    from colloque.audit.models import AuditLogHead, AuditPending
    from colloque.audit.verify import log_name
    from colloque.audit.witnesses import AUDIT_LOG, FileWitness, cosigned_sizes

    now = SystemClock().now()
    with database.read() as session:
        sizes = session.execute(
            select(AuditLogHead.log_id, func.max(AuditLogHead.tree_size))
            .group_by(AuditLogHead.log_id)
            .order_by(AuditLogHead.log_id)
        ).all()
        pending = session.execute(
            select(AuditPending.log_id, func.count(), func.min(AuditPending.queued_at)).group_by(
                AuditPending.log_id
            )
        ).all()
        heads = session.scalar(select(func.count()).select_from(AuditLogHead)) or 0
        latest = checkpoints.latest(session)
        cosigned = cosigned_sizes(session)
    waiting = {log_id: (count, oldest) for log_id, count, oldest in pending}
    for log_id, size in sizes:
        count = waiting.get(log_id, (0, None))[0]
        console.print(f"{log_name(log_id)}: {size} events, {count} pending", highlight=False)
    for log_id in sorted(set(waiting) - {log_id for log_id, _size in sizes}):
        console.print(f"{log_name(log_id)}: 0 events, {waiting[log_id][0]} pending")
    total = sum(count for count, _oldest in waiting.values())
    oldest = min((at for _count, at in waiting.values()), default=None)
    window = "none" if oldest is None else f"{(now - oldest).total_seconds():.0f} s"
    console.print(f"pending: {total} events, the oldest waiting for {window}", highlight=False)
    if latest is None:
        console.print(f"log of heads: {heads} heads, no checkpoint yet")
    else:
        console.print(
            f"log of heads: {heads} heads; latest checkpoint: size {latest.tree_size}, "
            f"signed {latest.signed_at:%Y-%m-%d %H:%M:%S}Z",
            highlight=False,
        )
    if settings.audit_witness_dir is not None:
        exported = FileWitness(settings.audit_witness_dir).last_size(AUDIT_LOG)
        console.print(f"file witness {settings.audit_witness_dir}: up to size {exported}")
    for entry in settings.witnesses:
        console.print(f"witness {entry.name}: cosigned up to size {cosigned.get(entry.name, 0)}")
