"""Account settings: what production refuses, which mail sender, the server-secret format."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from colloque.accounts.config import TEST_COST, AccountsConfig
from colloque.accounts.mailing import signup_code
from colloque.accounts.secrets import open_server_secret, seal_server_secret
from colloque.accounts.services import do_add_member
from colloque.clock import SettableClock
from colloque.config import ConfigurationError, Environment, KdfCost, MailBackend, Settings
from colloque.crypto import CryptoError
from colloque.crypto.login import INTERACTIVE_COST
from colloque.delivery.channels import email_channel_from_settings
from colloque.errors import InvalidInput
from colloque.notifications.interfaces import DeliveryError
from colloque.notifications.mail import ConsoleMailSender, SmtpMailSender
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.factories import build_world
from tests.server import free_port

PRODUCTION: dict[str, Any] = {
    "environment": Environment.PRODUCTION,
    "secret_key": SecretStr("k" * 40),
    "database_url": "postgresql://x/y",
    "key_directory_log_key": SecretStr("6b" * 32),
    "audit_signing_key_file": Path("/run/keys/colloque-audit"),
}


def test_production_defaults_are_safe() -> None:
    settings = Settings(**PRODUCTION)
    settings.check_production()
    assert settings.effective_mail_backend is MailBackend.SMTP
    assert settings.effective_smtp_starttls is True
    assert settings.effective_cookie_secure is True
    assert settings.kdf_cost is KdfCost.INTERACTIVE


def test_development_defaults_suit_the_local_demo() -> None:
    settings = Settings(environment=Environment.DEVELOPMENT)
    assert settings.effective_mail_backend is MailBackend.CONSOLE
    assert settings.effective_smtp_starttls is False
    assert settings.effective_cookie_secure is False
    assert Settings(environment=Environment.TEST).effective_cookie_secure is True


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"mail_backend": MailBackend.CONSOLE}, "COLLOQUE_MAIL_BACKEND"),
        ({"smtp_starttls": False}, "COLLOQUE_SMTP_STARTTLS"),
        ({"smtp_username": "mailer"}, "COLLOQUE_SMTP_PASSWORD"),
        ({"smtp_username": "mailer", "smtp_password": SecretStr("")}, "COLLOQUE_SMTP_PASSWORD"),
        ({"cookie_secure": False}, "COLLOQUE_COOKIE_SECURE"),
        ({"kdf_cost": KdfCost.TEST}, "COLLOQUE_KDF_COST"),
        ({"containment_enabled": False}, "COLLOQUE_CONTAINMENT_ENABLED"),
    ],
)
def test_production_refuses(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(ConfigurationError, match=setting):
        Settings(**{**PRODUCTION, **overrides}).check_production()


@pytest.mark.parametrize("environment", [Environment.DEVELOPMENT, Environment.TEST])
def test_containment_may_be_off_outside_production(environment: Environment) -> None:
    """The benchmarks' baseline (and a test's bare app) turn the counters off."""
    Settings(
        **{**PRODUCTION, "environment": environment, "containment_enabled": False}
    ).check_production()


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLOQUE_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("COLLOQUE_SMTP_PORT", "2525")
    monkeypatch.setenv("COLLOQUE_KDF_COST", "test")
    monkeypatch.setenv("COLLOQUE_COOKIE_SECURE", "false")
    settings = Settings()
    assert settings.effective_mail_backend is MailBackend.SMTP
    assert settings.smtp_port == 2525
    assert settings.effective_cookie_secure is False
    config = AccountsConfig.from_settings(settings)
    assert config.kdf_cost == TEST_COST
    assert config.allow_weak_cost is True
    assert AccountsConfig.from_settings(Settings()).kdf_cost == TEST_COST
    monkeypatch.delenv("COLLOQUE_KDF_COST")
    assert AccountsConfig.from_settings(Settings()).kdf_cost == INTERACTIVE_COST


def test_mail_channels() -> None:
    assert isinstance(email_channel_from_settings(Settings()), ConsoleMailSender)
    smtp = email_channel_from_settings(
        Settings(
            mail_backend=MailBackend.SMTP,
            smtp_username="mailer",
            smtp_password=SecretStr("pw"),
        )
    )
    assert isinstance(smtp, SmtpMailSender)
    # A failed delivery raises for the outbox to retry, naming neither the address nor the text.
    unreachable = SmtpMailSender(
        host="127.0.0.1", port=free_port(), sender="noreply@colloque.test", timeout=2
    )
    with pytest.raises(DeliveryError) as raised:
        unreachable.send(signup_code("ana@example.test", "123456"))
    assert raised.value.category == "smtp_unavailable"
    assert "ana" not in str(raised.value)
    assert "123456" not in str(raised.value)


def test_server_secrets_are_sealed_to_their_account() -> None:
    account_id = uuid.uuid4()
    sealed = seal_server_secret(b"JBSWY3DPEHPK3PXP", key=bytes(32), account_id=account_id)
    assert open_server_secret(sealed, key=bytes(32), account_id=account_id) == b"JBSWY3DPEHPK3PXP"
    for stored in (b"", b"\x07JBSWY3DPEHPK3PXP"):
        with pytest.raises(CryptoError):
            open_server_secret(stored, key=bytes(32), account_id=account_id)
    with pytest.raises(CryptoError):
        open_server_secret(sealed, key=bytes(32), account_id=uuid.uuid4())


def test_memberships_take_member_roles_only(db: Database, clock: SettableClock) -> None:
    world = build_world(db, clock)
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=world.holder.account_id,
            role=Role.OPERATOR,
        )
    assert caught.value.field == "role"
