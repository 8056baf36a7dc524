"""The practice set-up through the whole app: ``/practice/new`` for signed-in accounts, the
settings page in set-up mode leading to the members page, and a member without a second factor
led from a practice page to its set-up on the account page and back."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from colloque.accounts.services import do_add_member
from colloque.principal import Role
from colloque.web.i18n import Language
from tests.functional.accounts.conftest import totp_now
from tests.functional.web.conftest import Site
from tests.web_login import cookie_login, make_patient_account

EMAIL = "fondatrice@cabinet.example.test"


def _island(html: str, name: str) -> dict[str, object]:
    match = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', html)
    assert match is not None
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_signed_out_goes_to_the_login_page(site: Site) -> None:
    answer = site.client.get("/practice/new", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/practice/new"


@pytest.mark.parametrize("language", list(Language))
def test_a_signed_in_account_gets_the_form_with_the_zones(site: Site, language: Language) -> None:
    make_patient_account(site.db, site.clock, EMAIL)
    cookie_login(site.client, EMAIL)
    answer = site.client.get(f"/practice/new?lang={language.value}")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    title = "Create a practice" if language is Language.EN else "Créer un cabinet"
    assert f"<h1>{title}</h1>" in answer.text
    data = _island(answer.text, "new-practice-data")
    assert data["lang"] == language.value
    assert data["timezones"] == [
        "Europe/Paris",
        "America/Guadeloupe",
        "America/Martinique",
        "America/Cayenne",
        "Indian/Reunion",
        "Indian/Mayotte",
    ]


def test_a_new_member_is_led_to_the_second_factor_and_back(site: Site) -> None:
    person = make_patient_account(site.db, site.clock, EMAIL)
    with site.db.write() as session:
        do_add_member(
            session,
            practice_id=site.world.practice_id,
            account_id=person.account_id,
            role=Role.ADMIN,
        )
    login = cookie_login(site.client, EMAIL)
    settings = f"/practice/{site.world.practice_id}/settings?setup=true"

    # The practice page: a 403 (the member knows the practice) that links to the set-up.
    answer = site.client.get(settings)
    assert answer.status_code == 403
    assert answer.headers["cache-control"] == "no-store"
    link = re.search(r'<a href="(/account\?[^"]+)">', answer.text)
    assert link is not None
    set_up = link.group(1).replace("&amp;", "&")
    parts = urlsplit(set_up)
    assert parts.fragment == "totp-title"
    assert parse_qs(parts.query) == {"next": [settings]}

    # The account page puts the second factor first and knows where to go back.
    account = site.client.get(set_up)
    assert account.status_code == 200
    data = _island(account.text, "account-island-data")
    assert (data["secondFactorNeeded"], data["next"]) == (True, settings)

    headers = {"X-CSRF-Token": login.csrf_token}
    secret = site.client.post("/api/v1/me/mfa/totp", headers=headers).json()["secret"]
    confirmed = site.client.post(
        "/api/v1/me/mfa/totp/confirm",
        json={"code": totp_now(secret, site.clock)},
        headers=headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    assert (
        _island(site.client.get("/account").text, "account-island-data")["secondFactorNeeded"]
        is False
    )

    # Back on the settings page, in set-up mode: the way on to the members page.
    page = site.client.get(settings)
    assert page.status_code == 200
    assert (
        f'<p class="setup-next"><a href="/practice/{site.world.practice_id}/members">' in page.text
    )
    plain = site.client.get(f"/practice/{site.world.practice_id}/settings")
    assert 'class="setup-next"' not in plain.text


def test_the_account_page_refuses_a_next_that_leads_elsewhere(site: Site) -> None:
    make_patient_account(site.db, site.clock, EMAIL)
    cookie_login(site.client, EMAIL)
    assert site.client.get("/account", params={"next": "//evil.example"}).status_code == 400
    data = _island(site.client.get("/account").text, "account-island-data")
    assert (data["secondFactorNeeded"], data["next"]) == (False, None)
