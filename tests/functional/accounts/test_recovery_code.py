"""The recovery code's status, and renewing it without using it (docs/accounts.md, "Recovery")."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.models import Credentials, KeyBundleRow
from colloque.api.schemas import b64
from colloque.audit.models import AuditEvent
from colloque.audit.services import AuditAction
from colloque.client import ApiError, ColloqueClient
from colloque.clock import SettableClock
from colloque.crypto.keys import RecoveryCode, create_key_bundle, new_recovery_envelope
from colloque.crypto.login import KdfParams, derive_login_keys
from colloque.storage.engine import Database
from tests.factories import make_person
from tests.functional.accounts.conftest import PASSWORD, bearer, new_client, sign_up
from tests.functional.test_api import assert_problem
from tests.smtp import Inbox

URL = "/api/v1/me/recovery-code"
NEW_PASSWORD = "a brand new Passphrase, 2026"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _renewal(http: TestClient, client: ColloqueClient) -> tuple[dict[str, Any], str]:
    """What a client sends to renew its code (made here as colloque.client does), and the code."""
    params = _unb64(
        http.post("/api/v1/auth/password/params", headers=bearer(client.token)).json()["kdf_params"]
    )
    sealed, code = new_recovery_envelope(
        client.unlocked_keys,
        cost=KdfParams.from_bytes(params).cost,
        insecure_allow_weak_cost=True,
    )
    proof = derive_login_keys(code.text, params, insecure_allow_weak_cost=True)
    body = {
        "recovery_auth_key": b64(proof.auth_key),
        "recovery_kdf_params": b64(params),
        "sealed_by_recovery": b64(sealed),
    }
    return body, code.text


def _recovery_start(http: TestClient, email: str, code: str) -> Any:
    params = http.post("/api/v1/auth/prelogin", json={"email": email}).json()
    raw = _unb64(params["recovery_kdf_params"])
    proof = derive_login_keys(RecoveryCode.parse(code).text, raw, insecure_allow_weak_cost=True)
    return http.post(
        "/api/v1/auth/recovery", json={"email": email, "recovery_auth_key": b64(proof.auth_key)}
    )


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def test_a_renewed_code_replaces_the_old_one_and_keeps_the_sessions(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    ana = new_client(http)
    old_code = sign_up(ana, inbox, "ana@example.test")
    made = clock.now()
    status = ana.recovery_code_status()
    assert (_when(status["created_at"]), status["used_at"]) == (made, None)

    clock.advance(timedelta(minutes=10))
    with pytest.raises(ApiError) as caught:
        ana.renew_recovery_code()  # the sign-up's re-authentication is long gone
    assert (caught.value.status, caught.value.code) == (403, "reauthentication-required")
    ana.reauthenticate(PASSWORD)
    new_code = ana.renew_recovery_code()
    assert new_code != old_code
    assert len(new_code.split("-")) == 8
    status = ana.recovery_code_status()
    assert (_when(status["created_at"]), status["used_at"]) == (clock.now(), None)
    notice = inbox.last_text("ana@example.test")
    assert "code de récupération" in notice
    assert new_code not in notice
    assert ana.me()["account_id"] == str(ana.account_id)  # the password did not change

    # The old code opens nothing any more; the new one recovers the same keys.
    with pytest.raises(ApiError) as refused:
        new_client(http).recover("ana@example.test", old_code, NEW_PASSWORD)
    assert refused.value.status == 401
    helper = new_client(http)
    helper.recover("ana@example.test", new_code, NEW_PASSWORD)
    assert helper.unlocked_keys.encryption_secret == ana.unlocked_keys.encryption_secret
    with db.read() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert AuditAction.RECOVERY_CODE_RENEWED.value in actions


def test_a_started_recovery_shows_as_used_and_a_renewal_voids_it(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    ana = new_client(http)
    code = sign_up(ana, inbox, "ana@example.test")
    clock.advance(timedelta(minutes=1))
    started = _recovery_start(http, "ana@example.test", code)
    assert started.status_code == 200, started.text
    status = ana.recovery_code_status()
    assert _when(status["used_at"]) == clock.now()
    with db.read() as session:
        used = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.RECOVERY_CODE_USED.value)
        ).one()
    assert used.object_id == ana.account_id

    ana.reauthenticate(PASSWORD)
    ana.renew_recovery_code()
    assert ana.recovery_code_status()["used_at"] is None
    # Whoever started that recovery with the old code cannot finish it.
    grant = started.json()
    complete = http.post(
        "/api/v1/auth/recovery/complete",
        json={
            "recovery_token": grant["recovery_token"],
            "new_auth_key": "B" * 43,
            "new_kdf_params": grant["kdf_params"],
            "new_sealed_by_password": "A" * 254,
            "new_recovery_auth_key": "C" * 43,
            "new_recovery_kdf_params": grant["recovery_kdf_params"],
            "new_sealed_by_recovery": "A" * 290,
        },
    )
    assert_problem(complete, 401, "recovery_token")


def _foreign_keys(body: dict[str, Any], client: ColloqueClient) -> dict[str, Any]:
    """Keys sealed under a recovery code for this account, but not its keys."""
    params = KdfParams.from_bytes(_unb64(body["recovery_kdf_params"]))
    other = create_key_bundle(
        client.account_id, bytes(32), recovery_cost=params.cost, insecure_allow_weak_cost=True
    )
    return {**body, "sealed_by_recovery": b64(other.bundle.sealed_by_recovery)}


def _someone_elses(body: dict[str, Any], _client: ColloqueClient) -> dict[str, Any]:
    """A sealed copy for a recovery code that names another account."""
    params = KdfParams.from_bytes(_unb64(body["recovery_kdf_params"]))
    other = create_key_bundle(
        uuid4(), bytes(32), recovery_cost=params.cost, insecure_allow_weak_cost=True
    )
    return {**body, "sealed_by_recovery": b64(other.bundle.sealed_by_recovery)}


def _under_the_password(body: dict[str, Any], client: ColloqueClient) -> dict[str, Any]:
    """The account's keys, but the copy sealed under its KEK rather than under a recovery code."""
    params = KdfParams.from_bytes(_unb64(body["recovery_kdf_params"]))
    mine = create_key_bundle(
        client.account_id, bytes(32), recovery_cost=params.cost, insecure_allow_weak_cost=True
    )
    return {**body, "sealed_by_recovery": b64(mine.bundle.sealed_by_password)}


def _without(name: str) -> Mutation:
    return lambda body, _client: {k: v for k, v in body.items() if k != name}


def _with(name: str, value: str) -> Mutation:
    return lambda body, _client: {**body, name: value}


Mutation = Callable[[dict[str, Any], ColloqueClient], dict[str, Any]]

BAD_BODIES: list[tuple[str, Mutation]] = [
    ("recovery_auth_key", _with("recovery_auth_key", "B" * 40)),
    ("recovery_auth_key", _without("recovery_auth_key")),
    ("recovery_kdf_params", _with("recovery_kdf_params", b64(bytes(27)))),
    ("recovery_kdf_params", _without("recovery_kdf_params")),
    ("sealed_by_recovery", _with("sealed_by_recovery", "A" * 290)),
    ("sealed_by_recovery", _with("sealed_by_recovery", "A" * 20)),
    ("sealed_by_recovery", _foreign_keys),
    ("sealed_by_recovery", _someone_elses),
    ("sealed_by_recovery", _under_the_password),
]


@pytest.mark.parametrize(("field", "spoil"), BAD_BODIES)
def test_a_bad_renewal_is_refused_naming_the_field_and_changes_nothing(
    db: Database,
    clock: SettableClock,
    http: TestClient,
    inbox: Inbox,
    field: str,
    spoil: Mutation,
) -> None:
    ana = new_client(http)
    code = sign_up(ana, inbox, "ana@example.test")
    with db.read() as session:
        before = session.get_one(Credentials, ana.account_id).recovery_auth_key_hash
    body, _ = _renewal(http, ana)
    refused = http.put(URL, json=spoil(body, ana), headers=bearer(ana.token))
    assert_problem(refused, 422, field)
    assert code not in refused.text
    with db.read() as session:
        assert session.get_one(Credentials, ana.account_id).recovery_auth_key_hash == before
    new_client(http).recover("ana@example.test", code, NEW_PASSWORD)


def test_renewal_needs_a_fresh_proof_csrf_and_touches_no_one_else(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    ana, ben = new_client(http), new_client(http)
    sign_up(ana, inbox, "ana@example.test")
    ben_code = sign_up(ben, inbox, "ben@example.test")
    with db.read() as session:
        ben_before = (
            session.get_one(Credentials, ben.account_id).recovery_auth_key_hash,
            session.get_one(KeyBundleRow, ben.account_id).sealed_by_recovery,
        )
    # A browser session of Ana's (the cookie jar), which has just logged in.
    login = ColloqueClient(http=http, insecure_allow_weak_cost=True)
    params = _unb64(
        http.post("/api/v1/auth/prelogin", json={"email": "ana@example.test"}).json()["kdf_params"]
    )
    key = derive_login_keys(PASSWORD, params, insecure_allow_weak_cost=True).auth_key
    cookie = http.post(
        "/api/v1/auth/login",
        json={"email": "ana@example.test", "auth_key": b64(key), "session": "cookie"},
    )
    assert cookie.status_code == 200, cookie.text
    csrf = cookie.json()["session"]["csrf_token"]
    body, code = _renewal(http, ana)
    assert_problem(http.put(URL, json=body), 403, "X-CSRF-Token")
    clock.advance(timedelta(minutes=6))
    stale = http.put(URL, json=body, headers={"X-CSRF-Token": csrf})
    assert assert_problem(stale, 403)["type"].endswith("/reauthentication-required")
    reauth = http.post(
        "/api/v1/auth/reauth", json={"auth_key": b64(key)}, headers={"X-CSRF-Token": csrf}
    )
    assert reauth.status_code == 200, reauth.text
    renewed = http.put(URL, json=body, headers={"X-CSRF-Token": csrf})
    assert renewed.status_code == 200, renewed.text
    assert _when(renewed.json()["created_at"]) == clock.now()
    # Ben's code, his keys' copy and his sessions are as they were; his code still works.
    with db.read() as session:
        assert ben_before == (
            session.get_one(Credentials, ben.account_id).recovery_auth_key_hash,
            session.get_one(KeyBundleRow, ben.account_id).sealed_by_recovery,
        )
    assert ben.me()["account_id"] == str(ben.account_id)
    login.recover("ben@example.test", ben_code, NEW_PASSWORD)
    new_client(http).recover("ana@example.test", code, NEW_PASSWORD)


def test_status_and_renewal_need_a_signed_in_account_with_credentials(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    assert_problem(http.get(URL), 401)
    assert_problem(http.put(URL, json={}), 401)
    # Made by the CLI: no password, so no recovery code, and no way to re-authenticate.
    cli = make_person(db, clock, "Cli Made")
    assert_problem(http.get(URL, headers=bearer(cli.token)), 404)
