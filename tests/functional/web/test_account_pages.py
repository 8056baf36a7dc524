"""The account pages (log in, sign up, account) and the header's log-out form, through the whole
app: both languages, no-store, the signed-in header from the session cookie, the `next` check.
The flows themselves run in a real browser (tests/browser/test_account_flows.py)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest

from colloque.accounts.config import TEST_COST
from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE, SessionKind, open_session
from colloque.config import Settings
from colloque.keydirectory.config import LogKey
from colloque.web.account_pages import safe_next
from colloque.web.i18n import Language
from colloque.web.security import CONTENT_SECURITY_POLICY
from tests.functional.web.conftest import Site


def _sign_in(site: Site) -> str:
    """A cookie session for the world's patient holder, as a login would open it."""
    with site.db.write() as session:
        new = open_session(
            session,
            now=site.clock.now(),
            account_id=site.world.holder.account_id,
            kind=SessionKind.COOKIE,
            mfa_verified=False,
        )
    assert new.csrf_token is not None
    site.client.cookies.set(SESSION_COOKIE, new.token)
    site.client.cookies.set(CSRF_COOKIE, new.csrf_token)
    return new.csrf_token


def _island(html: str) -> dict[str, object]:
    found = re.search(
        r'<script type="application/json" id="account-island-data">(.*?)</script>', html
    )
    assert found, "no island data"
    data: dict[str, object] = json.loads(found[1])
    return data


@pytest.mark.parametrize("language", list(Language))
def test_the_account_pages_render_in_both_languages_and_are_never_stored(
    site: Site, language: Language
) -> None:
    pages = ["/login", "/signup", "/login?next=/search%3Fwhere%3DParis"]
    for url in pages:
        joiner = "&" if "?" in url else "?"
        response = site.client.get(f"{url}{joiner}lang={language.value}")
        assert response.status_code == 200, url
        assert f'<html lang="{language.value}">' in response.text
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["cache-control"] == "no-store"
        for tag in re.findall(r"<script[^>]*>", response.text):
            assert 'type="application/json"' in tag or ("src=" in tag and "integrity=" in tag)
        assert _island(response.text)["lang"] == language.value
    assert _island(site.client.get("/login?next=/search%3Fwhere%3DParis").text)["next"] == (
        "/search?where=Paris"
    )
    _sign_in(site)
    account = site.client.get(f"/account?lang={language.value}")
    assert account.status_code == 200
    assert account.headers["cache-control"] == "no-store"
    data = _island(account.text)
    assert data["accountId"] == str(site.world.holder.account_id)
    assert data["totpEnabled"] is False
    assert data["recovery"] is None  # made by the CLI: no password, no recovery code


def test_the_account_page_carries_the_recovery_code_status(site: Site) -> None:
    made = site.clock.now()
    with site.db.write() as session:
        account, _ = do_create_demo_login(
            session,
            now=made,
            email="rosa@example.test",
            display_name="Rosa Code",
            password="vR7#kq2!Lm9@zP-long enough",
            kdf_cost=TEST_COST,
            insecure_allow_weak_cost=True,
            log=LogKey.from_settings(Settings(run_refresher=False)),
        )
        new = open_session(
            session,
            now=made,
            account_id=account.account_id,
            kind=SessionKind.COOKIE,
            mfa_verified=False,
        )
    site.client.cookies.set(SESSION_COOKIE, new.token)
    site.clock.advance(timedelta(minutes=3))
    data = _island(site.client.get("/account").text)
    assert data["recovery"] == {"createdAt": made.isoformat(), "usedAt": None}


def test_the_account_page_sends_a_visitor_to_log_in_and_back(site: Site) -> None:
    response = site.client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "x"],
)
def test_next_must_be_a_path_on_this_site(site: Site, target: str) -> None:
    assert safe_next(target) is None
    for page in ("/login", "/signup"):
        response = site.client.get(page, params={"next": target, "lang": "en"})
        assert response.status_code == 400
        assert "This return link is not valid" in response.text
        assert response.headers["cache-control"] == "no-store"


def test_the_header_shows_who_is_signed_in_and_logs_out_with_the_csrf_token(site: Site) -> None:
    # Logging out without a session just clears whatever cookies are left.
    nobody = site.client.post("/logout", follow_redirects=False)
    assert (nobody.status_code, nobody.headers["location"]) == (303, "/")
    public = site.client.get("/?lang=en").text
    assert 'href="/login"' in public
    assert 'action="/logout"' not in public
    csrf = _sign_in(site)
    signed_in_home = site.client.get("/")
    assert signed_in_home.headers["cache-control"] == "no-store"
    home = signed_in_home.text
    assert 'action="/logout"' in home
    assert f'name="csrf_token" value="{csrf}"' in unescape(home)
    # Signed in, the log-in page leads on rather than asking again.
    again = site.client.get("/login?next=/search", follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, "/search")
    # Without the token (another site's form), nothing ends.
    refused = site.client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert site.client.get("/account", follow_redirects=False).status_code == 200
    done = site.client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/")
    assert "colloque_session=" in done.headers["set-cookie"]
    # The cookie the browser would have dropped is dead on the server too.
    assert site.client.get("/account", follow_redirects=False).status_code == 303


def test_every_chunk_a_page_script_imports_has_its_own_checked_script_tag(site: Site) -> None:
    # A module's imports carry no integrity attribute: the page loads each shared chunk itself,
    # with its hash, before the entry that imports it.
    _sign_in(site)
    for url in ("/login", "/signup", "/account", site.practitioner_url):
        html = site.client.get(url).text
        tagged = re.findall(r'<script type="module" src="/(assets/[^"]+)" integrity="sha256-', html)
        assert tagged, url
        for path in tagged:
            imported = re.findall(
                r"""["']\./([A-Za-z0-9_.-]+\.js)["']""", site.client.get(f"/{path}").text
            )
            for name in imported:
                assert f"assets/{name}" in tagged, (url, path, name)
                assert tagged.index(f"assets/{name}") < tagged.index(path), (url, name)
