"""The screenshots in docs/screenshots/: the main pages in French, desktop and mobile, over the
test world on a fixed clock (so that they change only when the pages do): the public pages, then
a signed-in patient's (booking, appointments, messages and documents, relatives, account, who
read their records), then a practice admin's settings, time off, outbox, audit log and members (desktop only: the desk works on a desktop screen) and
the agenda's week (desktop and tablet).

    uv run python -m tests.browser.screenshots     # after scripts/web-build; or scripts/web-screenshots
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import expect, sync_playwright

from colloque.booking.rules import Source
from colloque.clock import SettableClock
from colloque.config import MailBackend, Settings
from colloque.delivery.setup import outbox_delivery_from_settings
from colloque.search import availability
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from colloque.web.app import create_app
from colloque.worker import run_cycle
from tests.browser.conftest import CHROMIUM
from tests.conftest import T0
from tests.factories import book, build_world, register_at_practice
from tests.server import running_server
from tests.web_login import (
    make_patient_account,
    own_patient_id,
    sign_in_browser,
    staff_in_browser,
)

SIZES = {"desktop": (1280, 900), "mobile": (390, 844)}
TABLET = {"tablet": (820, 1180)}
PATIENT_EMAIL = "lea.martin@example.test"


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{Path(work) / 'shots.sqlite3'}"
        upgrade(url)
        db, clock = Database(url), SettableClock(T0)
        world = build_world(db, clock)
        run_cycle(db, clock, batch=100)
        settings = Settings(
            run_refresher=False, data_dir=Path(work), mail_backend=MailBackend.MAILDIR
        )
        app = create_app(settings, database=db, clock=clock)
        patient = make_patient_account(db, clock, PATIENT_EMAIL)
        with db.read() as session:
            free = availability.list_free_slots(
                session,
                now=clock.now(),
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                visit_type_id=world.consultation_id,
                duration_minutes=None,
                start=clock.now().date(),
                days=14,
            )
        own = own_patient_id(db, patient.account_id)
        book(db, clock, world, free[0].start, person=patient, patient_id=own)
        # A week of the agenda with something in it: a slot in five, booked by the desk.
        register_at_practice(db, clock, world, world.holder_patient_id)
        for taken in free[5:60:5]:
            book(db, clock, world, taken.start, person=world.secretary, source=Source.PRACTICE)
        # The confirmations delivered (into a maildir), so that the inbox lists them.
        outbox_delivery_from_settings(settings, database=db, clock=clock).run_until_idle()
        slot = quote(free[-1].start.isoformat(), safe="")
        signed_in_pages = {
            "booking": f"/book/{world.practice_id}/{world.practitioner_id}"
            f"?slot={slot}&visit_type={world.consultation_id}",
            "appointments": "/me/appointments",
            "notifications": "/me/notifications",
            "records": "/me/records",
            "relatives": "/me/relatives",
            "account": "/account",
            "access-history": "/me/access-history",
        }
        practice_pages = {
            "settings": f"/practice/{world.practice_id}/settings",
            "time-off": f"/practice/{world.practice_id}/time-off",
            "outbox": f"/practice/{world.practice_id}/outbox",
            "audit": f"/practice/{world.practice_id}/audit",
        }
        pages = {
            "home": "/",
            "search": "/search?specialty=general_practice&where=Paris",
            "practitioner": f"/practitioners/{world.practice_id}/{world.practitioner_id}",
        }
        with running_server(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            for size, (width, height) in SIZES.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height}, locale="fr-FR"
                )
                page = context.new_page()
                for name, path in pages.items():
                    page.goto(base + path)
                    if name == "practitioner":
                        expect(page.locator("#picker-visit-type")).to_be_visible()
                    page.screenshot(path=str(out / f"{name}-{size}.png"), full_page=True)
                context.close()
                context = browser.new_context(
                    viewport={"width": width, "height": height}, locale="fr-FR"
                )
                sign_in_browser(context, base, PATIENT_EMAIL)
                page = context.new_page()
                for name, path in signed_in_pages.items():
                    page.goto(base + path)
                    # The islands have mounted and fetched what they show.
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(out / f"{name}-{size}.png"), full_page=True)
                context.close()
            width, height = SIZES["desktop"]
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="fr-FR"
            )
            staff_in_browser(context, base, db, clock, world.admin.account_id)
            page = context.new_page()
            for name, path in practice_pages.items():
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(out / f"{name}-desktop.png"), full_page=True)
            # The members page with a practitioner's invitation being written: both of its kinds.
            page.goto(f"{base}/practice/{world.practice_id}/members")
            page.wait_for_load_state("networkidle")
            page.select_option("#invite-role", "practitioner")
            page.check("input[name=invite-kind][value=elsewhere]")
            page.screenshot(path=str(out / "members-desktop.png"), full_page=True)
            context.close()
            # The agenda's week, on a desktop and on a tablet (a practitioner between rooms).
            for size, (width, height) in {"desktop": SIZES["desktop"], **TABLET}.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height}, locale="fr-FR"
                )
                staff_in_browser(context, base, db, clock, world.admin.account_id)
                page = context.new_page()
                page.goto(f"{base}/practice/{world.practice_id}/agenda")
                page.get_by_role("radio", name="Semaine").check()
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(out / f"agenda-{size}.png"), full_page=True)
                context.close()
            browser.close()
        db.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
