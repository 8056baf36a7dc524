"""The JSON API alone, without the pages: ``uvicorn colloque.api.main:app``. ``colloque serve``
runs colloque.web.main, which adds the pages to the same app."""

from __future__ import annotations

from colloque.api.app import create_app
from colloque.config import Environment, load_settings
from colloque.logs import configure as configure_logging

settings = load_settings()
# Here too, not only in ``colloque serve``: a server started as ``uvicorn colloque.api.main:app``
# must log with the same safe formatter (no local variables in tracebacks).
configure_logging(json=settings.environment is Environment.PRODUCTION)
app = create_app(settings)
