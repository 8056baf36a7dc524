"""Accounts, memberships and issued tokens, and resolving the acting principal from a token.

Sign-up, login and the rest of the account life cycle live beside this module (``signup``,
``login``, ``mfa``, ``invitations``, ``deletion``); see docs/accounts.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accounts.models import Account, KeyBundleRow
from colloque.accounts.sessions import (
    TOKEN_BYTES,
    TOKEN_PREFIX,
    SessionKind,
    hash_token,
    load_memberships,
    open_session,
)
from colloque.errors import InvalidInput, NotFound
from colloque.ids import new_id
from colloque.principal import MEMBER_ROLES, Principal, Role
from colloque.scheduling.models import PracticeMember
from colloque.text import email_is_plausible, normalise_email

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "TOKEN_BYTES",
    "TOKEN_PREFIX",
    "current_key_epoch",
    "do_add_member",
    "do_create_account",
    "do_issue_token",
    "hash_token",
    "principal_for_account",
]

DEFAULT_TOKEN_LIFETIME = timedelta(days=30)


def check_email(email: str) -> str:
    """The normalised address, or InvalidInput naming the field."""
    normalised = normalise_email(email)
    if not email_is_plausible(normalised):
        raise InvalidInput("email is not valid", field="email")
    return normalised


def do_create_account(
    session: Session,
    *,
    now: datetime,
    display_name: str,
    email: str | None = None,
    is_operator: bool = False,
    account_id: UUID | None = None,
) -> Account:
    if not display_name.strip():
        raise InvalidInput("display name is required", field="display_name")
    normalised = check_email(email) if email else None
    if normalised is not None and (
        session.scalar(select(Account.account_id).where(Account.email == normalised)) is not None
    ):
        raise InvalidInput("email is not available", field="email")
    account = Account(
        account_id=account_id or new_id(),
        email=normalised,
        display_name=display_name.strip(),
        is_operator=is_operator,
        disabled=False,
        created_at=now,
    )
    session.add(account)
    session.flush()
    return account


def do_issue_token(
    session: Session,
    *,
    now: datetime,
    account_id: UUID,
    lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
    integration: bool = False,
) -> str:
    """Return a new bearer token (256 random bits) issued in-process (CLI, demo, tests).

    The issuer vouches for the holder: MFA counted as satisfied. A staff account's token (a
    practice member's or an operator's) lasts at most a staff login session's lifetime (12 h)
    and ends after its idle timeout (30 min), like one; only an ``integration`` token lasts its
    whole ``lifetime`` without use. Tokens that people get over HTTP come from a login instead
    (``colloque.accounts.login``).
    """
    return open_session(
        session,
        now=now,
        account_id=account_id,
        kind=SessionKind.ISSUED,
        mfa_verified=True,
        lifetime=lifetime,
        integration=integration,
    ).token


def do_add_member(
    session: Session,
    *,
    practice_id: UUID,
    account_id: UUID,
    role: Role,
    practitioner_id: UUID | None = None,
) -> PracticeMember:
    if role not in MEMBER_ROLES:
        raise InvalidInput("not a role a practice member can hold", field="role")
    if role is Role.PRACTITIONER and practitioner_id is None:
        raise InvalidInput(
            "a practitioner member must be linked to a practitioner", field="practitioner_id"
        )
    member = PracticeMember(
        practice_id=practice_id,
        account_id=account_id,
        role=role.value,
        practitioner_id=practitioner_id,
    )
    session.add(member)
    return member


def principal_for_account(session: Session, account: Account) -> Principal:
    """The principal of an account acting in-process (CLI, demo, tests): fully trusted.

    Requests over HTTP get theirs from :func:`~colloque.accounts.sessions.resolve_session`, which applies the session's
    timeouts and MFA state.
    """
    return Principal(
        account_id=account.account_id,
        memberships=load_memberships(session, account.account_id),
        is_operator=account.is_operator,
    )


def current_key_epoch(session: Session, *, account_id: UUID) -> int:
    """The epoch of the account's current keys: 1 from sign-up, one more at each key reset
    (``colloque.accounts.keyreset``). Whatever was sealed for the account at an earlier epoch
    cannot be opened with its keys any more until a practice re-shares it."""
    epoch = session.scalar(select(KeyBundleRow.epoch).where(KeyBundleRow.account_id == account_id))
    if epoch is None:
        raise NotFound("this account has no keys")
    return epoch


def display_name(session: Session, *, account_id: UUID) -> str | None:
    """The name the account gave itself: shown beside its key fingerprint to whoever may read
    its keys, as the server's claim (the log does not sign names)."""
    return session.scalar(select(Account.display_name).where(Account.account_id == account_id))


def member_names(session: Session, *, practice_id: UUID) -> dict[UUID, str]:
    """The names the practice's members gave themselves, for its members page (the server's
    word, beside what the key directory proves)."""
    rows = session.execute(
        select(Account.account_id, Account.display_name)
        .join(PracticeMember, PracticeMember.account_id == Account.account_id)
        .where(PracticeMember.practice_id == practice_id)
    )
    return {row.account_id: row.display_name for row in rows}
