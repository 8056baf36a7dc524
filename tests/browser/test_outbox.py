"""The held messages page in a real browser on a live server: an admin sees the pause the desk's
cancellations tripped, sends its messages, discards another's after confirming; axe-core finds no
serious or critical violation in either language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from colloque.notifications.breaker import LIMITS_KEY, MassChangeLimits
from colloque.notifications.models import OutboxMessage
from tests.browser.conftest import AXE, Site, serious_violations
from tests.functional.notifications.test_breaker import book_many, cancel
from tests.web_login import staff_in_browser

pytestmark = pytest.mark.browser


def _trip(site: Site, appointments: int) -> None:
    """The desk cancels ``appointments`` with a limit of 1: all but the first wait."""
    site.db.session_info[LIMITS_KEY] = MassChangeLimits(limit=1, window=timedelta(minutes=10))
    for appointment_id in book_many(site.db, site.clock, site.world, appointments):
        cancel(site.db, site.clock, site.world, appointment_id, site.world.secretary)


def _open(context: BrowserContext, site: Site, lang: str) -> Page:
    staff_in_browser(context, site.url, site.db, site.clock, site.world.admin.account_id)
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{site.url}/practice/{site.world.practice_id}/outbox?lang={lang}")
    return page


def _statuses(site: Site) -> list[str]:
    with site.db.read() as session:
        return sorted(
            session.scalars(
                select(OutboxMessage.status).where(
                    OutboxMessage.template == "appointment_cancelled"
                )
            )
        )


def test_an_admin_sends_the_held_messages(context: BrowserContext, site: Site) -> None:
    _trip(site, 3)
    page = _open(context, site, "en")
    pause = page.locator(".pause")
    expect(pause).to_contain_text("2 cancellations and 0 moves waiting")
    expect(pause).to_contain_text("By one account of the practice")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text("2 messages sent on the next round.")
    expect(page.get_by_text("No message is waiting.")).to_be_visible()
    assert _statuses(site) == ["pending", "pending", "pending"]


def test_an_admin_discards_after_confirming(context: BrowserContext, site: Site) -> None:
    _trip(site, 2)
    page = _open(context, site, "fr")
    expect(page.locator(".pause")).to_contain_text("1 annulation et 0 déplacement en attente")
    page.get_by_role("button", name="Abandonner").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Abandonner 1 message ? Les patients ne seront pas prévenus."
    )
    assert serious_violations(page) == []
    page.get_by_role("button", name="Abandonner").click()
    expect(page.get_by_role("status")).to_have_text("1 message abandonné.")
    expect(page.get_by_text("Aucun message en attente.")).to_be_visible()
    assert _statuses(site) == ["failed", "pending"]
