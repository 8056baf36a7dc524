"""The pages over the demo's data (many practices, accented names, real agendas), as a person
trying the demo would use them: the README's physiotherapist, found and opened in the browser;
then `colloque demo` itself, started as the README starts it, and each login it prints used in
the browser as printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Browser, expect

from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.web.app import create_app
from tests.browser.conftest import AXE, serious_violations
from tests.server import free_port, running_server
from tests.unit.demo.support import DEMO_NOW, make_demo

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    demo = make_demo(tmp_path / "demo.sqlite3")
    app = create_app(
        Settings(run_refresher=False, data_dir=tmp_path),
        database=demo.db,
        clock=SettableClock(DEMO_NOW),
    )
    try:
        with running_server(app) as url:
            yield url
    finally:
        demo.db.dispose()


def test_the_readme_physiotherapist_in_the_browser(browser: Browser, demo_url: str) -> None:
    context = browser.new_context(locale="fr-FR")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    context.add_init_script(path=AXE)
    try:
        page = context.new_page()
        page.goto(demo_url + "/?lang=en")
        page.select_option("#specialty", "physiotherapy")
        page.fill("#where", "Paris")
        page.fill("#name", "Garnier")
        page.press("#name", "Enter")
        expect(page.locator("ol.results > li").first).to_be_visible()
        page.locator("ol.results h3 a", has_text="Garnier").first.click()
        expect(page.locator("h1")).to_contain_text("Garnier")
        expect(page.locator("#picker-visit-type")).to_be_visible()
        picker = page.locator("#picker-visit-type")
        wanted = picker.locator("option", has_text="Séance de kinésithérapie").first
        picker.select_option(wanted.get_attribute("value"))
        expect(page.locator("[data-testid=slot-days] time").first).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("this week")
        result: dict[str, Any] = page.evaluate(
            "() => axe.run(document, { runOnly: { type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })"
        )
        serious = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious
    finally:
        context.close()
    assert all(url.startswith(demo_url + "/") for url in requests)


@dataclass(frozen=True)
class PrintedLogin:
    role: str
    display_name: str
    web: str
    email: str
    password: str


@dataclass(frozen=True)
class PrintedDemo:
    url: str
    logins: dict[str, PrintedLogin]


#: The last line ``colloque demo`` prints before it serves.
LAST_LINE = "colloque.client and call read_reason() on an appointment to open one."


def _read_printed(lines: list[str]) -> PrintedDemo:
    """The web address (the first thing printed) and the logins, as a person reads them."""
    opened = next(line for line in lines if line.startswith("Colloque demo: open "))
    url = opened.split()[3].rstrip("/")
    logins = {}
    for i, line in enumerate(lines):
        found = re.fullmatch(r"  (patient|secretary|practitioner|admin) +(.+)", line)
        if found is None:
            continue
        fields = dict(lines[i + k].split(maxsplit=1) for k in (1, 2, 3))
        role = found.group(1)
        logins[role] = PrintedLogin(
            role, found.group(2), fields["web"], fields["email"], fields["password"]
        )
    return PrintedDemo(url, logins)


@pytest.fixture(scope="module")
def printed_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrintedDemo]:
    """``colloque demo`` on a fresh data directory and a free port, small amounts for speed:
    it loads the data, prints, then serves until the module is done."""
    data_dir = tmp_path_factory.mktemp("demo-cli")
    port = free_port()
    environment = {**os.environ, "COLLOQUE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "colloque.cli", "demo", "--port", str(port)]
    command += ["--practitioners", "20", "--patients", "50", "--appointments", "500"]
    with (
        (data_dir / "stderr.txt").open("w") as stderr,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=environment
        ) as process,
    ):
        watchdog = threading.Timer(120, process.kill)  # a demo that hangs fails, not the suite
        watchdog.start()
        try:
            assert process.stdout is not None
            lines: list[str] = []
            while not lines or lines[-1] != LAST_LINE:
                line = process.stdout.readline()
                assert line, f"colloque demo stopped: {(data_dir / 'stderr.txt').read_text()}"
                lines.append(line.rstrip("\n"))
            printed = _read_printed(lines)
            assert printed.url == f"http://127.0.0.1:{port}"
            _wait_until_served(printed.url)
            yield printed
        finally:
            watchdog.cancel()
            process.terminate()
            process.wait(timeout=20)


def _wait_until_served(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx2.get(url + "/").status_code == 200:
                return
        except httpx2.TransportError:
            pass
        assert time.monotonic() < deadline, "colloque demo did not start serving"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("role", "lands_on", "landmark"),
    [
        ("patient", "/me/appointments", "Mes rendez-vous"),
        ("secretary", "/account", "Mon compte"),
        ("practitioner", "/account", "Mon compte"),
        ("admin", "/account", "Mon compte"),
    ],
)
def test_each_printed_demo_login_works_in_the_browser(
    browser: Browser, printed_demo: PrintedDemo, role: str, lands_on: str, landmark: str
) -> None:
    login = printed_demo.logins[role]
    context = browser.new_context(locale="fr-FR")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(login.web)
        page.fill("#login-email", login.email)
        page.fill("#login-password", login.password)
        page.click("form.account-form button[type=submit]")
        expect(page).to_have_url(printed_demo.url + lands_on)
        expect(page.locator("h1")).to_have_text(landmark)
        expect(page.locator("header.site form.signed-in a")).to_have_text(login.display_name)
        if role == "patient":
            # The showcase family's visits, upcoming and past.
            expect(page.locator("ul.appointments > li").first).to_be_visible()
        serious = serious_violations(page)
        assert not serious, [v["id"] for v in serious]
    finally:
        context.close()
    assert all(url.startswith(printed_demo.url + "/") for url in requests)
