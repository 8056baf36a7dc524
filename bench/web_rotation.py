"""Removing a member of a 50-member practice: the signed removal, the new group epoch wrapped for
the 49 left and the item keys re-wrapped, done by an admin's browser (headless Chromium, the
members page) and by the Python client, in the same run on the same server.

    bash scripts/web-build --test && uv run python -m bench.web_rotation [ROUNDS]

The practice has 50 attested members holding the group key and ITEMS visit reasons sealed for
it. Each round removes one more member twice: once from the browser (an admin signed in with
TOTP and unlocked once; timed in the page, performance.now(), from the confirm click to the
page saying the key is renewed: the worker's directory checks, the removal statement, the new
epoch's 49 wraps and statement, every item key re-wrapped in batches, the posts and the list read
again), once from the Python client (``PracticeKeys.remove_member`` then
``SealedRecords.rewrap_after_rotation``, wall time). Medians over the rounds, after a warm-up.
"""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from colloque.clock import SettableClock
from colloque.crypto import statements
from colloque.principal import Role
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.browser.scene import Scene, make_member, open_scene, phone_booking
from tests.conftest import T0
from tests.factories import register_at_practice
from tests.functional.keys.conftest import Keyed, add, keyed
from tests.smtp import Inbox

CHROMIUM = "/usr/bin/chromium"
ROUNDS = 5
MEMBERS = 50
ITEMS = 100


def _members(scene: Scene, clock: SettableClock, names: list[str]) -> list[Keyed]:
    """Secretaries with keys, attested and holding the group key."""
    people = [keyed(scene.db, clock, name) for name in names]
    with scene.staff() as admin:
        for person in people:
            add(scene.db, scene.world.practice_id, person, Role.SECRETARY)
            admin.practice_keys.attest_member(
                scene.world.practice_id, person.account_id, statements.Role.SECRETARY
            )
        admin.practice_keys.wrap_for_pending(scene.world.practice_id)
    return people


def _items(scene: Scene, clock: SettableClock) -> None:
    """ITEMS phone bookings, each reason sealed for the patient and the group (epoch 1)."""
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    starts: list[datetime] = []
    for slot in map(datetime.fromisoformat, scene.slots()):
        if not starts or slot >= starts[-1] + timedelta(minutes=20):
            starts.append(slot)
    assert len(starts) >= ITEMS, "not enough free 20-minute slots"
    with scene.staff() as desk:
        for index, starts_at in enumerate(starts[:ITEMS]):
            phone_booking(scene, desk, f"Motif n° {index}", starts_at.isoformat())


def _python_removal(scene: Scene, person: Keyed) -> float:
    practice = scene.world.practice_id
    with scene.staff() as admin:
        started = time.perf_counter()
        new = admin.practice_keys.remove_member(practice, person.account_id)
        older = admin.practice_keys.older_group_keys(practice)
        admin.records.rewrap_after_rotation(
            practice_id=practice, group_keys={**older, new.epoch: new}
        )
        return (time.perf_counter() - started) * 1000


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    in_browser: list[float] = []
    in_python: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        database = Database(url)
        clock = SettableClock(T0)
        with open_scene(database, clock, Inbox()) as scene, sync_playwright() as pw:
            boss = make_member(scene, clock, "patronne", Role.ADMIN)
            # The admins (the scene's and the browser's) and 48 more: 50 members; each removal
            # is followed by a newcomer, so that every removal is from 50 members.
            people = _members(scene, clock, [f"membre{i:02d}" for i in range(MEMBERS - 2)])
            newcomers = (f"nouveau{i:02d}" for i in range(2 * (rounds + 1)))
            _items(scene, clock)
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            context = boss.sign_in(scene, browser)
            page = context.new_page()
            page.set_default_timeout(300_000)
            page.goto(f"{scene.url}/practice/{scene.world.practice_id}/members")
            boss.unlock(page)
            for round_index in range(rounds + 1):  # the first is a warm-up
                leaving = people.pop(0)
                name = leaving.email.split("@")[0].title()
                page.get_by_role("button", name=f"Retirer {name}").click()
                started = page.evaluate("() => performance.now()")
                page.get_by_role("button", name="Retirer", exact=True).click()
                page.wait_for_function(
                    "() => document.querySelector('[role=status]')?.textContent"
                    f" === '{name} ne fait plus partie du cabinet ; la clé est renouvelée.'"
                )
                done = page.evaluate("() => performance.now()")
                people += _members(scene, clock, [next(newcomers)])
                python_ms = _python_removal(scene, people.pop(0))
                people += _members(scene, clock, [next(newcomers)])
                if round_index > 0:
                    in_browser.append(done - started)
                    in_python.append(python_ms)
            version = browser.version
            context.close()
            browser.close()
        database.dispose()
    print(f"machine: {platform.machine()}, {platform.platform()}, Chromium {version}")
    print(f"{rounds} rounds after a warm-up; {MEMBERS} members, {ITEMS} item keys to re-wrap")
    for label, times in (("browser (members page)", in_browser), ("Python client", in_python)):
        print(
            f"| {label} | {statistics.median(times):.0f} ms"
            f" | {min(times):.0f} to {max(times):.0f} ms |"
        )
    load = subprocess.run(["cat", "/proc/loadavg"], capture_output=True, text=True).stdout.strip()
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
