"""The ASGI application for servers: ``uvicorn colloque.api.main:app``."""

from __future__ import annotations

from colloque.api.app import create_app

app = create_app()
