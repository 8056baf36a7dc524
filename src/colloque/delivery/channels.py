"""The channels a deployment's settings name (email always; SMS when configured)."""

from __future__ import annotations

from dataclasses import dataclass

from colloque.config import ConfigurationError, MailBackend, Settings, SmsBackend
from colloque.notifications.interfaces import EmailChannel, SmsChannel
from colloque.notifications.mail import (
    ConsoleMailSender,
    DkimSigner,
    MaildirMailSender,
    SmtpMailSender,
)
from colloque.notifications.sms import ConsoleSmsSender, HttpSmsProvider


@dataclass(frozen=True, slots=True)
class Channels:
    email: EmailChannel
    sms: SmsChannel | None = None


def dkim_signer_from_settings(settings: Settings) -> DkimSigner | None:
    key = settings.dkim_private_key()
    if key is None or settings.dkim_selector is None:
        return None
    return DkimSigner(
        selector=settings.dkim_selector,
        domain=settings.dkim_domain or settings.effective_mail_domain,
        private_key_pem=key,
    )


def email_channel_from_settings(settings: Settings) -> EmailChannel:
    backend = settings.effective_mail_backend
    if backend is MailBackend.CONSOLE:
        return ConsoleMailSender()
    signer = dkim_signer_from_settings(settings)
    if backend is MailBackend.MAILDIR:
        return MaildirMailSender(
            settings.effective_maildir_path, sender=settings.mail_from, signer=signer
        )
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=password,
        starttls=settings.effective_smtp_starttls,
        signer=signer,
    )


def sms_channel_from_settings(settings: Settings) -> SmsChannel | None:
    if settings.sms_backend is SmsBackend.NONE:
        return None
    if settings.sms_backend is SmsBackend.CONSOLE:
        return ConsoleSmsSender()
    token = settings.sms_provider_token.get_secret_value() if settings.sms_provider_token else ""
    if not settings.sms_provider_url or not token:
        raise ConfigurationError(
            "COLLOQUE_SMS_PROVIDER_URL and COLLOQUE_SMS_PROVIDER_TOKEN must be set when "
            "COLLOQUE_SMS_BACKEND=http"
        )
    return HttpSmsProvider(url=settings.sms_provider_url, token=token, sender=settings.sms_sender)


def channels_from_settings(settings: Settings) -> Channels:
    return Channels(
        email=email_channel_from_settings(settings), sms=sms_channel_from_settings(settings)
    )
