"""Settings, read from the environment (``COLLOQUE_*``).

Production refuses to start with a missing or default secret, or with the demo's console
defaults: see :meth:`Settings.check_production`.
"""

from __future__ import annotations

import enum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "colloque-development-secret-not-for-production"  # noqa: S105 - refused in production
MIN_SECRET_LENGTH = 32


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ConfigurationError(Exception):
    """The settings cannot run Colloque; the message says which setting and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COLLOQUE_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("var")
    database_url: str | None = None
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: How often the background worker rebuilds stale search caches and lapses waitlist holds.
    refresh_interval_seconds: float = Field(default=15.0, gt=0)
    refresh_batch: int = Field(default=200, ge=1)
    #: Start the in-process refresher with the web server. Turn off when a separate worker runs it.
    run_refresher: bool = True

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'colloque.sqlite3').resolve()}"

    def check_production(self) -> None:
        if self.environment is not Environment.PRODUCTION:
            return
        secret = self.secret_key.get_secret_value()
        if not secret or secret == DEVELOPMENT_SECRET or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigurationError(
                "COLLOQUE_SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters in production"
            )
        if not self.database_url:
            raise ConfigurationError("COLLOQUE_DATABASE_URL must be set in production")


def load_settings() -> Settings:
    settings = Settings()
    settings.check_production()
    return settings
