"""The outbox delivery of a deployment, made from its settings."""

from __future__ import annotations

from datetime import timedelta

from colloque.clock import Clock
from colloque.config import Settings
from colloque.delivery.channels import Channels, channels_from_settings
from colloque.delivery.compose import MailConfig
from colloque.delivery.outbox import OutboxDelivery, RetryPolicy
from colloque.delivery.reminders import ReminderPlanner
from colloque.notifications.breaker import LIMITS_KEY, MassChangeLimits
from colloque.storage.engine import Database


def configure_breaker(settings: Settings, database: Database) -> None:
    """Every session of ``database`` reads the mass-change breaker's limits from the settings."""
    database.session_info[LIMITS_KEY] = MassChangeLimits(
        limit=settings.mass_change_limit,
        window=timedelta(seconds=settings.mass_change_window_seconds),
    )


def retry_policy_from_settings(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.outbox_max_attempts,
        base=timedelta(seconds=settings.outbox_retry_base_seconds),
        cap=timedelta(seconds=settings.outbox_retry_cap_seconds),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        batch=settings.outbox_batch,
    )


def outbox_delivery_from_settings(
    settings: Settings, *, database: Database, clock: Clock, channels: Channels | None = None
) -> OutboxDelivery:
    channels = channels or channels_from_settings(settings)
    keys = settings.server_keys
    return OutboxDelivery(
        database,
        clock,
        channels,
        mail=MailConfig(
            domain=settings.effective_mail_domain,
            public_url=settings.public_url,
            unsubscribe_key=keys.unsubscribe_token,
        ),
        account_mail_key=keys.account_mail_seal,
        policy=retry_policy_from_settings(settings),
        reminders=ReminderPlanner(sms=channels.sms is not None, phone_key=keys.reminder_phone_hash),
    )
