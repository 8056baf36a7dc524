"""Known devices: a sign-in from a browser or client the account has not used before is told to
the account's owner by mail, so that a stolen password used elsewhere does not go unnoticed.

A device is a random token the server gives it in a long-lived cookie, sent only to the sign-in
routes. Only the token's SHA-256 is stored, with a coarse label of the software from its
User-Agent ("Firefox on Linux"). The first device of an account is recorded without a notice
(the owner has just signed up or signed in for the first time); a device whose cookie was cleared
counts as new, which errs on the side of telling.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import ua_parser
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from colloque.accounts.models import KnownDevice
from colloque.accounts.sessions import hash_token

DEVICE_COOKIE = "colloque_device"
#: Long enough to recognise a device used a few times a year (browsers cap cookies at 400 days).
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600
UNKNOWN_SOFTWARE = "unknown"
_LABEL_LENGTH = 64
_TOKEN_BYTES = 24


@dataclass(frozen=True, slots=True)
class DeviceClaim:
    """What a sign-in request says about its device: the cookie's token, if any, and its
    User-Agent header."""

    token: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class SeenDevice:
    #: The token the device keeps (the one it sent, or a new one).
    token: str
    label: str
    #: The account had other devices and not this one: its owner is told.
    is_new: bool


def device_label(user_agent: str | None) -> str:
    """The software's family and system, without versions: enough for an owner to recognise
    their own device, too little to fingerprint it."""
    if not user_agent:
        return UNKNOWN_SOFTWARE
    parsed = ua_parser.parse(user_agent[:512])
    browser = parsed.user_agent.family if parsed.user_agent is not None else None
    system = parsed.os.family if parsed.os is not None else None
    if browser in (None, "Other"):
        browser = None
    if system in (None, "Other"):
        system = None
    if browser and system:
        return f"{browser} / {system}"[:_LABEL_LENGTH]
    return (browser or system or UNKNOWN_SOFTWARE)[:_LABEL_LENGTH]


def recognise_device(
    session: Session, *, now: datetime, account_id: UUID, claim: DeviceClaim
) -> SeenDevice:
    """Record this sign-in's device for the account; say whether its owner must be told."""
    label = device_label(claim.user_agent)
    if claim.token:
        known = session.get(KnownDevice, (account_id, hash_token(claim.token)))
        if known is not None:
            known.last_seen_at = now
            known.label = label
            return SeenDevice(token=claim.token, label=label, is_new=False)
    had_devices = session.scalar(select(exists().where(KnownDevice.account_id == account_id)))
    # A token this account does not know yet is kept if it looks like one of ours: a computer
    # shared by two accounts keeps one cookie for both. A forged one only names a device to its
    # own account, whose owner is told about it like any new device.
    token = (
        claim.token
        if claim.token and _looks_like_token(claim.token)
        else secrets.token_urlsafe(_TOKEN_BYTES)
    )
    session.add(
        KnownDevice(
            account_id=account_id,
            device_hash=hash_token(token),
            label=label,
            first_seen_at=now,
            last_seen_at=now,
        )
    )
    return SeenDevice(token=token, label=label, is_new=bool(had_devices))


def _looks_like_token(value: str) -> bool:
    return len(value) == 32 and value.replace("-", "").replace("_", "").isalnum()
