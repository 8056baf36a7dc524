"""Key reset: new keys after losing both the password and the recovery code."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.devices import DEVICE_COOKIE
from colloque.accounts.keyreset import _new_bindings
from colloque.accounts.models import Account, EmailChallenge, KeyBundleRow
from colloque.accounts.services import current_key_epoch, do_add_member, do_create_account
from colloque.accounts.signup import PublicKeys
from colloque.api.app import create_app
from colloque.api.schemas import b64
from colloque.audit.models import AuditEvent
from colloque.client import ApiError, ColloqueClient
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.crypto.errors import CryptoError, WrongContext
from colloque.crypto.items import seal_note, unwrap_item_key
from colloque.crypto.keys import UserKeys, create_key_bundle
from colloque.crypto.login import KdfParams, derive_login_keys
from colloque.crypto.statements import EndorsementKind, endorse_keys
from colloque.crypto.transparency import KeyPurpose, SubjectKind
from colloque.erasure.services import do_disable_account
from colloque.errors import NotFound
from colloque.keydirectory.config import LogKey
from colloque.keydirectory.services import publish_bindings
from colloque.principal import Principal, Role
from colloque.storage.engine import Database
from tests.factories import build_world, newest_binding
from tests.functional.accounts.conftest import (
    OTHER_PASSWORD,
    PASSWORD,
    bearer,
    login_body,
    make_settings,
    new_client,
    register,
    sign_up,
    totp_now,
)
from tests.functional.test_api import assert_problem
from tests.server import running_server
from tests.smtp import Inbox

RESET = "/api/v1/auth/keys/reset"
NEW_PASSWORD = "a brand new Passphrase, 2026"
ANA = "ana@example.test"


def _polling_reader(inbox: Inbox) -> Callable[[str], str]:
    """Mail goes after the answer, from another thread: wait for it."""

    def read_code(email: str) -> str:
        deadline = time.monotonic() + 10
        while not inbox.to(email):
            assert time.monotonic() < deadline, "the code did not arrive"
            time.sleep(0.02)
        return inbox.code(email)

    return read_code


def test_reset_through_the_client_against_a_running_server(
    db: Database, clock: SettableClock, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    app = create_app(make_settings(port), database=db, clock=clock)
    with running_server(app) as url:
        with ColloqueClient(url, insecure_allow_weak_cost=True) as first:
            old_code = first.sign_up(ANA, PASSWORD, "Ana", read_code=_polling_reader(inbox))
            old_keys = first.unlocked_keys
            note = seal_note(
                item_id=uuid.uuid4(),
                patient_id=uuid.uuid4(),
                text="Allergie à la pénicilline",
                author=old_keys,
                recipients=[old_keys.encryption_binding()],
            )
            inbox.messages.clear()
            with ColloqueClient(url, insecure_allow_weak_cost=True) as device:
                new_code = device.reset_keys(ANA, NEW_PASSWORD, _polling_reader(inbox))
                new_keys = device.unlocked_keys
                assert device.me()["account_id"] == str(old_keys.user_id)
            assert new_code != old_code
            assert (new_keys.user_id, new_keys.epoch) == (old_keys.user_id, 2)
            assert new_keys.encryption_public != old_keys.encryption_public
            assert new_keys.signing_public != old_keys.signing_public
            with pytest.raises(ApiError) as caught:
                first.me()
            assert caught.value.status == 401
            _wait_for(inbox, ANA, 2)
            assert "clés" in inbox.last_text(ANA)
        with ColloqueClient(url, insecure_allow_weak_cost=True) as later:
            with pytest.raises(ApiError) as refused:
                later.log_in(ANA, PASSWORD)
            assert refused.value.status == 401
            with pytest.raises(ApiError):
                later.recover(ANA, old_code, OTHER_PASSWORD)
            later.log_in(ANA, NEW_PASSWORD)
            assert later.unlocked_keys == new_keys
    _cannot_open(note.wraps[0], note.item_id, new_keys)
    # The old keys still open it: only a re-share by a practice brings it to the new ones.
    unwrap_item_key(note.wraps[0], item_id=note.item_id, holder=old_keys)
    with db.read() as session:
        assert current_key_epoch(session, account_id=new_keys.user_id) == 2
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == new_keys.user_id)
        ).all()
        assert session.scalars(select(EmailChallenge)).all() == []
    assert "accounts:keys:reset" in actions


def _wait_for(inbox: Inbox, email: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(inbox.to(email)) < count:
        assert time.monotonic() < deadline, "the notice did not arrive"
        time.sleep(0.02)


def _cannot_open(wrap: bytes, item_id: uuid.UUID, new_keys: UserKeys) -> None:
    """The wrap names epoch 1; and new keys passed off as epoch 1 still cannot open it."""
    with pytest.raises(WrongContext):
        unwrap_item_key(wrap, item_id=item_id, holder=new_keys)
    posing = UserKeys(
        user_id=new_keys.user_id,
        epoch=1,
        encryption_public=new_keys.encryption_public,
        encryption_secret=new_keys.encryption_secret,
        signing_public=new_keys.signing_public,
        signing_seed=new_keys.signing_seed,
        signing_secret=new_keys.signing_secret,
    )
    with pytest.raises(CryptoError):
        unwrap_item_key(wrap, item_id=item_id, holder=posing)


def _start(http: TestClient, email: str) -> Any:
    return http.post(RESET, json={"email": email})


def _verify(http: TestClient, reset_id: str, code: str, **extra: Any) -> Any:
    return http.post(RESET + "/verify", json={"reset_id": reset_id, "code": code, **extra})


def _ticket(http: TestClient, inbox: Inbox, email: str = ANA, **extra: Any) -> dict[str, Any]:
    started = _start(http, email)
    assert started.status_code == 202, started.text
    verified = _verify(http, started.json()["reset_id"], inbox.code(email), **extra)
    assert verified.status_code == 200, verified.text
    ticket: dict[str, Any] = verified.json()
    return ticket


def _complete_body(ticket: dict[str, Any], *, epoch: int | None = None) -> dict[str, Any]:
    """What a client sends: new keys of the ticket's epoch (or ``epoch``), made here."""
    params = KdfParams.from_bytes(_unb64(ticket["kdf_params"]))
    login = derive_login_keys(NEW_PASSWORD, params, insecure_allow_weak_cost=True)
    recovery_params = _unb64(ticket["recovery_kdf_params"])
    created = create_key_bundle(
        uuid.UUID(ticket["account_id"]),
        login.kek,
        epoch=epoch or ticket["epoch"],
        recovery_cost=KdfParams.from_bytes(recovery_params).cost,
        insecure_allow_weak_cost=True,
    )
    recovery = derive_login_keys(
        created.recovery_code.text, recovery_params, insecure_allow_weak_cost=True
    )
    bundle = created.bundle
    endorsement = endorse_keys(
        encryption=created.keys.encryption_binding(),
        signing=created.keys.signing_binding(),
        kind=EndorsementKind.RESET,
        signer=created.keys,
    )
    return {
        "reset_token": ticket["reset_token"],
        "endorsement": b64(endorsement.to_leaf()),
        "epoch": bundle.epoch,
        "auth_key": b64(login.auth_key),
        "kdf_params": ticket["kdf_params"],
        "recovery_auth_key": b64(recovery.auth_key),
        "recovery_kdf_params": ticket["recovery_kdf_params"],
        "encryption_public": b64(bundle.encryption_public),
        "signing_public": b64(bundle.signing_public),
        "sealed_by_password": b64(bundle.sealed_by_password),
        "sealed_by_recovery": b64(bundle.sealed_by_recovery),
    }


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    sign_up(new_client(http), inbox, ANA)
    disabled = register(db, clock, "gone@example.test")
    with db.write() as session:
        do_disable_account(
            session,
            now=clock.now(),
            principal=Principal(account_id=uuid.uuid4(), is_operator=True),
            account_id=disabled.account_id,
        )
    with db.write() as session:
        do_create_account(
            session, now=clock.now(), display_name="No keys", email="keyless@example.test"
        )
    inbox.messages.clear()
    known = _start(http, ANA)
    others = ("nobody@example.test", disabled.email, "keyless@example.test")
    answers = [known, *(_start(http, email) for email in others)]
    shapes = {
        (a.status_code, tuple(sorted(a.json())), a.json()["expires_in_seconds"]) for a in answers
    }
    assert shapes == {(202, ("expires_in_seconds", "reset_id"), 600)}
    assert len({a.json()["reset_id"] for a in answers}) == 4
    assert [rcpt for rcpt, _ in inbox.messages] == [[ANA]]
    # No code was mailed for them, so none is right (not even the one mailed elsewhere).
    for answer in answers[1:]:
        assert_problem(_verify(http, answer.json()["reset_id"], inbox.code(ANA)), 422, "code")
    assert_problem(_verify(http, str(uuid.uuid4()), "123456"), 422, "code")


def test_wrong_expired_and_reused_codes_and_tokens_are_refused(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    sign_up(new_client(http), inbox, ANA)
    started = _start(http, ANA).json()
    code = inbox.code(ANA)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert_problem(_verify(http, started["reset_id"], wrong), 422, "code")
    # Five wrong tries spend the code.
    assert_problem(_verify(http, started["reset_id"], code), 422, "code")
    late = _start(http, ANA).json()
    clock.advance(timedelta(minutes=10))
    assert_problem(_verify(http, late["reset_id"], inbox.code(ANA)), 422, "code")
    ticket = _ticket(http, inbox)
    reset_id = _start(http, ANA).json()["reset_id"]
    twice = inbox.code(ANA)
    assert _verify(http, reset_id, twice).status_code == 200
    assert_problem(_verify(http, reset_id, twice), 422, "code")
    body = _complete_body(ticket)
    done = http.post(RESET + "/complete", json=body)
    assert done.status_code == 200
    # The device that reset the keys is known from then on, as after a login.
    assert DEVICE_COOKIE in done.cookies
    assert_problem(http.post(RESET + "/complete", json=body), 422, "reset_token")
    clock.advance(timedelta(hours=1))  # five codes an hour to one address
    stale = _ticket(http, inbox)
    clock.advance(timedelta(minutes=30))
    assert_problem(http.post(RESET + "/complete", json=_complete_body(stale)), 422, "reset_token")


def test_a_new_bundle_must_be_the_next_epoch_new_and_consistent(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    client = new_client(http)
    sign_up(client, inbox, ANA)
    old = client.unlocked_keys
    ticket = _ticket(http, inbox)
    assert ticket["epoch"] == 2
    body = _complete_body(ticket)
    other = _complete_body(ticket)
    complete = RESET + "/complete"
    cases: list[tuple[dict[str, Any], str]] = [
        (_complete_body(ticket, epoch=3), "epoch"),
        ({**body, "encryption_public": b64(old.encryption_public)}, "encryption_public"),
        ({**body, "signing_public": b64(old.signing_public)}, "signing_public"),
        ({**body, "kdf_params": "A" * 36}, "kdf_params"),
        ({**body, "recovery_kdf_params": "A" * 36}, "recovery_kdf_params"),
        ({**body, "sealed_by_password": "A" * 254}, "sealed_by_password"),
        ({**body, "sealed_by_password": other["sealed_by_password"]}, "sealed_by_password"),
        ({**body, "sealed_by_recovery": body["sealed_by_password"]}, "sealed_by_recovery"),
        ({k: v for k, v in body.items() if k != "endorsement"}, "endorsement"),
        ({**body, "endorsement": "AAAA"}, "endorsement"),
        ({**body, "endorsement": other["endorsement"]}, "endorsement"),
        ({**body, "endorsement": _rotation(old, body)}, "endorsement"),
    ]
    for wrong, name in cases:
        assert_problem(http.post(complete, json=wrong), 422, name)
    with db.read() as session:
        assert current_key_epoch(session, account_id=old.user_id) == 1
    assert http.post(complete, json=body).status_code == 200
    with db.read() as session:
        row = session.get_one(KeyBundleRow, old.user_id)
        assert (row.epoch, b64(row.encryption_public)) == (2, body["encryption_public"])


def _rotation(old: UserKeys, body: dict[str, Any]) -> str:
    """A rotation endorsement of the body's keys, signed by the old ones: not what a reset is."""
    encryption, signing = _new_bindings(
        old.user_id,
        PublicKeys(
            _unb64(body["encryption_public"]), _unb64(body["signing_public"]), epoch=body["epoch"]
        ),
    )
    rotation = endorse_keys(
        encryption=encryption, signing=signing, kind=EndorsementKind.ROTATION, signer=old
    )
    return b64(rotation.to_leaf())


def test_a_change_of_address_stops_a_pending_reset(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    register(db, clock, ANA)
    ticket = _ticket(http, inbox)
    reset_id = _start(http, ANA).json()["reset_id"]
    code = inbox.code(ANA)
    token = http.post("/api/v1/auth/login", json=login_body(http, ANA)).json()["session"]["token"]
    changed = http.post(
        "/api/v1/me/email", json={"email": "ana.new@example.test"}, headers=bearer(token)
    )
    assert changed.status_code == 202, changed.text
    confirmed = http.post(
        "/api/v1/me/email/confirm",
        json={
            "challenge_id": changed.json()["challenge_id"],
            "code": inbox.code("ana.new@example.test"),
        },
        headers=bearer(token),
    )
    assert confirmed.status_code == 204, confirmed.text
    assert_problem(_verify(http, reset_id, code), 422, "code")
    assert_problem(http.post(RESET + "/complete", json=_complete_body(ticket)), 422, "reset_token")


def test_totp_is_required_when_enrolled(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    client = new_client(http)
    sign_up(client, inbox, ANA)
    client.reauthenticate(PASSWORD)
    secret = client.begin_totp()
    mfa_codes = client.confirm_totp(totp_now(secret, clock))
    clock.advance(timedelta(seconds=30))
    reset_id = _start(http, ANA).json()["reset_id"]
    code = inbox.code(ANA)
    missing = assert_problem(_verify(http, reset_id, code), 401, "totp")
    assert missing["type"].endswith("mfa-required")
    assert_problem(_verify(http, reset_id, code, totp="000000"), 401, "totp")
    assert_problem(_verify(http, reset_id, code, recovery_code="aaaaa-aaaaa"), 401, "recovery_code")
    with db.read() as session:
        tries = session.scalars(select(EmailChallenge.attempts)).one()
    assert tries == 2  # each wrong second factor spends a try of the mailed code
    assert _verify(http, reset_id, code, totp=totp_now(secret, clock)).status_code == 200
    # An MFA recovery code does too; and the client passes TOTP on.
    assert _ticket(http, inbox, recovery_code=mfa_codes[0])["epoch"] == 2
    clock.advance(timedelta(seconds=30))
    device = new_client(http)
    device.reset_keys(ANA, NEW_PASSWORD, inbox.code, totp_now(secret, clock))
    assert device.unlocked_keys.epoch == 2
    assert device.me()["mfa_satisfied"] is True


def test_a_practice_member_or_operator_needs_totp(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    world = build_world(db, clock)
    person = register(db, clock, ANA)
    with db.write() as session:
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=person.account_id,
            role=Role.SECRETARY,
        )
    reset_id = _start(http, ANA).json()["reset_id"]
    refused = assert_problem(_verify(http, reset_id, inbox.code(ANA)), 403, "totp")
    assert "practice" in refused["detail"]
    operator = register(db, clock, "operator@example.test")
    with db.write() as session:
        # No service promotes an account to operator (they are made by the CLI, without keys).
        session.get_one(Account, operator.account_id).is_operator = True
    reset_id = _start(http, operator.email).json()["reset_id"]
    assert_problem(_verify(http, reset_id, inbox.code(operator.email)), 403, "totp")


def test_a_reset_ends_sessions_and_pending_recoveries(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    client = new_client(http)
    recovery_code = sign_up(client, inbox, ANA)
    # A recovery half done with the old code: its grant dies with the reset.
    params = _unb64(
        http.post("/api/v1/auth/prelogin", json={"email": ANA}).json()["recovery_kdf_params"]
    )
    proof = derive_login_keys(recovery_code, params, insecure_allow_weak_cost=True)
    grant = http.post(
        "/api/v1/auth/recovery", json={"email": ANA, "recovery_auth_key": b64(proof.auth_key)}
    ).json()
    new_client(http).reset_keys(ANA, NEW_PASSWORD, inbox.code)
    body = {
        "recovery_token": grant["recovery_token"],
        "new_auth_key": "B" * 43,
        "new_kdf_params": grant["kdf_params"],
        "new_sealed_by_password": "A" * 254,
        "new_recovery_auth_key": "C" * 43,
        "new_recovery_kdf_params": grant["recovery_kdf_params"],
        "new_sealed_by_recovery": "A" * 290,
    }
    assert_problem(http.post("/api/v1/auth/recovery/complete", json=body), 401, "recovery_token")
    assert_problem(http.get("/api/v1/me", headers=bearer(client.token)), 401)


def test_starts_are_throttled(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    register(db, clock, ANA)
    for _ in range(5):
        assert _start(http, ANA).status_code == 202
    throttled = assert_problem(_start(http, ANA), 429)
    assert int(throttled["retry_after"]) > 0
    assert len(inbox.to(ANA)) == 5
    # The same limit whether or not the address has an account.
    for _ in range(5):
        assert _start(http, "nobody@example.test").status_code == 202
    assert_problem(_start(http, "nobody@example.test"), 429)


def test_current_key_epoch_of_an_account_without_keys(db: Database, clock: SettableClock) -> None:
    with db.write() as session:
        account = do_create_account(session, now=clock.now(), display_name="No keys")
    with db.read() as session, pytest.raises(NotFound):
        current_key_epoch(session, account_id=account.account_id)


def test_the_new_bindings_enter_the_key_directory(db: Database, clock: SettableClock) -> None:
    account_id = uuid.uuid4()
    keys = PublicKeys(b"e" * 32, b"s" * 32, epoch=2)
    log = LogKey.from_settings(Settings(key_directory_origin="colloque.test/key-directory"))
    encryption, signing = _new_bindings(account_id, keys)
    with db.write() as session:
        publish_bindings(session, bindings=[encryption, signing], now=clock.now(), log=log)
    assert (encryption.purpose, encryption.epoch, encryption.public_key) == (
        KeyPurpose.ENCRYPTION,
        2,
        b"e" * 32,
    )
    assert (signing.purpose, signing.subject_id, signing.public_key) == (
        KeyPurpose.SIGNING,
        account_id,
        b"s" * 32,
    )
    with db.read() as session:
        for binding in (encryption, signing):
            published = newest_binding(
                session,
                subject_kind=SubjectKind.USER,
                subject_id=account_id,
                purpose=binding.purpose,
            )
            assert published == binding
