"""The held messages page through the whole app: the practice's admins get it (and the section's
link to it), the other members are refused, and a practice that is not yours answers exactly like
a missing one."""

from __future__ import annotations

import json
import re
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE
from colloque.web.i18n import Language
from tests.factories import Person
from tests.functional.web.conftest import Site
from tests.web_login import staff_login


def _as(site: Site, person: Person) -> TestClient:
    login = staff_login(site.db, site.clock, person.account_id)
    site.client.cookies.set(SESSION_COOKIE, login.session_cookie)
    site.client.cookies.set(CSRF_COOKIE, login.csrf_token)
    return site.client


@pytest.mark.parametrize(
    ("language", "title"),
    [(Language.FR, "Messages en attente"), (Language.EN, "Held messages")],
)
def test_an_admin_gets_the_page_and_its_link(site: Site, language: Language, title: str) -> None:
    client = _as(site, site.world.admin)
    practice = site.world.practice_id
    page = client.get(f"/practice/{practice}/outbox?lang={language.value}")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert f"<h1>{title} \N{EN DASH} Cabinet du Test</h1>" in page.text
    assert f'<a href="/practice/{practice}/outbox" aria-current="page">' in page.text
    found = re.search(r'<script type="application/json" id="outbox-data">(.*?)</script>', page.text)
    assert found is not None
    assert json.loads(found.group(1)) == {"lang": language.value, "practiceId": str(practice)}


def test_other_members_are_refused_and_not_linked(site: Site) -> None:
    for person in (site.world.secretary, site.world.doctor):
        client = _as(site, person)
        path = f"/practice/{site.world.practice_id}/outbox"
        assert client.get(path).status_code == 403
        agenda = client.get(f"/practice/{site.world.practice_id}/agenda")
        assert f'href="{path}"' not in agenda.text


def test_not_a_member_answers_exactly_like_a_missing_practice(site: Site) -> None:
    client = _as(site, site.world.holder)
    answers = set()
    for practice in (site.world.practice_id, uuid4(), "not-an-id"):
        path = f"/practice/{practice}/outbox"
        response = client.get(path + "?lang=en")
        answers.add((response.status_code, response.text.replace(path, "PATH")))
    assert len(answers) == 1
    assert next(iter(answers))[0] == 404
