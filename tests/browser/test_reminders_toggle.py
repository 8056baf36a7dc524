"""The account's reminders toggle in a real browser: it shows the setting a reminder's unsubscribe
link left, turns reminders back on (checked in the database), and axe-core finds no serious
violation in the section."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, expect

from colloque.accounts.models import Account
from tests.browser.conftest import AXE, Site, serious_violations
from tests.web_login import staff_in_browser

pytestmark = pytest.mark.browser


def _reminders(site: Site) -> bool:
    with site.db.read() as session:
        account = session.get(Account, site.world.holder.account_id)
        assert account is not None
        return account.reminders


def test_the_account_turns_reminders_back_on(context: BrowserContext, site: Site) -> None:
    with site.db.write() as session:
        account = session.get(Account, site.world.holder.account_id)
        assert account is not None
        account.reminders = False  # as a reminder's one-click link leaves it
    staff_in_browser(context, site.url, site.db, site.clock, site.world.holder.account_id)
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{site.url}/account?lang=en")
    section = page.get_by_role("region", name="Appointment reminders")
    toggle = section.get_by_label("Receive reminders")
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(section.get_by_role("status")).to_have_text("Reminders are on.")
    assert _reminders(site)
    found = serious_violations(page, "section[aria-labelledby=reminders-title]")
    assert not found, found
