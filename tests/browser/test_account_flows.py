"""The account flows in a real browser, checked against colloque.client: an account made in the
browser opens with the Python client (same password, same keys, the recovery code shown in the
browser opens them too); log out and in again; a password changed in the browser works from
Python. Then sign-up with the keyboard only, and axe-core on each account page.

The server keeps its real Argon2id cost: the browser refuses weaker parameters, as it should.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from colloque.accounts.models import Account, KeyBundleRow
from colloque.client import ApiError, ColloqueClient
from colloque.clock import SettableClock
from colloque.config import MailBackend, Settings
from colloque.crypto.keys import unlock_with_recovery_code
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.worker import run_cycle
from tests.browser.conftest import AXE, Site, serious_violations
from tests.browser.signup import asked_groups, sign_up
from tests.factories import build_world
from tests.server import running_server
from tests.smtp import Inbox
from tests.web_login import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "another Str0ng passphrase, newer!"


@pytest.fixture
def site(sqlite_db: Database, clock: SettableClock, inbox: Inbox) -> Iterator[Site]:
    world = build_world(sqlite_db, clock)
    run_cycle(sqlite_db, clock, batch=100)
    settings = Settings(
        run_refresher=False,
        mail_backend=MailBackend.SMTP,
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
    )
    with running_server(create_app(settings, database=sqlite_db, clock=clock)) as url:
        yield Site(url, world, sqlite_db, clock)


def _sign_up(page: Page, site: Site, inbox: Inbox, email: str, *, keyboard: bool = False) -> str:
    """Signs up in the browser from the sign-up page; returns the recovery code it showed."""
    page.goto(f"{site.url}/signup?next=/account")
    code = sign_up(page, inbox, email, keyboard=keyboard)
    expect(page).to_have_url(f"{site.url}/account")
    return code


def test_sign_up_in_the_browser_then_python_logs_in_and_the_password_changes_both_ways(
    context: BrowserContext, page: Page, site: Site, inbox: Inbox
) -> None:
    page.set_default_timeout(30_000)
    email = "ana.martin@example.test"
    recovery_code = _sign_up(page, site, inbox, email)
    expect(page.locator("header.site form.signed-in a")).to_have_text("Ana Martin")

    # Python opens the same keys with the same password, and the code shown opens them too.
    with ColloqueClient(site.url) as python, site.db.read() as session:
        python.log_in(email, PASSWORD)
        account = session.query(Account).filter_by(email=email).one()
        row = session.get(KeyBundleRow, account.account_id)
        assert row is not None
        sealed_by_recovery = row.sealed_by_recovery
        assert python.unlocked_keys.encryption_public == row.encryption_public
        assert python.unlocked_keys.signing_public == row.signing_public
    recovered = unlock_with_recovery_code(
        sealed_by_recovery, user_id=account.account_id, recovery_code=recovery_code
    )
    assert recovered.encryption_public == row.encryption_public

    # Log out from the header, then in again, landing where the login was asked from.
    page.get_by_role("button", name="Se déconnecter").first.click()
    expect(page).to_have_url(f"{site.url}/")
    expect(page.locator("header.site a[href='/login']")).to_be_visible()
    page.goto(f"{site.url}/account")
    expect(page).to_have_url(f"{site.url}/login?next=/account")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("form.account-form button[type=submit]")
    expect(page).to_have_url(f"{site.url}/account")
    stored = page.evaluate("() => localStorage.length + sessionStorage.length")
    assert stored == 0, "the account pages keep nothing in web storage"

    # A new password, set in the browser, works from Python; the old one no longer does.
    page.fill("#old-password", PASSWORD)
    page.fill("#new-password", NEW_PASSWORD)
    page.get_by_role("button", name="Changer le mot de passe").click()
    expect(page.get_by_role("status")).to_contain_text("Mot de passe changé")
    with ColloqueClient(site.url) as python:
        python.log_in(email, NEW_PASSWORD)
    with ColloqueClient(site.url) as python, pytest.raises(ApiError):
        python.log_in(email, PASSWORD)
    # The browser's session survived its own password change (new cookies): still signed in.
    page.reload()
    expect(page.locator("header.site form.signed-in")).to_be_visible()


def test_sign_up_with_the_keyboard_only_and_no_serious_accessibility_violation(
    context: BrowserContext, site: Site, inbox: Inbox
) -> None:
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(30_000)
    for path in ("/login?lang=en", "/signup?lang=en", "/login?lang=fr", "/signup?lang=fr"):
        page.goto(site.url + path)
        page.locator("#account-island form").first.wait_for()
        found = serious_violations(page)
        assert not found, (path, [(v["id"], v["help"], len(v["nodes"])) for v in found])
    _sign_up(page, site, inbox, "kb.user@example.test", keyboard=True)
    expect(page.locator("#old-password")).to_be_visible()
    found = serious_violations(page)
    assert not found, ("/account", [(v["id"], v["help"], len(v["nodes"])) for v in found])


def test_totp_on_then_asked_at_login_then_off(
    context: BrowserContext, page: Page, site: Site, inbox: Inbox
) -> None:
    page.set_default_timeout(30_000)
    email = "tess.otp@example.test"
    _sign_up(page, site, inbox, email)

    def code() -> str:
        # The server's clock, not the machine's; a code is never accepted twice, so each use
        # moves to the next 30-second step.
        site.clock.advance(timedelta(seconds=30))
        return pyotp.TOTP(secret).at(site.clock.now())

    page.fill("#totp-password", PASSWORD)
    page.get_by_role("button", name="Activer").click()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    expect(page.locator("a[href^='otpauth://totp/']")).to_be_visible()
    page.fill("#totp-code", code())
    page.get_by_role("button", name="Confirmer").click()
    expect(page.get_by_role("status")).to_contain_text("activée")
    expect(page.locator("ul.backup-codes li")).to_have_count(10)

    page.get_by_role("button", name="Se déconnecter").first.click()
    page.goto(f"{site.url}/login")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("form.account-form button[type=submit]")
    expect(page.locator("#login-totp")).to_be_focused()
    # A wrong code is refused with a message; the next one goes in without the password again.
    now = site.clock.now()
    accepted = {pyotp.TOTP(secret).at(now + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
    page.fill("#login-totp", next(c for c in ("000000", "111111", "222222") if c not in accepted))
    page.click("form.account-form button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Ce code n'est pas valide.")
    expect(page.locator("#login-password")).to_have_count(0)
    page.fill("#login-totp", code())
    page.click("form.account-form button[type=submit]")
    expect(page).to_have_url(f"{site.url}/account")

    page.fill("#totp-password", PASSWORD)
    page.fill("#totp-current", code())
    page.get_by_role("button", name="Désactiver").click()
    expect(page.get_by_role("status")).to_contain_text("désactivée")


def test_a_recovery_code_renewed_in_the_browser_recovers_in_python_and_the_old_one_fails(
    context: BrowserContext, site: Site, inbox: Inbox
) -> None:
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(30_000)
    email = "rita.renew@example.test"
    old_code = _sign_up(page, site, inbox, email)
    status = page.get_by_test_id("recovery-status")
    expect(status).to_contain_text("jamais servi")

    page.fill("#recovery-password", PASSWORD)
    page.get_by_role("button", name="Créer un nouveau code").click()
    shown = page.get_by_test_id("new-recovery-code")
    # Three Argon2id runs at the real cost: the password, the new code's seal, its proof.
    expect(shown).to_be_visible(timeout=90_000)
    expect(page.get_by_role("heading", name="Votre nouveau code de récupération")).to_be_focused()
    found = serious_violations(page)
    assert not found, ("renewal", [(v["id"], v["help"], len(v["nodes"])) for v in found])
    new_code = shown.inner_text().strip()
    groups = new_code.split("-")
    assert len(groups) == 8
    assert new_code != old_code
    asked = asked_groups(page, "renewal-group")
    # A wrong group is caught in the page: nothing is sent, the old code still stands.
    page.fill("#renewal-group-0", groups[asked[0]])
    page.fill("#renewal-group-1", "ZZZZ" if groups[asked[1]] != "ZZZZ" else "YYYY")
    page.get_by_role("button", name="Remplacer l'ancien code").click()
    expect(page.get_by_role("alert")).to_contain_text("ne correspondent pas")
    with site.db.read() as session:
        account = session.query(Account).filter_by(email=email).one()
        row = session.get(KeyBundleRow, account.account_id)
        assert row is not None
        assert (
            unlock_with_recovery_code(
                row.sealed_by_recovery, user_id=account.account_id, recovery_code=old_code
            ).encryption_public
            == row.encryption_public
        )
    page.fill("#renewal-group-1", groups[asked[1]].lower())
    page.get_by_role("button", name="Remplacer l'ancien code").click()
    expect(page.get_by_role("status")).to_contain_text("L'ancien ne fonctionne plus")
    expect(shown).to_have_count(0)
    expect(page.get_by_role("button", name="Créer un nouveau code")).to_be_focused()
    expect(status).to_contain_text("jamais servi")

    # Python: the old code is refused, the new one opens the same keys.
    with ColloqueClient(site.url) as python, pytest.raises(ApiError) as refused:
        python.recover(email, old_code, NEW_PASSWORD)
    assert refused.value.status == 401
    with ColloqueClient(site.url) as python:
        python.recover(email, new_code, NEW_PASSWORD)
        assert python.unlocked_keys.encryption_public == row.encryption_public
        assert python.unlocked_keys.signing_public == row.signing_public


def test_sessions_and_devices_end_the_python_client_then_log_out_another_browser(
    browser: Browser, context: BrowserContext, page: Page, site: Site, inbox: Inbox
) -> None:
    page.set_default_timeout(30_000)
    email = "olga.others@example.test"
    _sign_up(page, site, inbox, email)
    other = browser.new_context(locale="en-GB")
    try:
        elsewhere = other.new_page()
        elsewhere.set_default_timeout(30_000)
        elsewhere.goto(f"{site.url}/login?next=/account")
        elsewhere.fill("#login-email", email)
        elsewhere.fill("#login-password", PASSWORD)
        elsewhere.click("form.account-form button[type=submit]")
        expect(elsewhere).to_have_url(f"{site.url}/account")
        with ColloqueClient(site.url) as python:
            python.log_in(email, PASSWORD)
            # The sessions and devices: this browser first, the other one, the Python client.
            page.reload()
            sessions = page.get_by_role("list", name="Sessions et appareils").get_by_role(
                "listitem"
            )
            expect(sessions).to_have_count(3)
            expect(sessions.first).to_contain_text("Cet appareil")
            expect(sessions.first).to_contain_text("(navigateur, réseau 127.0.0.0/24)")
            found = serious_violations(page, within="section[aria-labelledby=sessions-title]")
            assert not found, [(v["id"], v["help"]) for v in found]
            # One of them ended from its own button: the Python client's token.
            page.get_by_role(
                "button", name=re.compile(r"^Fermer la session .*jeton d'accès")
            ).click()
            expect(page.get_by_role("status")).to_have_text("La session a été fermée.")
            expect(sessions).to_have_count(2)
            with pytest.raises(ApiError) as ended:
                python.me()
            assert ended.value.status == 401

            # With the keyboard: the question, then the confirmation, which has the focus.
            page.get_by_role("button", name="Déconnecter tous les autres appareils").focus()
            page.keyboard.press("Enter")
            expect(page.get_by_role("button", name="Confirmer")).to_be_focused()
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_contain_text("1 autre session a été fermée")
            expect(
                page.get_by_role("button", name="Déconnecter tous les autres appareils")
            ).to_be_focused()
            expect(sessions).to_have_count(1)
        elsewhere.reload()
        expect(elsewhere).to_have_url(f"{site.url}/login?next=/account")
    finally:
        other.close()
    page.reload()
    expect(page).to_have_url(f"{site.url}/account")
    expect(page.locator("header.site form.signed-in")).to_be_visible()
