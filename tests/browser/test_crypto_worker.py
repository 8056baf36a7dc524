"""The browser's crypto (web/src/crypto) in headless Chromium: the shared vector files run in the
worker, a visit reason sealed in the browser opens with colloque.crypto and a message sealed by
colloque.crypto opens in the browser, the worker's own CSP, and the built worker's size and
content.

The harness page is served by these tests only, from the test build (web/dist-test, made by
``scripts/web-build --test``), under the application's real page and asset headers.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, Page, Route

from colloque.client import ColloqueClient
from colloque.client.encoding import unb64
from colloque.clock import Clock, SettableClock
from colloque.config import Settings
from colloque.crypto import groups, items, keys, login, statements, transparency, witness
from colloque.crypto.errors import CryptoError
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.web.assets import ASSET_MANIFEST, DEFAULT_DIST_DIR, load_assets
from colloque.web.security import (
    CONTENT_SECURITY_POLICY,
    WORKER_CONTENT_SECURITY_POLICY,
    page_headers,
)
from tests.browser.scene import Scene, attest_a_secretary, operator_forks_memberships
from tests.functional.keys.conftest import LOG
from tests.server import running_server

pytestmark = pytest.mark.browser

TEST_DIST_DIR = DEFAULT_DIST_DIR.parent / "dist-test"
VECTORS = Path(__file__).resolve().parents[1] / "vectors"
HARNESS_PATH = "/test/crypto-harness"
HARNESS_ENTRY = "test/crypto-harness.ts"
CLIENT_ENTRY = "src/crypto/client.ts"
#: Vector files of formats the browser does not implement: server_secrets.json is server-side
#: (type 0x09). Every other file must run, so that a new file fails here until it does.
NOT_IN_THE_BROWSER = {"server_secrets.json"}
#: The booking page's budget for the worker (libsodium included), gzip-compressed.
WORKER_BUDGET_GZIP = 300 * 1024


@dataclass
class Harness:
    url: str
    requests: list[str] = field(default_factory=list)


def _harness_app(database: Database, clock: Clock | None, dist: Path) -> Any:
    assets = load_assets(dist)
    app = create_app(Settings(run_refresher=False), database=database, clock=clock, assets=assets)
    harness = assets.entry(HARNESS_ENTRY).scripts
    tags = "".join(
        f'<script type="module" src="/{s.path}" integrity="{s.integrity}"></script>'
        for s in harness
    )
    html = f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>crypto</title>{tags}</head><body></body></html>'

    def harness_page() -> HTMLResponse:
        response = HTMLResponse(html)
        page_headers(response.headers, production=False)
        return response

    app.add_api_route(HARNESS_PATH, harness_page, methods=["GET"], include_in_schema=False)
    return app


def _serve(database: Database, clock: SettableClock, dist: Path) -> Iterator[Harness]:
    if not (dist / ASSET_MANIFEST).is_file():
        pytest.fail(f"{dist} is not built: run scripts/web-build --test (scripts/test does)")
    with running_server(_harness_app(database, clock, dist)) as url:
        yield Harness(url)


@pytest.fixture
def harness(sqlite_db: Database, clock: SettableClock) -> Iterator[Harness]:
    yield from _serve(sqlite_db, clock, TEST_DIST_DIR)


@pytest.fixture
def shipped(sqlite_db: Database, clock: SettableClock) -> Iterator[Harness]:
    """The production build (web/dist), with the harness page but no harness script."""
    yield from _serve(sqlite_db, clock, DEFAULT_DIST_DIR)


def _open(browser: Browser, harness: Harness) -> Page:
    context = browser.new_context()
    context.on("request", lambda request: harness.requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(harness.url + HARNESS_PATH)
    return page


@pytest.fixture
def page(browser: Browser, harness: Harness) -> Iterator[Page]:
    page = _open(browser, harness)
    page.wait_for_selector("body[data-ready=true]", state="attached")
    yield page
    page.context.close()
    foreign = [url for url in harness.requests if not url.startswith(harness.url + "/")]
    assert not foreign, f"requests left for another origin: {foreign}"


def _hex(data: bytes) -> str:
    return "hex:" + data.hex()


def _bytes(value: str) -> bytes:
    assert value.startswith("hex:"), value
    return bytes.fromhex(value[4:])


def _call(page: Page, op: str, params: dict[str, Any]) -> Any:
    outcome = page.evaluate(
        "([op, params]) => window.colloqueCrypto.callJson(op, params)", [op, params]
    )
    assert outcome["ok"], f"{op} failed: {outcome}"
    return outcome["result"]


def _failure(page: Page, op: str, params: dict[str, Any]) -> str:
    outcome = page.evaluate(
        "([op, params]) => window.colloqueCrypto.callJson(op, params)", [op, params]
    )
    assert not outcome["ok"], f"{op} should have failed"
    return str(outcome["kind"])


def _binding(binding: Any) -> dict[str, Any]:
    return {
        "subjectKind": int(binding.subject_kind),
        "subjectId": str(binding.subject_id),
        "purpose": int(binding.purpose),
        "epoch": binding.epoch,
        "publicKey": _hex(binding.public_key),
    }


# The vectors ---------------------------------------------------------------------------------


def test_every_vector_file_passes_in_the_worker(page: Page) -> None:
    files = sorted(p.name for p in VECTORS.glob("*.json"))
    vectors = {name: json.loads((VECTORS / name).read_text()) for name in files}
    run = {name: content for name, content in vectors.items() if name not in NOT_IN_THE_BROWSER}
    report = page.evaluate("vectors => window.colloqueCrypto.call('selfTest', { vectors })", run)
    assert report["failures"] == []
    assert set(report["checks"]) == set(run)
    assert all(count > 0 for count in report["checks"].values()), report["checks"]
    total = sum(report["checks"].values())
    print(f"\n{total} checks over {len(run)} vector files in the worker: {report['checks']}")
    assert total >= 520


# Both clients, both ways ---------------------------------------------------------------------


def test_a_reason_sealed_in_the_browser_opens_in_python_and_a_message_the_other_way(
    page: Page,
) -> None:
    patient_id, practitioner_id, practice_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    password = "Café crème au lait, s'il vous plaît"  # not NFC-invariant: "é" composed by NFC
    decomposed = password.replace("é", "e\u0301")
    params = login.KdfParams(salt=bytes(range(16)), cost=login.ASVS_MINIMUM_COST)
    patient_login = login.derive_login_keys(password, params)
    patient = keys.create_key_bundle(
        patient_id, patient_login.kek, recovery_cost=login.ASVS_MINIMUM_COST
    )
    staff_params = login.KdfParams(salt=bytes(range(16, 32)), cost=login.ASVS_MINIMUM_COST)
    staff_login = login.derive_login_keys("another password", staff_params)
    staff = keys.create_key_bundle(
        practitioner_id, staff_login.kek, recovery_cost=login.ASVS_MINIMUM_COST
    )
    group = groups.create_group(practice_id, members=[staff.keys.encryption_binding()])
    group_binding = group.group_key.encryption_binding()

    # The patient logs in in the browser: the same authentication key, keys unlocked.
    derived = _call(
        page,
        "deriveLoginKeys",
        {"password": decomposed, "kdfParams": _hex(params.to_bytes())},
    )
    assert _bytes(derived["authKey"]) == patient_login.auth_key
    unlocked = _call(
        page,
        "unlockWithKek",
        {
            "kek": derived["kek"],
            "userId": str(patient_id),
            "sealedByPassword": _hex(patient.bundle.sealed_by_password),
        },
    )
    assert _bytes(unlocked["signingBinding"]["publicKey"]) == patient.bundle.signing_public

    # Browser -> Python: a visit reason for the patient and the practice.
    item_id, appointment_id, visit_type_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    reason = "Douleur au genou droit depuis une chute — 3 semaines. 膝の痛み"
    sealed = _call(
        page,
        "sealVisitReason",
        {
            "keys": unlocked["keys"],
            "itemId": str(item_id),
            "appointmentId": str(appointment_id),
            "visitTypeId": str(visit_type_id),
            "reason": reason,
            "recipients": [
                _binding(patient.keys.encryption_binding()),
                _binding(group_binding),
            ],
        },
    )
    envelope = _bytes(sealed["envelope"])
    patient_wrap, group_wrap = (_bytes(w) for w in sealed["wraps"])
    for wrap, holder in ((patient_wrap, patient.keys), (group_wrap, group.group_key)):
        item_key = items.unwrap_item_key(wrap, item_id=item_id, holder=holder)
        opened = items.open_visit_reason(
            envelope,
            item_key=item_key,
            item_id=item_id,
            appointment_id=appointment_id,
            author=patient.keys.signing_binding(),
        )
        assert opened == items.VisitReason(visit_type_id, reason)
    items.verify_item_signature(envelope, author=patient.keys.signing_binding())

    # Python -> browser: the practitioner's message, opened by the patient's keys and by the
    # practice's group key, which the practitioner opens in the browser.
    conversation = items.conversation_id(practice_id=practice_id, patient_id=patient_id)
    derived_id = _call(
        page, "conversationId", {"practiceId": str(practice_id), "patientId": str(patient_id)}
    )
    assert derived_id["conversationId"] == str(conversation)
    message_id = uuid.uuid4()
    text = "Bonjour, votre radio est arrivée : rien d'inquiétant. À mardi."
    message = items.seal_message(
        item_id=message_id,
        conversation_id=conversation,
        text=text,
        author=staff.keys,
        recipients=[patient.keys.encryption_binding(), group_binding],
    )
    open_params = {
        "itemId": str(message_id),
        "conversationId": str(conversation),
        "envelope": _hex(message.envelope),
        "author": _binding(staff.keys.signing_binding()),
    }
    as_patient = _call(
        page,
        "openMessage",
        {**open_params, "holder": unlocked["keys"], "wrap": _hex(message.wraps[0])},
    )
    assert as_patient["text"] == text
    staff_derived = _call(
        page,
        "deriveLoginKeys",
        {"password": "another password", "kdfParams": _hex(staff_params.to_bytes())},
    )
    staff_unlocked = _call(
        page,
        "unlockWithKek",
        {
            "kek": staff_derived["kek"],
            "userId": str(practitioner_id),
            "sealedByPassword": _hex(staff.bundle.sealed_by_password),
        },
    )
    opened_group = _call(
        page,
        "openGroupKey",
        {
            "keys": staff_unlocked["keys"],
            "wrap": _hex(group.wraps[practitioner_id]),
            "expected": _binding(group_binding),
            "lastSeenEpoch": 0,
        },
    )
    as_staff = _call(
        page,
        "openMessage",
        {**open_params, "holder": opened_group["group"], "wrap": _hex(message.wraps[1])},
    )
    assert as_staff["text"] == text

    # Failures reach the page typed, and forgotten keys are gone.
    assert (
        _failure(
            page,
            "openMessage",
            {**open_params, "holder": unlocked["keys"], "wrap": _hex(message.wraps[1])},
        )
        == "WrongContext"
    )
    assert (
        _failure(
            page,
            "openGroupKey",
            {
                "keys": staff_unlocked["keys"],
                "wrap": _hex(group.wraps[practitioner_id]),
                "expected": _binding(group_binding),
                "lastSeenEpoch": 2,
            },
        )
        == "StaleEpoch"
    )
    wrong_kek = _call(
        page, "deriveLoginKeys", {"password": "wrong", "kdfParams": _hex(params.to_bytes())}
    )
    assert (
        _failure(
            page,
            "unlockWithKek",
            {
                "kek": wrong_kek["kek"],
                "userId": str(patient_id),
                "sealedByPassword": _hex(patient.bundle.sealed_by_password),
            },
        )
        == "DecryptionFailed"
    )
    weak = login.KdfParams(salt=bytes(16), cost=login.Argon2Cost(opslimit=1, memlimit=8 << 20))
    assert (
        _failure(
            page, "deriveLoginKeys", {"password": password, "kdfParams": _hex(weak.to_bytes())}
        )
        == "WeakParameters"
    )
    # Nothing of this session was written to the browser's storage.
    stored = page.evaluate(
        "async () => [localStorage.length, sessionStorage.length, (await indexedDB.databases()).length]"
    )
    assert stored == [0, 0, 0]
    _call(page, "forget", {"handle": unlocked["keys"]})
    assert (
        _failure(
            page,
            "openMessage",
            {**open_params, "holder": unlocked["keys"], "wrap": _hex(message.wraps[0])},
        )
        == "UnknownHandle"
    )


def test_keys_made_in_the_browser_unlock_in_python(page: Page) -> None:
    user_id = uuid.uuid4()
    params = login.KdfParams(salt=bytes(range(32, 48)), cost=login.ASVS_MINIMUM_COST)
    derived = _call(
        page, "deriveLoginKeys", {"password": "pw", "kdfParams": _hex(params.to_bytes())}
    )
    created = _call(page, "createKeyBundle", {"userId": str(user_id), "kek": derived["kek"]})
    bundle = created["bundle"]
    kek = login.derive_login_keys("pw", params).kek
    by_password = keys.unlock_with_kek(_bytes(bundle["sealedByPassword"]), user_id=user_id, kek=kek)
    by_code = keys.unlock_with_recovery_code(
        _bytes(bundle["sealedByRecovery"]), user_id=user_id, recovery_code=created["recoveryCode"]
    )
    assert by_password == by_code
    assert by_password.signing_public == _bytes(bundle["signingPublic"])
    header = keys.read_sealed_keys_header(
        _bytes(bundle["sealedByRecovery"]), user_id=user_id, by_recovery=True
    )
    assert header.epoch == 1


def test_a_recovery_code_renewed_in_the_worker_opens_in_python(page: Page) -> None:
    user_id = uuid.uuid4()
    params = login.KdfParams(salt=bytes(range(16)), cost=login.ASVS_MINIMUM_COST)
    derived = _call(
        page, "deriveLoginKeys", {"password": "pw", "kdfParams": _hex(params.to_bytes())}
    )
    created = _call(page, "createKeyBundle", {"userId": str(user_id), "kek": derived["kek"]})
    handle = created["unlocked"]["keys"]
    fresh = login.KdfParams(salt=bytes(16), cost=login.ASVS_MINIMUM_COST).to_bytes()
    renewed = _call(page, "newRecoveryEnvelope", {"keys": handle, "recoveryKdfParams": _hex(fresh)})
    assert renewed["recoveryCode"] != created["recoveryCode"]
    sealed = _bytes(renewed["sealedByRecovery"])
    opened = keys.unlock_with_recovery_code(
        sealed, user_id=user_id, recovery_code=renewed["recoveryCode"]
    )
    assert opened.signing_public == _bytes(created["bundle"]["signingPublic"])
    # The old code does not open the new copy; parameters below the floor are refused.
    with pytest.raises(CryptoError):
        keys.unlock_with_recovery_code(
            sealed, user_id=user_id, recovery_code=created["recoveryCode"]
        )
    weak = login.KdfParams(salt=bytes(16), cost=login.Argon2Cost(opslimit=1, memlimit=8192))
    failure = _failure(
        page, "newRecoveryEnvelope", {"keys": handle, "recoveryKdfParams": _hex(weak.to_bytes())}
    )
    assert failure == "WeakParameters"


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
        _call(
            page, "verifyCheckpoint", {"note": n, "origin": origin, "logPublicKey": _hex(log_key)}
        )
        for n in notes
    ]
    assert [v["treeSize"] for v in verified] == [3, 6]
    for index, binding in enumerate(bindings):
        proof = [_hex(h) for h in transparency.inclusion_proof(hashes, index)]
        args = {"binding": _binding(binding), "leafIndex": index, "proof": proof}
        assert _call(page, "verifyKeyBinding", {**args, "checkpoint": verified[1]}) is None
        other = _binding(bindings[(index + 1) % 6])
        assert (
            _failure(
                page, "verifyKeyBinding", {**args, "binding": other, "checkpoint": verified[1]}
            )
            == "ProofInvalid"
        )
    proof = [_hex(h) for h in transparency.consistency_proof(hashes, 3)]
    consistency = {"previous": verified[0], "next": verified[1], "proof": proof}
    assert _call(page, "verifyCheckpointConsistency", consistency) is None
    assert (
        _failure(
            page,
            "verifyCheckpointConsistency",
            {**consistency, "previous": verified[1], "next": verified[0]},
        )
        == "ProofInvalid"
    )
    assert (
        _failure(
            page,
            "verifyCheckpoint",
            {"note": notes[0], "origin": origin, "logPublicKey": _hex(bindings[0].public_key)},
        )
        == "ProofInvalid"
    )
    shown = transparency.fingerprint(bindings[:2])
    assert _call(page, "fingerprint", {"bindings": [_binding(b) for b in bindings[:2]]}) == {
        "fingerprint": shown
    }
    assert (
        _call(
            page,
            "checkFingerprint",
            {"bindings": [_binding(b) for b in bindings[:2]], "shown": shown},
        )
        is None
    )
    assert (
        _failure(page, "checkFingerprint", {"bindings": [_binding(bindings[0])], "shown": shown})
        == "InvalidPublicKey"
    )


def test_witness_cosignatures_from_python_count_in_the_worker(page: Page) -> None:
    seed = bytes(range(32))
    origin = "colloque.test/key-directory"
    log_key = transparency.log_public_key(seed)
    checkpoint = transparency.Checkpoint(origin, 9, bytes(range(32)))
    note = transparency.sign_checkpoint(checkpoint, log_signing_seed=seed)
    seeds = {f"witness.test/{n}": bytes([n]) * 32 for n in range(3)}
    pinned = {name: _hex(witness.witness_public_key(s)) for name, s in seeds.items()}
    lines = [
        witness.cosign(checkpoint, name=name, witness_signing_seed=s, timestamp=1_780_000_000 + n)
        for n, (name, s) in enumerate(seeds.items())
    ]
    args = {"origin": origin, "logPublicKey": _hex(log_key), "witnesses": pinned}
    two = note + "".join(lines[:2])
    assert (
        _call(page, "verifyWitnessedCheckpoint", {**args, "note": two, "threshold": 2})["treeSize"]
        == 9
    )
    for threshold, cosigned, not_before in (
        (3, two, 0),
        (2, note + lines[0] * 2, 0),
        (2, two, 1_780_000_001),
    ):
        params = {**args, "note": cosigned, "threshold": threshold, "notBefore": not_before}
        assert _failure(page, "verifyWitnessedCheckpoint", params) == "ProofInvalid"
    forked = transparency.sign_checkpoint(
        transparency.Checkpoint(origin, 9, bytes(32)), log_signing_seed=seed
    )
    params = {**args, "note": forked + "".join(lines), "threshold": 1}
    assert _failure(page, "verifyWitnessedCheckpoint", params) == "ProofInvalid"


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
    bindings = [_binding(b) for k in epochs for b in (k.encryption_binding(), k.signing_binding())]
    chain_args = {"userId": str(user_id), "bindings": bindings}
    verified = _call(
        page,
        "verifyKeyChain",
        {**chain_args, "endorsements": [_hex(e.to_leaf()) for e in (reset, rotation)]},
    )
    assert verified["epochs"] == [
        {"epoch": 1, "kind": 0},
        {"epoch": 2, "kind": 2},
        {"epoch": 3, "kind": 1},
    ]
    only_reset = {**chain_args, "endorsements": [_hex(reset.to_leaf())]}
    assert _failure(page, "verifyKeyChain", only_reset) == "ProofInvalid"

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
    signing_keys = [_binding(admin.signing_binding())]
    membership = {
        "groupId": str(group_id),
        "statements": [_hex(link.to_leaf()) for link in links],
        "signingKeys": signing_keys,
    }
    chain = _call(page, "verifyMembershipChain", membership)
    assert chain["sequence"] == 2
    assert _bytes(chain["head"]) == links[-1].leaf_hash()
    assert sorted((m["memberId"], m["role"]) for m in chain["members"]) == sorted(
        [(str(user_id), 3), (str(secretary_id), 2)]
    )
    skipped = {**membership, "statements": membership["statements"][1:]}
    assert _failure(page, "verifyMembershipChain", skipped) == "ProofInvalid"

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
        "statement": _hex(epoch_statement.to_leaf()),
        "groupKey": _binding(group_binding),
        "membershipChain": membership["statements"],
        "members": members,
        "signingKeys": signing_keys,
    }
    assert _call(page, "verifyGroupEpoch", epoch_args) is None
    assert (
        _failure(page, "verifyGroupEpoch", {**epoch_args, "members": members[:1]}) == "ProofInvalid"
    )
    at_genesis = statements.sign_group_epoch(
        group_key=group_binding, membership_sequence=1, members=wrapped, signer=admin
    )
    early = {**epoch_args, "statement": _hex(at_genesis.to_leaf())}
    assert _failure(page, "verifyGroupEpoch", early) == "ProofInvalid"  # secretary not yet in


def _prove_practice_key(
    page: Page, staff: ColloqueClient, practice_id: uuid.UUID, *, without: bytes | None = None
) -> dict[str, Any]:
    """provePracticeKey as the booking page runs it: fetch the paths the worker names, ask again.
    ``without``: a membership leaf left out of the practice's answer, as a server serving another
    history would."""
    pin = {
        "origin": LOG.origin,
        "logPublicKey": _hex(LOG.public_key),
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
        fresh = _open(browser, harness)
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


def test_argon2id_runs_one_at_a_time_in_arrival_order(page: Page) -> None:
    """Three logins asked at once all answer, in the order asked (the worker's queue: one
    Argon2id in memory at a time, 64 MiB each at the interactive cost)."""
    params = login.KdfParams(salt=bytes(16), cost=login.ASVS_MINIMUM_COST)
    finished = page.evaluate(
        """async (kdfParams) => {
            const c = window.colloqueCrypto;
            const order = [];
            await Promise.all(["a", "b", "c"].map((password) =>
                c.callJson("deriveLoginKeys", { password, kdfParams }).then((out) => {
                    if (!out.ok) throw new Error(out.kind);
                    order.push(password);
                })));
            return order;
        }""",
        _hex(params.to_bytes()),
    )
    assert finished == ["a", "b", "c"]


# Headers, boundaries, sizes ------------------------------------------------------------------


def _worker_file(dist: Path) -> str:
    vite = json.loads((dist / ".vite" / "manifest.json").read_text())
    (worker,) = (str(c["file"]) for c in vite.values() if c.get("isWorker"))
    return worker


def test_the_shipped_worker_runs_under_the_real_headers(browser: Browser, shipped: Harness) -> None:
    page = _open(browser, shipped)
    response = page.request.get(shipped.url + HARNESS_PATH)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "wasm" not in CONTENT_SECURITY_POLICY
    worker = _worker_file(DEFAULT_DIST_DIR)
    worker_response = page.request.get(f"{shipped.url}/{worker}")
    assert worker_response.headers["content-security-policy"] == WORKER_CONTENT_SECURITY_POLICY
    # The entry comes last, after the chunks it shares with the account pages.
    client = load_assets(DEFAULT_DIST_DIR).entry(CLIENT_ENTRY).scripts[-1]
    script = f"""async () => {{
        const {{ CryptoClient }} = await import("/{client.path}");
        const crypto = new CryptoClient();
        const version = await crypto.call("version", {{}});
        const conversation = await crypto.call("conversationId", {{
            practiceId: "b0000000-0000-4000-8000-000000000002",
            patientId: "a0000000-0000-4000-8000-000000000001" }});
        let selfTest = "ran";
        try {{ await crypto.call("selfTest", {{ vectors: {{}} }}); }}
        catch (error) {{ selfTest = error.kind; }}
        return {{ version, conversation, selfTest }};
    }}"""
    result = page.evaluate(script)
    assert result["version"]["libsodium"].startswith("1.0.")
    conversations = json.loads((VECTORS / "conversations.json").read_text())["cases"]
    assert result["conversation"]["conversationId"] == conversations[0]["conversation_id"]
    # The production worker has no test hooks.
    assert result["selfTest"] == "InternalError"
    page.context.close()


def test_without_wasm_unsafe_eval_the_worker_cannot_start(
    browser: Browser, harness: Harness
) -> None:
    """What libsodium.js needs, checked: the same worker served with script-src 'self' alone
    cannot compile its WebAssembly, and the page gets a typed failure, not a hang."""
    page = _open(browser, harness)

    def strict(route: Route) -> None:
        response = route.fetch()
        headers = {
            **response.headers,
            "content-security-policy": "default-src 'none'; script-src 'self'",
        }
        route.fulfill(response=response, headers=headers)

    page.route("**/assets/crypto-worker-*.js", strict)
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached")
    assert _failure(page, "version", {}) in {"InternalError", "WorkerUnavailable"}
    page.context.close()


def test_only_the_worker_carries_libsodium_and_it_fits_the_budget() -> None:
    files = json.loads((DEFAULT_DIST_DIR / ASSET_MANIFEST).read_text())["files"]
    worker = _worker_file(DEFAULT_DIST_DIR)
    assert worker in files
    assert not any("harness" in path for path in files), "the test harness must not ship"
    for path in files:
        if path.endswith(".js") and path != worker:
            content = (DEFAULT_DIST_DIR / path).read_text()
            assert "crypto_pwhash" not in content, path
            assert "libsodium" not in content, path
    built = (DEFAULT_DIST_DIR / worker).read_bytes()
    assert b"colloque-crypto-selftest" not in built
    compressed = len(gzip.compress(built, compresslevel=9))
    assert compressed < WORKER_BUDGET_GZIP, f"the crypto worker is {compressed} bytes gzipped"
