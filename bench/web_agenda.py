"""A secretary's week in the practice agenda, in headless Chromium: 6 practitioners and 300
appointments, each with a visit reason sealed by the desk for the patient and the practice.

    bash scripts/web-build --test && uv run python -m bench.web_agenda [ROUNDS]

Each round signs a secretary in (cookie login with TOTP), opens the agenda on that week and
times two things in the page (performance.now()): from the navigation's start to the week's grid
drawn (reasons still sealed), and from the unlock form's second step (the TOTP code; the Argon2id
derivation ran at its first step, the password) to all 300 reasons decrypted and drawn: the
login's completion, the group key and the key directory checks in the worker, the batch open
(operation `openAgendaReasons`) and Svelte's update. Medians over the rounds.

It also times the worker's part alone: the page's last `openAgendaReasons` call (a User Timing
measure, `colloque:openAgendaReasons`: the chain and standing checks, the group key, the 300
opens and the message passing), and, in the crypto harness page of the test build, the same 300
items opened by the bare libsodium.js calls each needs (`rawOpenReasons`: sealed box, signature,
commitment, AEAD, unpadding). Their ratio is the decrypt share of the worker call.
"""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import select

from colloque.client.appointments import sealed_booking_fields
from colloque.clock import SettableClock
from colloque.crypto.transparency import KeyPurpose
from colloque.principal import Role
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.scheduling.domain import PatientKind
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_opening_range, do_add_visit_type
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.browser.scene import Scene, holder_account, make_member, open_scene
from tests.browser.worker_harness import TEST_DIST_DIR, call, hexed, ready_page, serve
from tests.conftest import T0
from tests.factories import register_at_practice
from tests.functional.keys.conftest import PASSWORD
from tests.smtp import Inbox

CHROMIUM = "/usr/bin/chromium"
ROUNDS = 5
PRACTITIONERS = 6
PER_DAY = 10
#: The Monday after the scene's clock (Monday 2026-03-02), 08:00 in Paris (UTC+1).
WEEK = datetime.fromisoformat("2026-03-09T08:00:00+01:00")


def _practitioners(scene: Scene, clock: SettableClock) -> list[tuple[UUID, UUID]]:
    """Six GPs open 08:00-20:00 on weekdays, each with a 20-minute visit type."""
    made = []
    principal = scene.admin.principal(scene.db)
    for index in range(PRACTITIONERS):
        with scene.db.write() as session:
            gp = do_add_practitioner(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=scene.world.practice_id,
                first_name=f"Prénom{index}",
                last_name=f"Nom{index}",
                title="Dr",
                specialty=Specialty.GENERAL_PRACTICE,
                rules=AgendaRulesInput(slot_step_minutes=20, min_notice_minutes=0),
            )
            visit_type = do_add_visit_type(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=scene.world.practice_id,
                practitioner_id=gp.practitioner_id,
                label="Consultation",
                duration_minutes=20,
                patient_kind=PatientKind.ANY,
            )
            session.flush()
            for weekday in range(5):
                do_add_opening_range(
                    session,
                    now=clock.now(),
                    principal=principal,
                    practice_id=scene.world.practice_id,
                    practitioner_id=gp.practitioner_id,
                    weekday=weekday,
                    start_minute=8 * 60,
                    end_minute=20 * 60,
                    visit_type_ids=[visit_type.visit_type_id],
                )
            made.append((gp.practitioner_id, visit_type.visit_type_id))
    return made


def _book_week(scene: Scene, clock: SettableClock) -> int:
    """300 phone bookings, each reason sealed by the desk (the admin's Python client)."""
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    practice = scene.world.practice_id
    count = 0
    with scene.staff() as desk:
        patient_key = desk.key_directory.user_keys(holder_account(scene)).bindings[
            KeyPurpose.ENCRYPTION
        ]
        practice_key = desk.key_directory.practice_key(practice)
        for practitioner_id, visit_type_id in _practitioners(scene, clock):
            for day in range(5):
                for slot in range(PER_DAY):
                    starts_at = WEEK + timedelta(days=day, minutes=20 * slot)
                    desk._request(
                        "POST",
                        f"/api/v1/practices/{practice}/appointments",
                        json={
                            "practitioner_id": str(practitioner_id),
                            "patient_id": str(scene.patient_id),
                            "starts_at": starts_at.isoformat(),
                            "duration_minutes": 20,
                            **sealed_booking_fields(
                                author=desk.unlocked_keys,
                                visit_type_id=visit_type_id,
                                reason=f"Motif n° {count}, écrit au téléphone",
                                patient_key=patient_key,
                                practice_key=practice_key,
                            ),
                        },
                    )
                    count += 1
    return count


def _raw_floor(scene: Scene, clock: SettableClock, browser: Browser, rounds: int) -> list[float]:
    """The week's reasons opened by bare libsodium.js calls in the worker, ``rounds`` times."""
    practice = scene.world.practice_id
    with scene.staff() as desk:
        group = desk.practice_keys.open_group_key(practice)
        signing_public = desk.unlocked_keys.signing_binding().public_key
    with scene.db.read() as session:
        rows = session.execute(
            select(SealedItemRow.envelope, ItemKeyWrap.wrap)
            .join(
                ItemKeyWrap,
                (ItemKeyWrap.practice_id == SealedItemRow.practice_id)
                & (ItemKeyWrap.item_id == SealedItemRow.item_id),
            )
            .where(
                SealedItemRow.practice_id == practice,
                SealedItemRow.kind == "visit_reason",
                ItemKeyWrap.recipient_kind == "practice",
                ItemKeyWrap.recipient_id == practice,
            )
        ).all()
    params = {
        "groupPublic": hexed(group.public_key),
        "groupSecret": hexed(group.secret),
        "items": [
            {
                "wrap": hexed(wrap),
                "envelope": hexed(envelope),
                "signingPublic": hexed(signing_public),
            }
            for envelope, wrap in rows
        ],
        "rounds": rounds + 1,
    }
    with (
        contextmanager(serve)(scene.db, clock, TEST_DIST_DIR) as harness,
        contextmanager(ready_page)(browser, harness) as page,
    ):
        result = call(page, "rawOpenReasons", params)
    assert result["opened"] == len(rows), result
    return [float(ms) for ms in result["milliseconds"][1:]]  # the first is a warm-up


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    drawn: list[float] = []
    opened: list[float] = []
    worker_calls: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        database = Database(url)
        clock = SettableClock(T0)
        with open_scene(database, clock, Inbox()) as scene, sync_playwright() as pw:
            total = _book_week(scene, clock)
            secretary = make_member(scene, clock, "bench", Role.SECRETARY)
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            for round_index in range(rounds + 1):  # the first is a warm-up
                context = secretary.sign_in(scene, browser)
                page = context.new_page()
                page.set_default_timeout(120_000)
                # The week of the bookings: the week view, then the next week, by keyboard.
                page.goto(f"{scene.url}/practice/{scene.world.practice_id}/agenda")
                page.locator("body").focus()
                page.keyboard.press("w")
                page.keyboard.press("n")
                page.wait_for_function(
                    f"() => document.querySelectorAll('.agenda-table tbody tr').length === {total}"
                )
                at_drawn = page.evaluate("() => performance.now()")
                page.fill("#unlock-password", PASSWORD)
                page.get_by_role("button", name="Déverrouiller").click()
                page.get_by_label("Code à 6 chiffres ou code de secours").fill(
                    secretary.authenticator.code()
                )
                started = page.evaluate("() => performance.now()")
                page.get_by_role("button", name="Déverrouiller").click()
                page.wait_for_function(
                    f"() => document.querySelector('[role=status]')?.textContent"
                    f" === '{total} motifs déchiffrés.'"
                )
                done = page.evaluate("() => performance.now()")
                # The last call is the one that opened the reasons (the earlier ones only asked
                # for key-directory answers).
                worker_call = page.evaluate(
                    "() => performance.getEntriesByName('colloque:openAgendaReasons').at(-1).duration"
                )
                if round_index > 0:
                    drawn.append(at_drawn)
                    opened.append(done - started)
                    worker_calls.append(worker_call)
                context.close()
            raw = _raw_floor(scene, clock, browser, rounds)
            version = browser.version
            browser.close()
        database.dispose()
    print(f"machine: {platform.machine()}, {platform.platform()}, Chromium {version}")
    print(f"{rounds} rounds after a warm-up; {total} appointments, {PRACTITIONERS} practitioners")
    print(
        f"| navigation to the week drawn (sealed) | {statistics.median(drawn):.0f} ms"
        f" | {min(drawn):.0f} to {max(drawn):.0f} ms |"
    )
    print(
        f"| TOTP step to all reasons decrypted and drawn | {statistics.median(opened):.0f} ms"
        f" | {min(opened):.0f} to {max(opened):.0f} ms |"
    )
    worker_median, raw_median = statistics.median(worker_calls), statistics.median(raw)
    print(
        f"| the worker's openAgendaReasons call alone | {worker_median:.0f} ms"
        f" | {min(worker_calls):.0f} to {max(worker_calls):.0f} ms |"
    )
    print(
        f"| bare libsodium.js calls on the same {total} items, in the worker | {raw_median:.0f} ms"
        f" | {min(raw):.0f} to {max(raw):.0f} ms |"
    )
    print(f"decrypt share of the worker call: {raw_median / worker_median:.2f}")
    load = subprocess.run(["cat", "/proc/loadavg"], capture_output=True, text=True).stdout.strip()
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
