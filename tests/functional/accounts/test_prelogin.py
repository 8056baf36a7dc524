"""Prelogin for an unknown address: the cost of its parameters is drawn from the real accounts'
mix, so that an account made under an older cost looks like any address (accounts.prelogin)."""

from __future__ import annotations

from collections import Counter

from colloque.accounts.config import TEST_COST, AccountsConfig
from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.prelogin import MIX_LIFETIME, CostMix, CostMixCache, Prelogin, prelogin
from colloque.clock import SettableClock
from colloque.crypto.login import Argon2Cost, KdfParams
from colloque.server_keys import ServerKeys
from colloque.storage.engine import Database
from tests.functional.accounts.conftest import PASSWORD, TEST_LOG

#: An older cost: one more pass than the test cost (both far below production's, for speed).
OLDER_COST = Argon2Cost(opslimit=2, memlimit=TEST_COST.memlimit)
CONFIG = AccountsConfig(
    keys=ServerKeys.from_secret("prelogin test secret"), kdf_cost=TEST_COST, allow_weak_cost=True
)
#: Chi-square with one degree of freedom at p = 0.001: the draw is deterministic (a keyed hash of
#: each address), so this either always passes or never does.
CHI_SQUARE_1DF_999 = 10.83


def make_account(db: Database, clock: SettableClock, email: str, cost: Argon2Cost) -> None:
    with db.write() as session:
        do_create_demo_login(
            session,
            now=clock.now(),
            email=email,
            display_name="Test Person",
            password=PASSWORD,
            kdf_cost=cost,
            insecure_allow_weak_cost=True,
            log=TEST_LOG,
        )


def costs(answer: Prelogin) -> tuple[Argon2Cost, Argon2Cost]:
    return (
        KdfParams.from_bytes(answer.kdf_params).cost,
        KdfParams.from_bytes(answer.recovery_kdf_params).cost,
    )


def test_a_mix_picks_each_pair_in_proportion() -> None:
    mix = CostMix(((TEST_COST, TEST_COST, 3), (OLDER_COST, TEST_COST, 1)))
    assert [mix.pick(n) for n in range(5)] == [
        *[(TEST_COST, TEST_COST)] * 3,
        (OLDER_COST, TEST_COST),
        (TEST_COST, TEST_COST),
    ]
    assert CostMix(()).pick(7) is None


def test_unknown_addresses_get_the_real_accounts_costs_in_the_same_proportions(
    db: Database, clock: SettableClock
) -> None:
    mix = CostMixCache()

    def ask(email: str) -> Prelogin:
        with db.read() as session:
            return prelogin(session, email=email, config=CONFIG, mix=mix, now=clock.now())

    # No account yet: the current cost.
    assert costs(ask("nobody@example.test")) == (TEST_COST, TEST_COST)
    for n in range(3):
        make_account(db, clock, f"new{n}@example.test", TEST_COST)
    make_account(db, clock, "old@example.test", OLDER_COST)
    # The mix is read again only once its lifetime is over.
    assert costs(ask("nobody@example.test")) == (TEST_COST, TEST_COST)
    clock.advance(MIX_LIFETIME)
    old = ask("old@example.test")
    assert costs(old) == (OLDER_COST, OLDER_COST)
    with db.read() as session:
        answers = [
            prelogin(
                session, email=f"unknown{n}@example.test", config=CONFIG, mix=mix, now=clock.now()
            )
            for n in range(2000)
        ]
    seen = Counter(costs(answer) for answer in answers)
    assert set(seen) == {(TEST_COST, TEST_COST), (OLDER_COST, OLDER_COST)}
    expected = {(TEST_COST, TEST_COST): 1500, (OLDER_COST, OLDER_COST): 500}
    chi_square = sum((seen[pair] - wanted) ** 2 / wanted for pair, wanted in expected.items())
    assert chi_square < CHI_SQUARE_1DF_999, seen
    # Stable per address (also across spellings), and nothing else tells them apart.
    assert ask(" UNKNOWN7@example.test") == answers[7]
    assert len({answer.kdf_params for answer in answers}) == len(answers)
    assert {len(a.kdf_params) for a in answers} == {len(old.kdf_params)}
