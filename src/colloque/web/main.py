"""The ASGI application for servers, API and pages: ``uvicorn colloque.web.main:app``."""

from __future__ import annotations

from colloque.config import Environment, load_settings
from colloque.logs import configure as configure_logging
from colloque.web.app import create_app

settings = load_settings()
# As in colloque.api.main: a server started by uvicorn directly logs with the safe formatter too.
configure_logging(json=settings.environment is Environment.PRODUCTION)
app = create_app(settings)
