"""The ASGI application for servers, API and pages: ``uvicorn colloque.web.main:app``."""

from __future__ import annotations

import gc

from colloque.config import Environment, load_settings
from colloque.logs import configure as configure_logging
from colloque.web.app import create_app

settings = load_settings()
# As in colloque.api.main: a server started by uvicorn directly logs with the safe formatter too.
configure_logging(json=settings.environment is Environment.PRODUCTION)
app = create_app(settings)
# What the process holds from here on (modules, mappers, schemas, settings) lives as long as it:
# kept out of the collector's reach, it is not walked by every full collection again. Under the
# search benchmark those collections took 150 to 200 ms each, and set its p99.
gc.freeze()
