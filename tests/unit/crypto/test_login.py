"""Login derivation (client) and authentication-key hashing (server)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher, Type

from colloque.crypto import login
from colloque.crypto.errors import AuthenticationFailed, MalformedEnvelope, WeakParameters
from colloque.crypto.login import (
    ASVS_MINIMUM_COST,
    INTERACTIVE_COST,
    MAXIMUM_COST,
    Argon2Cost,
    KdfParams,
)
from tests.unit.crypto.helpers import CHEAP, flip

SALT = bytes(range(16))


def test_kdf_params_round_trip() -> None:
    params = KdfParams(salt=SALT, cost=INTERACTIVE_COST)
    encoded = params.to_bytes()
    assert len(encoded) == login.KDF_PARAMS_BYTES
    assert encoded[:3] == b"\x01\x08\x02"
    assert KdfParams.from_bytes(encoded) == params


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: flip(b, 0),  # version
        lambda b: flip(b, 1),  # type
        lambda b: flip(b, 2),  # algorithm
        lambda b: b[:-1],  # short
        lambda b: b + b"\x00",  # trailing
        lambda b: b"",
    ],
)
def test_kdf_params_parse_errors(mangle: Callable[[bytes], bytes]) -> None:
    with pytest.raises(MalformedEnvelope):
        KdfParams.from_bytes(mangle(KdfParams(salt=SALT).to_bytes()))


def test_kdf_params_need_a_16_byte_salt() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        KdfParams(salt=bytes(15))


def test_new_kdf_params_are_interactive_with_a_random_salt() -> None:
    a, b = login.new_kdf_params(), login.new_kdf_params()
    assert a.cost == INTERACTIVE_COST == Argon2Cost(3, 64 * 1024 * 1024)
    assert a.salt != b.salt


@pytest.mark.parametrize(
    "cost",
    [
        Argon2Cost(ASVS_MINIMUM_COST.opslimit - 1, INTERACTIVE_COST.memlimit),
        Argon2Cost(INTERACTIVE_COST.opslimit, ASVS_MINIMUM_COST.memlimit - 1),
    ],
)
def test_weak_parameters_are_refused_unless_explicitly_allowed(cost: Argon2Cost) -> None:
    with pytest.raises(WeakParameters):
        login.check_cost(cost)
    login.check_cost(cost, insecure_allow_weak_cost=True)


@pytest.mark.parametrize(
    "cost",
    [
        Argon2Cost(MAXIMUM_COST.opslimit + 1, INTERACTIVE_COST.memlimit),
        Argon2Cost(INTERACTIVE_COST.opslimit, MAXIMUM_COST.memlimit + 1),
    ],
)
def test_parameters_above_the_ceiling_are_refused_even_in_tests(cost: Argon2Cost) -> None:
    with pytest.raises(WeakParameters):
        login.check_cost(cost, insecure_allow_weak_cost=True)


def test_the_asvs_floor_itself_is_accepted() -> None:
    login.check_cost(ASVS_MINIMUM_COST)
    assert Argon2Cost(2, 19 * 1024 * 1024) == ASVS_MINIMUM_COST


def test_a_server_handing_out_weak_parameters_is_refused() -> None:
    weak = KdfParams(salt=SALT, cost=CHEAP).to_bytes()
    with pytest.raises(WeakParameters):
        login.derive_login_keys("correct horse", weak)


def test_derivation_with_the_real_interactive_parameters() -> None:
    params = login.new_kdf_params()
    keys = login.derive_login_keys("correct horse battery staple", params.to_bytes())
    again = login.derive_login_keys("correct horse battery staple", params)
    assert keys == again
    assert len(keys.auth_key) == len(keys.kek) == 32
    assert keys.auth_key != keys.kek


def test_derivation_depends_on_password_and_salt_and_normalises_to_nfc() -> None:
    params = KdfParams(salt=SALT, cost=CHEAP)
    derive = login.derive_login_keys
    composed = derive("caf\u00e9", params, insecure_allow_weak_cost=True)
    decomposed = derive("cafe\u0301", params, insecure_allow_weak_cost=True)
    assert composed == decomposed
    assert derive("cafe", params, insecure_allow_weak_cost=True) != composed
    other_salt = KdfParams(salt=bytes(16), cost=CHEAP)
    assert derive("caf\u00e9", other_salt, insecure_allow_weak_cost=True) != composed


def test_login_keys_do_not_show_in_repr() -> None:
    keys = login.LoginKeys(auth_key=b"A" * 32, kek=b"K" * 32)
    assert "AAAA" not in repr(keys)
    assert "KKKK" not in repr(keys)


def test_auth_key_hash_verifies() -> None:
    auth_key = bytes(range(32))
    stored = login.hash_auth_key(auth_key)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    login.verify_auth_key(stored, auth_key)
    assert not login.auth_key_needs_rehash(stored)


@pytest.mark.parametrize("auth_key", [bytes(32), bytes(range(1, 33)), bytes(31)])
def test_wrong_or_missing_auth_key_fails(auth_key: bytes) -> None:
    stored = login.hash_auth_key(bytes(range(32)))
    with pytest.raises(AuthenticationFailed):
        login.verify_auth_key(stored, auth_key)


@pytest.mark.parametrize("auth_key", [bytes(32), bytes(range(32))])
def test_an_unknown_account_always_fails_after_a_dummy_check(auth_key: bytes) -> None:
    with pytest.raises(AuthenticationFailed):
        login.verify_auth_key(None, auth_key)


def test_a_garbage_stored_hash_fails() -> None:
    with pytest.raises(AuthenticationFailed):
        login.verify_auth_key("not a hash", bytes(32))


def test_old_parameters_need_a_rehash() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    stored = old.hash(bytes(32))
    login.verify_auth_key(stored, bytes(32))
    assert login.auth_key_needs_rehash(stored)


def test_hash_auth_key_needs_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        login.hash_auth_key(b"short")


def test_fake_salt_is_stable_normalised_and_secret_dependent() -> None:
    secret = bytes(range(32))
    salt = login.fake_salt_for("  Alice@Example.org ", secret)
    assert len(salt) == 16
    assert login.fake_salt_for("alice@example.org", secret) == salt
    assert login.fake_salt_for("bob@example.org", secret) != salt
    assert login.fake_salt_for("alice@example.org", bytes(32)) != salt
    params = login.fake_kdf_params_for("alice@example.org", secret)
    assert params == KdfParams(salt=salt, cost=INTERACTIVE_COST)


@pytest.mark.parametrize("size", [31, 65])
def test_fake_salt_needs_a_real_server_secret(size: int) -> None:
    with pytest.raises(ValueError, match="32 to 64"):
        login.fake_salt_for("alice@example.org", bytes(size))
