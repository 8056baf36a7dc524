"""The key directory in the crypto worker, against what the Python side makes: a Python log's
checkpoints and proofs, witness cosignatures, signed key endorsements, membership chains and
group epochs, and a membership history rewritten by the operator (refused from the head the
browser remembers, across a reload). The harness page is tests/browser/worker_harness.py."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from colloque.client import ColloqueClient
from colloque.client.encoding import unb64
from colloque.clock import SettableClock
from colloque.crypto import groups, keys, login, statements, transparency, witness
from colloque.storage.engine import Database
from tests.browser.scene import Scene, attest_a_secretary, operator_forks_memberships
from tests.browser.worker_harness import (
    TEST_DIST_DIR,
    Harness,
    binding_json,
    call,
    failure,
    hexed,
    open_harness,
    ready_page,
    serve,
    unhexed,
)
from tests.functional.keys.conftest import LOG

pytestmark = pytest.mark.browser


@pytest.fixture
def harness(sqlite_db: Database, clock: SettableClock) -> Iterator[Harness]:
    yield from serve(sqlite_db, clock, TEST_DIST_DIR)


@pytest.fixture
def page(browser: Browser, harness: Harness) -> Iterator[Page]:
    yield from ready_page(browser, harness)


def test_the_key_directory_of_a_python_log_verifies_in_the_worker(page: Page) -> None:
    seed = bytes(range(32))
    origin = "colloque.test/key-directory"
    log_key = transparency.log_public_key(seed)
    bindings = [
        keys.create_key_bundle(
            uuid.uuid4(), bytes(32), recovery_cost=login.ASVS_MINIMUM_COST
        ).keys.encryption_binding()
        for _ in range(6)
    ]
    hashes = [b.leaf_hash() for b in bindings]
    small, large = (
        transparency.Checkpoint(origin, size, transparency.tree_root(hashes[:size]))
        for size in (3, 6)
    )
    notes = [transparency.sign_checkpoint(c, log_signing_seed=seed) for c in (small, large)]
    verified = [
        call(
            page, "verifyCheckpoint", {"note": n, "origin": origin, "logPublicKey": hexed(log_key)}
        )
        for n in notes
    ]
    assert [v["treeSize"] for v in verified] == [3, 6]
    for index, binding in enumerate(bindings):
        proof = [hexed(h) for h in transparency.inclusion_proof(hashes, index)]
        args = {"binding": binding_json(binding), "leafIndex": index, "proof": proof}
        assert call(page, "verifyKeyBinding", {**args, "checkpoint": verified[1]}) is None
        other = binding_json(bindings[(index + 1) % 6])
        assert (
            failure(page, "verifyKeyBinding", {**args, "binding": other, "checkpoint": verified[1]})
            == "ProofInvalid"
        )
    proof = [hexed(h) for h in transparency.consistency_proof(hashes, 3)]
    consistency = {"previous": verified[0], "next": verified[1], "proof": proof}
    assert call(page, "verifyCheckpointConsistency", consistency) is None
    assert (
        failure(
            page,
            "verifyCheckpointConsistency",
            {**consistency, "previous": verified[1], "next": verified[0]},
        )
        == "ProofInvalid"
    )
    assert (
        failure(
            page,
            "verifyCheckpoint",
            {"note": notes[0], "origin": origin, "logPublicKey": hexed(bindings[0].public_key)},
        )
        == "ProofInvalid"
    )
    shown = transparency.fingerprint(bindings[:2])
    assert call(page, "fingerprint", {"bindings": [binding_json(b) for b in bindings[:2]]}) == {
        "fingerprint": shown
    }
    assert (
        call(
            page,
            "checkFingerprint",
            {"bindings": [binding_json(b) for b in bindings[:2]], "shown": shown},
        )
        is None
    )
    assert (
        failure(page, "checkFingerprint", {"bindings": [binding_json(bindings[0])], "shown": shown})
        == "InvalidPublicKey"
    )


def test_witness_cosignatures_from_python_count_in_the_worker(page: Page) -> None:
    seed = bytes(range(32))
    origin = "colloque.test/key-directory"
    log_key = transparency.log_public_key(seed)
    checkpoint = transparency.Checkpoint(origin, 9, bytes(range(32)))
    note = transparency.sign_checkpoint(checkpoint, log_signing_seed=seed)
    seeds = {f"witness.test/{n}": bytes([n]) * 32 for n in range(3)}
    pinned = {name: hexed(witness.witness_public_key(s)) for name, s in seeds.items()}
    lines = [
        witness.cosign(checkpoint, name=name, witness_signing_seed=s, timestamp=1_780_000_000 + n)
        for n, (name, s) in enumerate(seeds.items())
    ]
    args = {"origin": origin, "logPublicKey": hexed(log_key), "witnesses": pinned}
    two = note + "".join(lines[:2])
    assert (
        call(page, "verifyWitnessedCheckpoint", {**args, "note": two, "threshold": 2})["treeSize"]
        == 9
    )
    for threshold, cosigned, not_before in (
        (3, two, 0),
        (2, note + lines[0] * 2, 0),
        (2, two, 1_780_000_001),
    ):
        params = {**args, "note": cosigned, "threshold": threshold, "notBefore": not_before}
        assert failure(page, "verifyWitnessedCheckpoint", params) == "ProofInvalid"
    forked = transparency.sign_checkpoint(
        transparency.Checkpoint(origin, 9, bytes(32)), log_signing_seed=seed
    )
    params = {**args, "note": forked + "".join(lines), "threshold": 1}
    assert failure(page, "verifyWitnessedCheckpoint", params) == "ProofInvalid"


def _keys(user_id: uuid.UUID, epoch: int = 1) -> keys.UserKeys:
    cost = login.ASVS_MINIMUM_COST
    return keys.create_key_bundle(user_id, bytes(32), epoch=epoch, recovery_cost=cost).keys


def test_signed_statements_from_python_verify_in_the_worker(page: Page) -> None:
    """Key endorsements, a membership chain and a group epoch statement signed by
    colloque.crypto.statements verify in the worker, and what must be refused is."""
    user_id, secretary_id, group_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    epochs = [_keys(user_id, epoch) for epoch in (1, 2, 3)]
    reset = statements.endorse_keys(
        encryption=epochs[1].encryption_binding(),
        signing=epochs[1].signing_binding(),
        kind=statements.EndorsementKind.RESET,
        signer=epochs[1],
    )
    rotation = statements.endorse_keys(
        encryption=epochs[2].encryption_binding(),
        signing=epochs[2].signing_binding(),
        kind=statements.EndorsementKind.ROTATION,
        signer=epochs[1],
    )
    bindings = [
        binding_json(b) for k in epochs for b in (k.encryption_binding(), k.signing_binding())
    ]
    chain_args = {"userId": str(user_id), "bindings": bindings}
    verified = call(
        page,
        "verifyKeyChain",
        {**chain_args, "endorsements": [hexed(e.to_leaf()) for e in (reset, rotation)]},
    )
    assert verified["epochs"] == [
        {"epoch": 1, "kind": 0},
        {"epoch": 2, "kind": 2},
        {"epoch": 3, "kind": 1},
    ]
    only_reset = {**chain_args, "endorsements": [hexed(reset.to_leaf())]}
    assert failure(page, "verifyKeyChain", only_reset) == "ProofInvalid"

    admin = epochs[0]
    secretary = _keys(secretary_id)
    links: list[statements.MembershipStatement] = []
    for member, role in (
        (user_id, statements.Role.ADMIN),
        (secretary_id, statements.Role.SECRETARY),
    ):
        links.append(
            statements.sign_membership(
                group_id=group_id,
                sequence=len(links) + 1,
                previous=links[-1].leaf_hash() if links else statements.GENESIS_PREVIOUS,
                member_id=member,
                role=role,
                signer=admin,
            )
        )
    signing_keys = [binding_json(admin.signing_binding())]
    membership = {
        "groupId": str(group_id),
        "statements": [hexed(link.to_leaf()) for link in links],
        "signingKeys": signing_keys,
    }
    chain = call(page, "verifyMembershipChain", membership)
    assert chain["sequence"] == 2
    assert unhexed(chain["head"]) == links[-1].leaf_hash()
    assert sorted((m["memberId"], m["role"]) for m in chain["members"]) == sorted(
        [(str(user_id), 3), (str(secretary_id), 2)]
    )
    skipped = {**membership, "statements": membership["statements"][1:]}
    assert failure(page, "verifyMembershipChain", skipped) == "ProofInvalid"

    group = groups.create_group(
        group_id, members=[admin.encryption_binding(), secretary.encryption_binding()]
    )
    group_binding = group.group_key.encryption_binding()
    wrapped = [(user_id, 1), (secretary_id, 1)]
    epoch_statement = statements.sign_group_epoch(
        group_key=group_binding, membership_sequence=2, members=wrapped, signer=admin
    )
    members = [{"memberId": str(m), "encryptionEpoch": e} for m, e in wrapped]
    epoch_args = {
        "statement": hexed(epoch_statement.to_leaf()),
        "groupKey": binding_json(group_binding),
        "membershipChain": membership["statements"],
        "members": members,
        "signingKeys": signing_keys,
    }
    assert call(page, "verifyGroupEpoch", epoch_args) is None
    assert (
        failure(page, "verifyGroupEpoch", {**epoch_args, "members": members[:1]}) == "ProofInvalid"
    )
    at_genesis = statements.sign_group_epoch(
        group_key=group_binding, membership_sequence=1, members=wrapped, signer=admin
    )
    early = {**epoch_args, "statement": hexed(at_genesis.to_leaf())}
    assert failure(page, "verifyGroupEpoch", early) == "ProofInvalid"  # secretary not yet in


def _prove_practice_key(
    page: Page, staff: ColloqueClient, practice_id: uuid.UUID, *, without: bytes | None = None
) -> dict[str, Any]:
    """provePracticeKey as the booking page runs it: fetch the paths the worker names, ask again.
    ``without``: a membership leaf left out of the practice's answer, as a server serving another
    history would."""
    pin = {
        "origin": LOG.origin,
        "logPublicKey": hexed(LOG.public_key),
        "witnesses": {},
        "threshold": 0,
    }
    practice_path = f"/api/v1/key-directory/practices/{practice_id}"
    answers: dict[str, Any] = {}
    while True:
        params = {"pin": pin, "practiceId": str(practice_id), "answers": answers}
        outcome: dict[str, Any] = page.evaluate(
            "(params) => window.colloqueCrypto.callJson('provePracticeKey', params)", params
        )
        if not outcome["ok"] or "proven" in outcome["result"]:
            return outcome
        for path in outcome["result"]["need"]:
            answer = staff._get(path)
            if path == practice_path:
                chain = [out for out in answer["chain"] if unb64(out["leaf"]) != without]
                answer = {**answer, "chain": chain}
            answers[path] = answer


def _saved_chain(page: Page, practice_id: uuid.UUID) -> Any:
    record = page.evaluate(
        """(origin) => new Promise((resolve, reject) => {
            const open = indexedDB.open("colloque-key-directory");
            open.onsuccess = () => {
              const get = open.result.transaction("logs").objectStore("logs").get(origin);
              get.onsuccess = () => resolve(get.result);
              get.onerror = () => reject(get.error);
            };
          })""",
        LOG.origin,
    )
    return record["membershipSequences"][str(practice_id)]


def _save_length_only(page: Page, practice_id: uuid.UUID, sequence: int) -> None:
    """The record as a browser from before heads were kept left it: the sequence alone."""
    page.evaluate(
        """([origin, id, sequence]) => new Promise((resolve, reject) => {
            const open = indexedDB.open("colloque-key-directory");
            open.onsuccess = () => {
              const store = open.result.transaction("logs", "readwrite").objectStore("logs");
              const get = store.get(origin);
              get.onsuccess = () => {
                const record = get.result;
                record.membershipSequences[id] = sequence;
                const put = store.put(record, origin);
                put.onsuccess = () => resolve(null);
                put.onerror = () => reject(put.error);
              };
            };
          })""",
        [LOG.origin, str(practice_id), sequence],
    )


def test_a_rewritten_membership_chain_is_refused_and_the_head_survives_a_reload(
    page: Page, browser: Browser, harness: Harness, scene: Scene, clock: SettableClock
) -> None:
    """A chain of the same length whose last link another admin-signed link replaced is refused,
    as colloque.client refuses it (docs/crypto.md 5.12), by the head kept in IndexedDB; a record
    from before heads were kept is read for its length once, then holds the head."""
    practice_id = scene.world.practice_id
    attest_a_secretary(scene, clock)
    with scene.staff() as staff:
        assert _prove_practice_key(page, staff, practice_id)["ok"]
        answer = staff._get(f"/api/v1/key-directory/practices/{practice_id}")
        leaves = [unb64(out["leaf"]) for out in answer["chain"]]
        honest = [leaf for leaf in leaves if leaf[1] == statements.MEMBERSHIP_TYPE][-1]
        sequence = statements.MembershipStatement.from_leaf(honest).sequence
        assert sequence >= 2
        assert _saved_chain(page, practice_id) == {
            "sequence": sequence,
            "head": base64.b64encode(transparency.leaf_hash(honest)).decode(),
        }
        forged = operator_forks_memberships(
            scene.db, clock, practice_id, staff.unlocked_keys, serve_honest=True
        )

        refused = _prove_practice_key(page, staff, practice_id, without=honest)
        assert (refused["ok"], refused.get("kind")) == (False, "ProofInvalid")
        # A browser that never saw the honest chain takes the forged one: only the head differs.
        fresh = open_harness(browser, harness)
        fresh.wait_for_selector("body[data-ready=true]", state="attached")
        assert _prove_practice_key(fresh, staff, practice_id, without=honest)["ok"]
        fresh.context.close()

        # A new worker, nothing but IndexedDB: still refused, the honest chain still verifies.
        page.reload()
        page.wait_for_selector("body[data-ready=true]", state="attached")
        refused = _prove_practice_key(page, staff, practice_id, without=honest)
        assert (refused["ok"], refused.get("kind")) == (False, "ProofInvalid")
        assert _prove_practice_key(page, staff, practice_id, without=forged)["ok"]

        # An older record holds the length alone: checked for length once, then the head.
        _save_length_only(page, practice_id, sequence)
        assert _prove_practice_key(page, staff, practice_id, without=honest)["ok"]
        assert (
            _saved_chain(page, practice_id)["head"]
            == base64.b64encode(transparency.leaf_hash(forged)).decode()
        )
        refused = _prove_practice_key(page, staff, practice_id, without=forged)
        assert (refused["ok"], refused.get("kind")) == (False, "ProofInvalid")
