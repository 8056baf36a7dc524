"""Accounts and bearer tokens, and resolving the acting principal from a token.

This is the foundation's simple principal: an opaque random token, stored hashed. The accounts
work replaces token issuance with real sign-up and login, behind the same resolve function.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from types import MappingProxyType
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accounts.models import AccessToken, Account, PracticeMember
from colloque.authorization.principal import ANONYMOUS, Membership, Principal, Role
from colloque.errors import InvalidInput, Unauthenticated
from colloque.ids import new_id

TOKEN_BYTES = 32
TOKEN_PREFIX = "clq_"  # noqa: S105 - a public marker, not a secret
DEFAULT_TOKEN_LIFETIME = timedelta(days=30)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


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
    normalised = email.strip().lower() if email else None
    if normalised is not None:
        if "@" not in normalised:
            raise InvalidInput("email is not valid", field="email")
        if (
            session.scalar(select(Account.account_id).where(Account.email == normalised))
            is not None
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
) -> str:
    """Return a new bearer token (256 random bits). Only its hash is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        AccessToken(
            token_hash=hash_token(token),
            account_id=account_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def do_add_member(
    session: Session,
    *,
    practice_id: UUID,
    account_id: UUID,
    role: Role,
    practitioner_id: UUID | None = None,
) -> PracticeMember:
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
    memberships = {
        m.practice_id: Membership(role=Role(m.role), practitioner_id=m.practitioner_id)
        for m in session.scalars(
            select(PracticeMember).where(PracticeMember.account_id == account.account_id)
        )
    }
    return Principal(
        account_id=account.account_id,
        memberships=MappingProxyType(memberships),
        is_operator=account.is_operator,
    )


def resolve_principal(session: Session, *, now: datetime, token: str | None) -> Principal:
    """Early exits, in order: no token -> anonymous; unknown or expired -> refused; disabled
    account -> refused; else the account with its memberships."""
    if token is None:
        return ANONYMOUS
    account = session.scalar(
        select(Account)
        .join(AccessToken, AccessToken.account_id == Account.account_id)
        .where(AccessToken.token_hash == hash_token(token), AccessToken.expires_at > now)
    )
    if account is None or account.disabled:
        raise Unauthenticated("the access token is not valid")
    return principal_for_account(session, account)
