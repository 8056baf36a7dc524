"""The whole application: the JSON API and, beside it, the pages and their assets."""

from __future__ import annotations

from fastapi import FastAPI

from colloque.api.app import create_app as create_api
from colloque.clock import Clock
from colloque.config import Settings, load_settings
from colloque.storage.engine import Database
from colloque.web import (
    access_history_page,
    account_pages,
    agenda_page,
    appointments_page,
    booking_page,
    desk_pages,
    members_page,
    notifications_page,
    outbox_page,
    practice_audit_page,
    practices_page,
    practitioner_page,
    records_pages,
    relatives_page,
    search_pages,
    settings_pages,
    setup_pages,
    static,
    unsubscribe_page,
)
from colloque.web.assets import Assets, load_assets


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
    assets: Assets | None = None,
) -> FastAPI:
    settings = settings or load_settings()
    app = create_api(settings, database=database, clock=clock)
    app.state.web_assets = assets or load_assets(settings.web_dist_dir)
    app.include_router(static.router)
    app.include_router(search_pages.router)
    app.include_router(practitioner_page.router)
    app.include_router(appointments_page.router)
    app.include_router(relatives_page.router)
    app.include_router(notifications_page.router)
    app.include_router(access_history_page.router)
    app.include_router(records_pages.router)
    app.include_router(setup_pages.router)
    app.include_router(settings_pages.router)
    app.include_router(account_pages.router)
    app.include_router(booking_page.router)
    app.include_router(desk_pages.router)
    app.include_router(agenda_page.router)
    app.include_router(members_page.router)
    app.include_router(outbox_page.router)
    app.include_router(practice_audit_page.router)
    app.include_router(practices_page.router)
    app.include_router(unsubscribe_page.router)
    return app
