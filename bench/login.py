"""Login time: the client's Argon2id derivation and the server's verification of the auth key.

    uv run python -m bench.login

Both costs meet OWASP ASVS 5.0 (argon2id, m >= 19 MiB, t >= 2). Each is measured next to the raw
libsodium / argon2-cffi call it makes, in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import argon2
import nacl.pwhash

from colloque.crypto.login import (
    ASVS_MINIMUM_COST,
    INTERACTIVE_COST,
    Argon2Cost,
    KdfParams,
    derive_login_keys,
    hash_auth_key,
    new_kdf_params,
    verify_auth_key,
)

ROUNDS = 7


def median_ms(action: Callable[[], object]) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    rows = []
    for name, cost in (
        ("interactive (t=3, 64 MiB)", INTERACTIVE_COST),
        ("ASVS floor (t=2, 19 MiB)", ASVS_MINIMUM_COST),
    ):
        params = new_kdf_params(cost)

        def ours_derive(params: KdfParams = params) -> object:
            return derive_login_keys("correct horse battery staple 42", params)

        def raw_derive(params: KdfParams = params, cost: Argon2Cost = cost) -> object:
            return nacl.pwhash.argon2id.kdf(
                32,
                b"correct horse battery staple 42",
                params.salt,
                opslimit=cost.opslimit,
                memlimit=cost.memlimit,
            )

        rows.append(
            (f"client key derivation, {name}", median_ms(ours_derive), median_ms(raw_derive))
        )
    auth_key = bytes(range(32))
    stored = hash_auth_key(auth_key)
    hasher = argon2.PasswordHasher(
        time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16
    )
    raw_stored = hasher.hash(auth_key)
    rows.append(
        (
            "server verification of the auth key",
            median_ms(lambda: verify_auth_key(stored, auth_key)),
            median_ms(lambda: hasher.verify(raw_stored, auth_key)),
        )
    )
    rows.append(
        (
            "server answer for an unknown account",
            median_ms(lambda: _unknown(auth_key)),
            median_ms(lambda: hasher.verify(raw_stored, auth_key)),
        )
    )
    print(f"{'step':<52}{'Colloque ms':>12}{'raw ms':>10}{'ratio':>8}")
    for name, ours, raw in rows:
        print(f"{name:<52}{ours:>12.1f}{raw:>10.1f}{ours / raw:>8.2f}")


def _unknown(auth_key: bytes) -> None:
    try:
        verify_auth_key(None, auth_key)
    except Exception:
        return


if __name__ == "__main__":
    main()
