from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from colloque.config import (
    DEVELOPMENT_LOG_SEED,
    ConfigurationError,
    Environment,
    Settings,
    decode_log_seed,
)


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
        key_directory_log_key=SecretStr(base64.b64encode(bytes(range(32))).decode()),
    ).check_production()


def test_production_refuses_a_missing_or_development_log_key() -> None:
    production: dict[str, Any] = {
        "environment": Environment.PRODUCTION,
        "secret_key": SecretStr("k" * 40),
        "database_url": "postgresql://x/y",
    }
    with pytest.raises(ConfigurationError, match="COLLOQUE_KEY_DIRECTORY_LOG_KEY must be set"):
        Settings(**production).check_production()
    development = SecretStr(DEVELOPMENT_LOG_SEED.hex())
    with pytest.raises(ConfigurationError, match="development default"):
        Settings(**production, key_directory_log_key=development).check_production()


def test_the_log_key_is_its_own_setting_not_derived_from_the_secret() -> None:
    seed = bytes(range(32))
    assert Settings().log_signing_seed == DEVELOPMENT_LOG_SEED
    # Rotating the secret leaves the log key alone, in development as with a key set.
    assert Settings(secret_key=SecretStr("r" * 40)).log_signing_seed == DEVELOPMENT_LOG_SEED
    for written in (
        seed.hex(),
        seed.hex().upper(),
        base64.b64encode(seed).decode(),
        base64.urlsafe_b64encode(seed).decode().rstrip("="),
        f"  {seed.hex()}\n",
    ):
        for secret in ("s" * 40, "t" * 40):
            settings = Settings(
                secret_key=SecretStr(secret), key_directory_log_key=SecretStr(written)
            )
            assert settings.log_signing_seed == seed
    assert decode_log_seed(seed.hex()) == seed


@pytest.mark.parametrize(
    "written",
    ["", "00" * 31, "00" * 33, "zz" * 32, base64.b64encode(bytes(31)).decode(), "not base64!"],
)
def test_a_log_key_that_is_not_32_bytes_is_refused(
    written: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLOQUE_KEY_DIRECTORY_LOG_KEY", written)
    with pytest.raises(ValidationError, match="32 random bytes in hex or base64") as refused:
        Settings()
    # The value of a secret setting never appears in the error (it goes to logs and terminals).
    assert not written or written not in str(refused.value)


def test_the_log_key_setting_keeps_its_value_out_of_reprs() -> None:
    written = bytes(range(32)).hex()
    assert written not in repr(Settings(key_directory_log_key=SecretStr(written)))


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
