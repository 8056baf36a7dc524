"""``colloque serve`` and ``colloque worker``: the HTTP server and the background worker, and the
schema migration both run first."""

from __future__ import annotations

import os
import time
from typing import Annotated, Any

import typer
from rich.console import Console

from colloque.cli.common import (
    SERVER_OPTIONS,
    DatabaseOption,
    check_database_role,
    database_of,
    fail,
    settings_of,
)
from colloque.clock import SystemClock
from colloque.config import ConfigurationError, Settings
from colloque.logs import configure as configure_logging
from colloque.storage.migrate import upgrade
from colloque.storage.roles import DatabaseRoleError, is_permission_denied

console = Console()


def migrate_schema(settings: Settings) -> None:
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
    migrate_schema(settings)
    checked = database_of(settings)
    try:
        check_database_role(settings, checked)
    finally:
        checked.dispose()
    run_server(settings, host=host or settings.host, port=port or settings.port, workers=workers)


WORKER_HEALTHCHECK_SECONDS = 60


def run_server(settings: Settings, *, host: str, port: int, workers: int) -> None:

    import uvicorn

    configure_logging(json=settings.environment == "production")
    # The workers import colloque.web.main, which reads its settings from the environment.
    os.environ.update(server_environment(settings, workers=workers))
    uvicorn.run(
        "colloque.web.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        log_config=uvicorn_log_config(),
        **SERVER_OPTIONS,
        # uvicorn kills a worker whose health thread has not answered in this time, requests in
        # flight included. Its default, 5 s, is short for a worker whose 16 request threads hold
        # the GIL through a load spike (workers were replaced mid-run under the search benchmark
        # on two shared cores, most likely so); a hung worker is still replaced, later.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        # The app applies the proxy headers itself, from the same settings, so that the one
        # list of trusted proxies also decides whether their X-Request-ID is taken
        # (colloque.api.observability); uvicorn must not rewrite the client before it looks.
        proxy_headers=False,
    )


def server_environment(settings: Settings, *, workers: int) -> dict[str, str]:
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


def uvicorn_log_config() -> dict[str, Any]:
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
