"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from colloque.accounts.alerts import probing_lock_notifier
from colloque.api import headers, observability, openapi, problems
from colloque.api.limits import BodyLimit
from colloque.api.routes.access_log import router as access_log_router
from colloque.api.routes.accounts import router as accounts_router
from colloque.api.routes.agenda_settings import router as agenda_settings_router
from colloque.api.routes.booking import router as booking_router
from colloque.api.routes.documents import router as documents_router
from colloque.api.routes.inbox import router as inbox_router
from colloque.api.routes.key_directory import router as key_directory_router
from colloque.api.routes.members import router as members_router
from colloque.api.routes.operator_access import router as operator_access_router
from colloque.api.routes.outbox import router as outbox_router
from colloque.api.routes.patients import router as patients_router
from colloque.api.routes.practice_keys import router as practice_keys_router
from colloque.api.routes.records import router as records_router
from colloque.api.routes.scheduling import router as scheduling_router
from colloque.api.routes.search import router as search_router
from colloque.api.routes.sessions import router as sessions_router
from colloque.api.routes.time_off import router as time_off_router
from colloque.api.routes.timetable import router as timetable_router
from colloque.api.routes.waitlist import router as waitlist_router
from colloque.authorization import probing
from colloque.clock import Clock, SystemClock
from colloque.config import Environment, Settings, load_settings
from colloque.containment import http as containment
from colloque.delivery.outbox import OutboxWorker
from colloque.delivery.setup import configure_breaker, outbox_delivery_from_settings
from colloque.keydirectory.config import CosignedLogKey
from colloque.keydirectory.witnesses import Witnessing, WitnessRetry
from colloque.storage.blobs import FilesystemBlobStore
from colloque.storage.engine import Database
from colloque.worker import BackgroundRefresher, audit_sealing

#: Requests that never append to the key directory.
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _submit_after_writes(app: FastAPI, witnessing: Witnessing) -> None:
    """After each write request, once its transaction has committed, bring the witnesses up to
    the latest checkpoint before answering: a client that has just published a key finds it in
    the witnessed checkpoint. Only installed when witnesses are configured."""

    @app.middleware("http")
    async def submit_to_witnesses(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.method not in _READS and response.status_code < 400:
            await run_in_threadpool(partial(witnessing.catch_up, retry=False))
        return response


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    settings.check_production()
    database = database or Database(settings.effective_database_url)
    configure_breaker(settings, database)
    clock = clock or SystemClock()
    witnessing = Witnessing.from_settings(
        settings, database=database, log=CosignedLogKey.from_settings(settings), clock=clock
    )

    # Read before serving: production refuses to start without a usable audit signing key.
    audit = audit_sealing(settings) if settings.run_refresher else None

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        # Sync routes and dependencies run on this loop's thread pool: capped at the database
        # pool's size, a burst of requests waits here for a thread instead of opening (and
        # closing) connections beyond the pool.
        to_thread.current_default_thread_limiter().total_tokens = database.pool_size
        refresher = None
        if audit is not None:
            refresher = BackgroundRefresher(
                database,
                clock,
                interval=settings.refresh_interval_seconds,
                batch=settings.refresh_batch,
                # Read at start: the store the routes use, even one set after create_app.
                blobs=running.state.blob_store,
                document_upload_grace=settings.document_upload_grace,
                address_retention=settings.audit_address_retention,
                audit=audit,
            )
            refresher.start()
        outbox = None
        if settings.effective_run_outbox_worker:
            outbox = OutboxWorker(
                running.state.outbox_delivery, interval=settings.outbox_interval_seconds
            )
            outbox.start()
        retry = None
        if witnessing is not None:
            retry = WitnessRetry(witnessing, interval=settings.key_directory_witness_retry_seconds)
            retry.start()
        try:
            yield
        finally:
            if refresher is not None:
                refresher.stop()
            if outbox is not None:
                outbox.stop()
            if retry is not None:
                retry.stop()

    app = headers.SecuredAPI(
        title="Colloque",
        version="0.1.0",
        summary="Medical appointments with end-to-end encrypted health data",
        lifespan=lifespan,
        # Swagger UI is served from our own copy (api/openapi.py); ReDoc is off. Neither the
        # docs nor the document are served in production unless COLLOQUE_API_DOCS says so
        # (app.openapi() still makes the document in-process).
        docs_url=None,
        redoc_url=None,
        openapi_url=openapi.OPENAPI_PATH if settings.effective_api_docs else None,
    )
    app.state.database = database
    app.state.clock = clock
    app.state.settings = settings
    app.state.blob_store = FilesystemBlobStore(settings.data_dir / "blobs")
    #: Replaceable before the app starts (the channels of a test or of the demo).
    app.state.outbox_delivery = outbox_delivery_from_settings(
        settings, database=database, clock=clock
    )
    problems.install(app)
    openapi.install(app, docs=settings.effective_api_docs)
    # Bodies are limited per route before anything reads them (api/limits.py). Added first, so
    # that observability's middleware wraps it: a 413 carries a request id and is logged.
    app.add_middleware(BodyLimit)
    observability.install(app, settings, database)
    probing.install(
        app,
        settings,
        on_lock=probing_lock_notifier(
            key=settings.server_keys.account_mail_seal,
            inbox_url=f"{settings.public_url}/me/notifications",
        ),
    )
    containment.install(app, settings)
    # Last: it wraps the whole stack, errors included.
    headers.install(app, production=settings.environment is Environment.PRODUCTION)
    if witnessing is not None:
        app.state.log_signer = witnessing.log
        app.state.witnessing = witnessing
        _submit_after_writes(app, witnessing)

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="Liveness and readiness: the database answers",
        description="Public. 200 when the database answers a query, 503 when it does not.",
        responses={
            503: {
                "description": "The database does not answer",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    def healthz() -> JSONResponse:
        body: dict[str, Any] = {"status": "ok", "database": "ok"}
        try:
            with database.read() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            body = {"status": "unavailable", "database": "unreachable"}
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    for router in (
        search_router,
        scheduling_router,
        agenda_settings_router,
        time_off_router,
        timetable_router,
        booking_router,
        patients_router,
        waitlist_router,
        accounts_router,
        operator_access_router,
        outbox_router,
        inbox_router,
        access_log_router,
        key_directory_router,
        practice_keys_router,
        members_router,
        sessions_router,
        records_router,
        documents_router,
    ):
        app.include_router(router)
    return app
