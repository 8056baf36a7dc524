"""Accounts and bearer tokens against real databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from colloque.accounts.models import AccessToken, Account
from colloque.accounts.services import (
    do_add_member,
    do_create_account,
    do_issue_token,
    hash_token,
)
from colloque.accounts.sessions import resolve_session
from colloque.clock import SettableClock
from colloque.errors import InvalidInput, Unauthenticated
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.factories import build_world


def test_token_is_stored_hashed_and_resolves(db: Database, clock: SettableClock) -> None:
    with db.write() as session:
        account = do_create_account(
            session, now=clock.now(), display_name="Ana", email=" Ana@Example.TEST "
        )
        token = do_issue_token(session, now=clock.now(), account_id=account.account_id)
    assert account.email == "ana@example.test"
    assert token.startswith("clq_")
    assert len(token) > 40
    with db.read() as session:
        stored = session.scalars(select(AccessToken.token_hash)).all()
        assert stored == [hash_token(token)]
        principal = resolve_session(session, now=clock.now(), token=token).principal
        assert principal.account_id == account.account_id
        with pytest.raises(Unauthenticated):
            resolve_session(session, now=clock.now(), token="clq_forged")
        with pytest.raises(Unauthenticated):
            resolve_session(session, now=clock.now() + timedelta(days=31), token=token)


def test_disabled_account_is_refused(db: Database, clock: SettableClock) -> None:
    with db.write() as session:
        account = do_create_account(session, now=clock.now(), display_name="Ben")
        token = do_issue_token(session, now=clock.now(), account_id=account.account_id)
    with db.write() as session:
        row = session.get(Account, account.account_id)
        assert row is not None
        row.disabled = True
    with db.read() as session, pytest.raises(Unauthenticated):
        resolve_session(session, now=clock.now(), token=token)


def test_account_input_checks(db: Database, clock: SettableClock) -> None:
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_create_account(session, now=clock.now(), display_name="  ")
    assert caught.value.field == "display_name"
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_create_account(session, now=clock.now(), display_name="C", email="not-an-email")
    assert caught.value.field == "email"
    with db.write() as session:
        do_create_account(session, now=clock.now(), display_name="C", email="c@example.test")
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_create_account(session, now=clock.now(), display_name="D", email="C@example.test")
    assert caught.value.detail == "email is not available"


def test_memberships_resolve(db: Database, clock: SettableClock) -> None:
    world = build_world(db, clock)
    with db.read() as session:
        doctor = resolve_session(session, now=clock.now(), token=world.doctor.token).principal
    membership = doctor.memberships[world.practice_id]
    assert membership.role is Role.PRACTITIONER
    assert membership.practitioner_id == world.practitioner_id
    with pytest.raises(InvalidInput), db.write() as session:
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=world.holder.account_id,
            role=Role.PRACTITIONER,
        )
