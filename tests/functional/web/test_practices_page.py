"""The list of a member's practices (/practice) and the header's way to it: straight to the
agenda with one practice, to the list with several; never an operator's grants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from colloque.accounts.grants import do_grant_operator_access
from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE
from colloque.scheduling.services import do_create_practice
from colloque.web.i18n import Language
from tests.factories import Person
from tests.functional.authorization.conftest import make_operator
from tests.functional.web.conftest import Site
from tests.web_login import staff_login


def _as(site: Site, person: Person) -> TestClient:
    login = staff_login(site.db, site.clock, person.account_id)
    site.client.cookies.set(SESSION_COOKIE, login.session_cookie)
    site.client.cookies.set(CSRF_COOKIE, login.csrf_token)
    return site.client


def _second_practice(site: Site) -> str:
    with site.db.write() as session:
        practice = do_create_practice(
            session,
            now=site.clock.now(),
            principal=site.world.admin.principal(site.db),
            name="Annexe de Lyon",
            address="3 place Bellecour",
            postcode="69002",
            city="Lyon",
            latitude=45.7578,
            longitude=4.832,
            timezone="Europe/Paris",
        )
        return str(practice.practice_id)


def test_one_practice_the_header_goes_straight_to_its_agenda(site: Site) -> None:
    client = _as(site, site.world.secretary)
    page = client.get("/me/appointments?lang=en")
    assert f'href="/practice/{site.world.practice_id}/agenda"' in page.text
    assert 'href="/practice"' not in page.text


@pytest.mark.parametrize("language", list(Language))
def test_several_practices_the_header_lists_them_with_each_ones_pages(
    site: Site, language: Language
) -> None:
    other = _second_practice(site)
    client = _as(site, site.world.admin)
    home = client.get(f"/me/appointments?lang={language.value}")
    assert 'href="/practice"' in home.text
    assert f'href="/practice/{site.world.practice_id}/agenda"' not in home.text
    page = client.get(f"/practice?lang={language.value}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    # By name: the annex first, each with its address, the member's role and its own pages.
    assert text.index("Annexe de Lyon") < text.index("Cabinet du Test")
    assert "3 place Bellecour, 69002 Lyon" in text
    role = {"fr": "Administrateur", "en": "Admin"}[language.value]
    assert text.count(role) >= 2
    for practice in (other, str(site.world.practice_id)):
        assert f'href="/practice/{practice}/agenda"' in text
        assert f'href="/practice/{practice}/members"' in text
    assert 'href="/practice/new"' in text


def test_no_practice_says_so_and_offers_to_create_one(site: Site) -> None:
    client = _as(site, site.world.holder)
    page = client.get("/practice?lang=en")
    assert page.status_code == 200
    assert "You are not a member of any practice." in page.text
    assert 'href="/practice/new"' in page.text


def test_an_operators_grants_are_not_its_practices(site: Site) -> None:
    operator = make_operator(site.db, site.clock)
    with site.db.write() as session:
        do_grant_operator_access(
            session,
            now=site.clock.now(),
            principal=site.world.admin.principal(site.db),
            practice_id=site.world.practice_id,
            operator_account_id=operator.account_id,
            duration=timedelta(hours=1),
        )
    client = _as(site, operator)
    page = client.get("/practice?lang=en")
    assert "Cabinet du Test" not in page.text
    assert "You are not a member of any practice." in page.text


def test_signed_out_goes_to_the_log_in_page(site: Site) -> None:
    response = site.client.get("/practice", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")
