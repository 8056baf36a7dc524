"""The keys derived from the server secret: one per purpose, each under its own label.

The labels are pinned here by recomputing each key with its label written out: a changed label
would silently change a key (and, for the TOTP sealing key, lock every enrolled account out).
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

from colloque.config import DEVELOPMENT_LOG_SEED, DEVELOPMENT_SECRET, Settings
from colloque.server_keys import ServerKeys, legacy_log_signing_seed

SECRET = "a-secret-of-at-least-thirty-two-characters"


def _hmac(label: bytes, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


def test_each_purpose_has_its_own_label() -> None:
    keys = ServerKeys.from_secret(SECRET)
    expected = {
        "totp_seal": _hmac(b"colloque/accounts/totp-seal/v1"),
        "email_hash": _hmac(b"colloque/accounts/email-key/v1"),
        "email_code_hash": _hmac(b"colloque/accounts/email-code/v1"),
        "throttle_client_hash": _hmac(b"colloque/accounts/throttle-client/v1"),
        "prelogin_cost_draw": _hmac(b"colloque/accounts/prelogin-cost-draw/v1"),
        "probing_client_hash": _hmac(b"colloque:probing:client"),
        "unsubscribe_token": _hmac(b"colloque/notifications/unsubscribe-token/v1"),
        "reminder_phone_hash": _hmac(b"colloque/notifications/reminder-phone/v1"),
        "canary_tag": _hmac(b"colloque/containment/canary-tag/v1"),
    }
    derived = {name: getattr(keys, name) for name in expected}
    assert derived == expected
    assert keys.fake_salt("login") == _hmac(b"colloque/accounts/fake-salt/login/v1")
    everything = [*derived.values(), keys.fake_salt("login"), keys.fake_salt("recovery")]
    assert len(set(everything)) == len(everything)


def test_the_keys_follow_the_secret_and_keep_it_out_of_reprs() -> None:
    keys = Settings(secret_key=SecretStr(SECRET)).server_keys
    assert keys == ServerKeys.from_secret(SECRET)
    assert keys.totp_seal != ServerKeys.from_secret(SECRET + "!").totp_seal
    assert SECRET not in repr(keys)
    assert SECRET.encode() not in repr(keys).encode()


def test_the_development_log_key_is_what_earlier_versions_derived() -> None:
    legacy = _hmac(b"colloque/key-directory/log-signing/v1", DEVELOPMENT_SECRET)
    assert DEVELOPMENT_LOG_SEED == legacy == legacy_log_signing_seed(DEVELOPMENT_SECRET)
    assert legacy_log_signing_seed(SECRET) == _hmac(b"colloque/key-directory/log-signing/v1")
