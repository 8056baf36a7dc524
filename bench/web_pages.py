"""Time to interactive and first-load bytes of the web pages in headless Chromium, against a real
server on loopback (the browser tests' scene: the small world, a practice that seals, a patient).

    bash scripts/web-build --test && uv run python -m bench.web_pages [ROUNDS]

Each round opens each page in a new browser context (an empty cache, as a first visit). Times are
milliseconds from the navigation's start (``performance.now()`` counts from the Navigation
Timing API's ``startTime`` = 0). "Interactive" is the first moment at which, together:

- the document has run its scripts: ``domContentLoadedEventEnd`` (module scripts are deferred,
  so an island's script has run and mounted by then);
- the page's first control a person would use is in the DOM and usable, as an init script's
  MutationObserver sees it from the first byte on (no polling interval in the figure):

  ======================== ==================================================================
  search results           the first result's link (server-rendered; the page has no island)
  a practitioner's page    the picker island mounted (its visit type select) with a slot link
  booking, signed in       the booking island mounted (the server names the account): the unlock
                           form's submit button, enabled
  booking, keys unlocked   the booking form's submit button, enabled, after the patient typed
                           the password (Argon2id at the ASVS floor in the worker, the key
                           directory checks): the time counts from the click, not the navigation
  ======================== ==================================================================

Bytes are what the network carried for the page (every response until the page's ``load`` event
or, unlocked, until the form is ready: the HTML, the API answers and the worker included, response
headers included): Playwright's ``request.sizes()``, i.e. Chromium's network log, as the server
encoded them for the ``Accept-Encoding`` headless Chromium sends (brotli for the assets; the HTML
and the API answers go uncompressed).
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Request, sync_playwright

from colloque.clock import SettableClock
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.browser.scene import PATIENT_EMAIL, Scene, open_scene
from tests.conftest import T0
from tests.functional.keys.conftest import PASSWORD
from tests.smtp import Inbox

ROUNDS = 9
CHROMIUM = "/usr/bin/chromium"

#: Records, from the first byte of the document, when every selector first matches an element,
#: the last one enabled (if it can be disabled). ``%s`` is the JSON list of selectors.
WATCH = """
(() => {
  const selectors = %s;
  const seen = () => {
    if (window.__interactiveAt !== undefined) return;
    const found = selectors.map((selector) => document.querySelector(selector));
    if (found.every((node) => node !== null) && !found[found.length - 1].disabled) {
      window.__interactiveAt = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true, attributes: true });
})();
"""


@dataclass
class Sample:
    interactive_ms: float
    bytes: int
    #: Each response's name, its Content-Encoding and the bytes it carried.
    files: dict[str, tuple[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    #: CSS selectors that must all match; the last one's element must be enabled.
    ready: tuple[str, ...]
    signed_in: bool = False


def _targets(scene: Scene) -> list[Target]:
    booking = scene.booking_path(scene.slots()[0])
    return [
        Target(
            "search results", "/search?specialty=general_practice&where=Paris", ("ol.results h3 a",)
        ),
        Target(
            "a practitioner's page",
            scene.practitioner_path,
            ("#picker-visit-type", "#slot-picker [data-testid=slot-days] a"),
        ),
        Target(
            "booking, signed in", booking, ("#booking form button[type=submit]",), signed_in=True
        ),
    ]


def _carried(requests: list[Request]) -> tuple[int, dict[str, tuple[str, int]]]:
    total = 0
    files = {}
    for request in requests:
        response = request.response()
        if response is None:
            continue
        sizes = request.sizes()
        # Chromium tells Playwright no body size for a worker's script; its Content-Length (the
        # encoded file the server sent) is the same figure.
        body = sizes["responseBodySize"] or int(response.headers.get("content-length", "0"))
        carried = body + sizes["responseHeadersSize"]
        total += carried
        name = request.url.rsplit("/", 1)[-1].split("?")[0] or "/"
        files[name] = (response.headers.get("content-encoding", "identity"), carried)
    return total, files


def _open(browser: Browser, scene: Scene, target: Target) -> tuple[Page, list[Request], Any]:
    context = scene.new_context(browser, signed_in_as=PATIENT_EMAIL if target.signed_in else None)
    finished: list[Request] = []
    context.on("requestfinished", lambda request: finished.append(request))
    context.add_init_script(WATCH % json.dumps(list(target.ready)))
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page, finished, context


def _measure(browser: Browser, scene: Scene, target: Target) -> Sample:
    page, finished, context = _open(browser, scene, target)
    try:
        page.goto(scene.url + target.path)
        page.wait_for_function("() => window.__interactiveAt !== undefined")
        page.wait_for_load_state("load")
        at = page.evaluate(
            """() => Math.max(window.__interactiveAt,
                performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd)"""
        )
        total, files = _carried(finished)
        return Sample(at, total, files)
    finally:
        context.close()


def _measure_unlock(browser: Browser, scene: Scene, booking: str) -> Sample:
    """The booking page through the patient's unlock: the worker (libsodium) is fetched then."""
    target = Target("booking, keys unlocked", booking, ("#book-reason",), signed_in=True)
    page, finished, context = _open(browser, scene, target)
    try:
        page.goto(scene.url + target.path)
        page.fill("#unlock-password", PASSWORD)
        started = page.evaluate("() => performance.now()")
        page.click("#booking form button[type=submit]")
        page.wait_for_selector("#book-reason")
        page.wait_for_function(
            "() => !document.querySelector('#booking form button[type=submit]').disabled"
        )
        done = page.evaluate("() => performance.now()")
        total, files = _carried(finished)
        return Sample(done - started, total, files)
    finally:
        context.close()


def _row(name: str, samples: list[Sample]) -> str:
    times = [s.interactive_ms for s in samples]
    kilobytes = statistics.median(s.bytes for s in samples) / 1024
    return (
        f"| {name} | {statistics.median(times):.0f} ms | {min(times):.0f} to {max(times):.0f} ms "
        f"| {kilobytes:.1f} KB |"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        database = Database(url)
        # No mail is sent here: the inbox only gives the settings a port.
        with open_scene(database, SettableClock(T0), Inbox()) as scene, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            targets = _targets(scene)
            results: dict[str, list[Sample]] = {t.name: [] for t in targets}
            results["booking, keys unlocked"] = []
            booking = targets[-1].path
            for target in targets:  # warm-up: the server's first renders, Chromium's caches
                _measure(browser, scene, target)
            for _ in range(rounds):
                for target in targets:
                    results[target.name].append(_measure(browser, scene, target))
                results["booking, keys unlocked"].append(_measure_unlock(browser, scene, booking))
            version = browser.version
            browser.close()
        database.dispose()
    print(f"machine: {platform.machine()}, {platform.platform()}, Chromium {version}")
    print(f"{rounds} rounds; median, min to max; bytes: median over the rounds")
    print("| page | interactive | range | transferred |")
    print("| --- | --- | --- | --- |")
    for name, samples in results.items():
        print(_row(name, samples))
    for name, samples in results.items():
        print(f"{name}: {samples[-1].files}")
    load = subprocess.run(["cat", "/proc/loadavg"], capture_output=True, text=True).stdout.strip()
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
