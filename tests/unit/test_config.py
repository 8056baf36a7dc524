from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from colloque.config import (
    DEVELOPMENT_LOG_SEED,
    ConfigurationError,
    Environment,
    MailBackend,
    Settings,
    SmsBackend,
)
from colloque.settingvalues import decode_log_seed


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
        audit_signing_key_file=Path("/run/keys/colloque-audit"),
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


_PRODUCTION: dict[str, Any] = {
    "environment": Environment.PRODUCTION,
    "secret_key": SecretStr("k" * 40),
    "database_url": "postgresql://x/y",
    "key_directory_log_key": SecretStr(base64.b64encode(bytes(range(32))).decode()),
    "audit_signing_key_file": Path("/run/keys/colloque-audit"),
}


def test_production_refuses_a_dkim_selector_without_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="COLLOQUE_DKIM_PRIVATE_KEY_FILE must be set"):
        Settings(**_PRODUCTION, dkim_selector="s1").check_production()
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Settings(
            **_PRODUCTION, dkim_selector="s1", dkim_private_key_file=tmp_path / "missing.pem"
        ).check_production()
    not_a_key = tmp_path / "empty.pem"
    not_a_key.write_text("")
    with pytest.raises(ConfigurationError, match="no PEM private key"):
        Settings(
            **_PRODUCTION, dkim_selector="s1", dkim_private_key_file=not_a_key
        ).check_production()
    key = tmp_path / "dkim.pem"
    key.write_text("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n")
    Settings(**_PRODUCTION, dkim_selector="s1", dkim_private_key_file=key).check_production()
    # No selector: mail is not signed, and nothing is required.
    assert Settings(**_PRODUCTION).dkim_private_key() is None


def test_production_refuses_development_channels_and_an_sms_provider_without_its_token() -> None:
    for backend, variable in (
        (MailBackend.CONSOLE, "COLLOQUE_MAIL_BACKEND=console"),
        (MailBackend.MAILDIR, "COLLOQUE_MAIL_BACKEND=maildir"),
    ):
        with pytest.raises(ConfigurationError, match=variable):
            Settings(**_PRODUCTION, mail_backend=backend).check_production()
    with pytest.raises(ConfigurationError, match="COLLOQUE_SMS_BACKEND=console"):
        Settings(**_PRODUCTION, sms_backend=SmsBackend.CONSOLE).check_production()
    with pytest.raises(ConfigurationError, match="COLLOQUE_SMS_PROVIDER_TOKEN"):
        Settings(
            **_PRODUCTION, sms_backend=SmsBackend.HTTP, sms_provider_url="https://sms.example"
        ).check_production()
    Settings(
        **_PRODUCTION,
        sms_backend=SmsBackend.HTTP,
        sms_provider_url="https://sms.example",
        sms_provider_token=SecretStr("t"),
    ).check_production()


def test_the_mail_domain_defaults_to_the_sender_s() -> None:
    assert Settings(mail_from="Colloque <noreply@colloque.example>").effective_mail_domain == (
        "colloque.example"
    )
    assert Settings(mail_domain="mail.example").effective_mail_domain == "mail.example"
    assert Settings(run_refresher=False).effective_run_outbox_worker is False
    assert Settings(run_refresher=False, run_outbox_worker=True).effective_run_outbox_worker


def test_the_audit_signing_key_file_and_origin(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="COLLOQUE_AUDIT_SIGNING_KEY_FILE must be set"):
        Settings(**{**_PRODUCTION, "audit_signing_key_file": None}).check_production()
    with pytest.raises(ConfigurationError, match="COLLOQUE_AUDIT_SIGNING_KEY_FILE must be set"):
        _ = Settings(environment=Environment.PRODUCTION).effective_audit_signing_key_file
    development = Settings(data_dir=tmp_path, public_url="https://rdv.example.org")
    assert development.effective_audit_signing_key_file == tmp_path / "audit-signing-key"
    assert development.effective_audit_origin == "rdv.example.org/audit"
    chosen = Settings(audit_signing_key_file=tmp_path / "k", audit_origin="example.org/a")
    assert chosen.effective_audit_signing_key_file == tmp_path / "k"
    assert chosen.effective_audit_origin == "example.org/a"
