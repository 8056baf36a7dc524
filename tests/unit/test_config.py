from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr, ValidationError

from colloque.config import ConfigurationError, Environment, Settings


def test_production_refuses_default_secret() -> None:
    with pytest.raises(ConfigurationError, match="COLLOQUE_SECRET_KEY"):
        Settings(
            environment=Environment.PRODUCTION, database_url="postgresql://x/y"
        ).check_production()


def test_production_refuses_short_secret_and_missing_database() -> None:
    with pytest.raises(ConfigurationError, match="COLLOQUE_SECRET_KEY"):
        Settings(
            environment=Environment.PRODUCTION,
            secret_key=SecretStr("short"),
            database_url="postgresql://x/y",
        ).check_production()
    with pytest.raises(ConfigurationError, match="COLLOQUE_DATABASE_URL"):
        Settings(
            environment=Environment.PRODUCTION, secret_key=SecretStr("x" * 40)
        ).check_production()


def test_production_with_real_settings_starts() -> None:
    Settings(
        environment=Environment.PRODUCTION,
        secret_key=SecretStr("k" * 40),
        database_url="postgresql://x/y",
    ).check_production()


def test_development_defaults_to_sqlite_in_data_dir() -> None:
    assert Settings().effective_database_url.startswith("sqlite:///")


def test_the_document_upload_grace_is_a_day_by_default_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().document_upload_grace == timedelta(days=1)
    monkeypatch.setenv("COLLOQUE_DOCUMENT_UPLOAD_GRACE_SECONDS", "7200")
    assert Settings().document_upload_grace == timedelta(hours=2)
    for refused in ("60", str(31 * 86_400)):
        monkeypatch.setenv("COLLOQUE_DOCUMENT_UPLOAD_GRACE_SECONDS", refused)
        with pytest.raises(ValidationError, match="document_upload_grace_seconds"):
            Settings()
