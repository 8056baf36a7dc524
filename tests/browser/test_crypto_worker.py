"""The browser's crypto (web/src/crypto) in headless Chromium: the shared vector files run in the
worker, a visit reason sealed in the browser opens with colloque.crypto and a message sealed by
colloque.crypto opens in the browser, the worker's own CSP, and the built worker's size and
content.

The harness page is tests/browser/worker_harness.py; the key directory, witnesses and signed
statements in the worker are in test_worker_directory.py.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route

from colloque.clock import SettableClock
from colloque.crypto import groups, items, keys, login
from colloque.crypto.errors import CryptoError
from colloque.storage.engine import Database
from colloque.web.assets import ASSET_MANIFEST, DEFAULT_DIST_DIR, load_assets
from colloque.web.security import (
    CONTENT_SECURITY_POLICY,
    WORKER_CONTENT_SECURITY_POLICY,
)
from tests.browser.worker_harness import (
    HARNESS_PATH,
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

pytestmark = pytest.mark.browser

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
CLIENT_ENTRY = "src/crypto/client.ts"
#: Vector files of formats the browser does not implement: server_secrets.json is server-side
#: (type 0x09). Every other file must run, so that a new file fails here until it does.
NOT_IN_THE_BROWSER = {"server_secrets.json"}
#: The booking page's budget for the worker (libsodium included), gzip-compressed.
WORKER_BUDGET_GZIP = 300 * 1024


@pytest.fixture
def harness(sqlite_db: Database, clock: SettableClock) -> Iterator[Harness]:
    yield from serve(sqlite_db, clock, TEST_DIST_DIR)


@pytest.fixture
def page(browser: Browser, harness: Harness) -> Iterator[Page]:
    yield from ready_page(browser, harness)


@pytest.fixture
def shipped(sqlite_db: Database, clock: SettableClock) -> Iterator[Harness]:
    """The production build (web/dist), with the harness page but no harness script."""
    yield from serve(sqlite_db, clock, DEFAULT_DIST_DIR)


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
    derived = call(
        page,
        "deriveLoginKeys",
        {"password": decomposed, "kdfParams": hexed(params.to_bytes())},
    )
    assert unhexed(derived["authKey"]) == patient_login.auth_key
    unlocked = call(
        page,
        "unlockWithKek",
        {
            "kek": derived["kek"],
            "userId": str(patient_id),
            "sealedByPassword": hexed(patient.bundle.sealed_by_password),
        },
    )
    assert unhexed(unlocked["signingBinding"]["publicKey"]) == patient.bundle.signing_public

    # Browser -> Python: a visit reason for the patient and the practice.
    item_id, appointment_id, visit_type_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    reason = "Douleur au genou droit depuis une chute — 3 semaines. 膝の痛み"
    sealed = call(
        page,
        "sealVisitReason",
        {
            "keys": unlocked["keys"],
            "itemId": str(item_id),
            "appointmentId": str(appointment_id),
            "visitTypeId": str(visit_type_id),
            "reason": reason,
            "recipients": [
                binding_json(patient.keys.encryption_binding()),
                binding_json(group_binding),
            ],
        },
    )
    envelope = unhexed(sealed["envelope"])
    patient_wrap, group_wrap = (unhexed(w) for w in sealed["wraps"])
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
    derived_id = call(
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
        "envelope": hexed(message.envelope),
        "author": binding_json(staff.keys.signing_binding()),
    }
    as_patient = call(
        page,
        "openMessage",
        {**open_params, "holder": unlocked["keys"], "wrap": hexed(message.wraps[0])},
    )
    assert as_patient["text"] == text
    staff_derived = call(
        page,
        "deriveLoginKeys",
        {"password": "another password", "kdfParams": hexed(staff_params.to_bytes())},
    )
    staff_unlocked = call(
        page,
        "unlockWithKek",
        {
            "kek": staff_derived["kek"],
            "userId": str(practitioner_id),
            "sealedByPassword": hexed(staff.bundle.sealed_by_password),
        },
    )
    opened_group = call(
        page,
        "openGroupKey",
        {
            "keys": staff_unlocked["keys"],
            "wrap": hexed(group.wraps[practitioner_id]),
            "expected": binding_json(group_binding),
            "lastSeenEpoch": 0,
        },
    )
    as_staff = call(
        page,
        "openMessage",
        {**open_params, "holder": opened_group["group"], "wrap": hexed(message.wraps[1])},
    )
    assert as_staff["text"] == text

    # Failures reach the page typed, and forgotten keys are gone.
    assert (
        failure(
            page,
            "openMessage",
            {**open_params, "holder": unlocked["keys"], "wrap": hexed(message.wraps[1])},
        )
        == "WrongContext"
    )
    assert (
        failure(
            page,
            "openGroupKey",
            {
                "keys": staff_unlocked["keys"],
                "wrap": hexed(group.wraps[practitioner_id]),
                "expected": binding_json(group_binding),
                "lastSeenEpoch": 2,
            },
        )
        == "StaleEpoch"
    )
    wrong_kek = call(
        page, "deriveLoginKeys", {"password": "wrong", "kdfParams": hexed(params.to_bytes())}
    )
    assert (
        failure(
            page,
            "unlockWithKek",
            {
                "kek": wrong_kek["kek"],
                "userId": str(patient_id),
                "sealedByPassword": hexed(patient.bundle.sealed_by_password),
            },
        )
        == "DecryptionFailed"
    )
    weak = login.KdfParams(salt=bytes(16), cost=login.Argon2Cost(opslimit=1, memlimit=8 << 20))
    assert (
        failure(
            page, "deriveLoginKeys", {"password": password, "kdfParams": hexed(weak.to_bytes())}
        )
        == "WeakParameters"
    )
    # Nothing of this session was written to the browser's storage.
    stored = page.evaluate(
        "async () => [localStorage.length, sessionStorage.length, (await indexedDB.databases()).length]"
    )
    assert stored == [0, 0, 0]
    call(page, "forget", {"handle": unlocked["keys"]})
    assert (
        failure(
            page,
            "openMessage",
            {**open_params, "holder": unlocked["keys"], "wrap": hexed(message.wraps[0])},
        )
        == "UnknownHandle"
    )


def test_keys_made_in_the_browser_unlock_in_python(page: Page) -> None:
    user_id = uuid.uuid4()
    params = login.KdfParams(salt=bytes(range(32, 48)), cost=login.ASVS_MINIMUM_COST)
    derived = call(
        page, "deriveLoginKeys", {"password": "pw", "kdfParams": hexed(params.to_bytes())}
    )
    created = call(page, "createKeyBundle", {"userId": str(user_id), "kek": derived["kek"]})
    bundle = created["bundle"]
    kek = login.derive_login_keys("pw", params).kek
    by_password = keys.unlock_with_kek(
        unhexed(bundle["sealedByPassword"]), user_id=user_id, kek=kek
    )
    by_code = keys.unlock_with_recovery_code(
        unhexed(bundle["sealedByRecovery"]), user_id=user_id, recovery_code=created["recoveryCode"]
    )
    assert by_password == by_code
    assert by_password.signing_public == unhexed(bundle["signingPublic"])
    header = keys.read_sealed_keys_header(
        unhexed(bundle["sealedByRecovery"]), user_id=user_id, by_recovery=True
    )
    assert header.epoch == 1


def test_a_recovery_code_renewed_in_the_worker_opens_in_python(page: Page) -> None:
    user_id = uuid.uuid4()
    params = login.KdfParams(salt=bytes(range(16)), cost=login.ASVS_MINIMUM_COST)
    derived = call(
        page, "deriveLoginKeys", {"password": "pw", "kdfParams": hexed(params.to_bytes())}
    )
    created = call(page, "createKeyBundle", {"userId": str(user_id), "kek": derived["kek"]})
    handle = created["unlocked"]["keys"]
    fresh = login.KdfParams(salt=bytes(16), cost=login.ASVS_MINIMUM_COST).to_bytes()
    renewed = call(page, "newRecoveryEnvelope", {"keys": handle, "recoveryKdfParams": hexed(fresh)})
    assert renewed["recoveryCode"] != created["recoveryCode"]
    sealed = unhexed(renewed["sealedByRecovery"])
    opened = keys.unlock_with_recovery_code(
        sealed, user_id=user_id, recovery_code=renewed["recoveryCode"]
    )
    assert opened.signing_public == unhexed(created["bundle"]["signingPublic"])
    # The old code does not open the new copy; parameters below the floor are refused.
    with pytest.raises(CryptoError):
        keys.unlock_with_recovery_code(
            sealed, user_id=user_id, recovery_code=created["recoveryCode"]
        )
    weak = login.KdfParams(salt=bytes(16), cost=login.Argon2Cost(opslimit=1, memlimit=8192))
    refusal = failure(
        page, "newRecoveryEnvelope", {"keys": handle, "recoveryKdfParams": hexed(weak.to_bytes())}
    )
    assert refusal == "WeakParameters"


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
        hexed(params.to_bytes()),
    )
    assert finished == ["a", "b", "c"]


# Headers, boundaries, sizes ------------------------------------------------------------------


def _worker_file(dist: Path) -> str:
    vite = json.loads((dist / ".vite" / "manifest.json").read_text())
    (worker,) = (str(c["file"]) for c in vite.values() if c.get("isWorker"))
    return worker


def test_the_shipped_worker_runs_under_the_real_headers(browser: Browser, shipped: Harness) -> None:
    page = open_harness(browser, shipped)
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
    page = open_harness(browser, harness)

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
    assert failure(page, "version", {}) in {"InternalError", "WorkerUnavailable"}
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
