"""The members page through the whole app: who gets it, with which controls and names, the
section's link to it, and that a practice that is not yours answers exactly like a missing one."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from colloque.accounts.grants import do_grant_operator_access
from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE
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


def _island(text: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="members-data">(.*?)</script>', text)
    assert found is not None, text[:500]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.mark.parametrize("language", list(Language))
def test_an_admin_gets_the_controls_and_the_members_names(site: Site, language: Language) -> None:
    client = _as(site, site.world.admin)
    practice = site.world.practice_id
    page = client.get(f"/practice/{practice}/members?lang={language.value}")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert f'<a href="/practice/{practice}/members" aria-current="page">' in page.text
    data = _island(page.text)
    assert data["manage"] is True
    assert data["me"] == str(site.world.admin.account_id)
    assert set(data["names"]) >= {
        str(site.world.admin.account_id),
        str(site.world.secretary.account_id),
    }
    assert [p["id"] for p in data["practitioners"]] == [str(site.world.practitioner_id)]


def test_a_secretary_reads_without_controls(site: Site) -> None:
    client = _as(site, site.world.secretary)
    page = client.get(f"/practice/{site.world.practice_id}/members")
    assert page.status_code == 200
    assert _island(page.text)["manage"] is False
    agenda = client.get(f"/practice/{site.world.practice_id}/agenda")
    assert f'href="/practice/{site.world.practice_id}/members"' in agenda.text


def test_not_a_member_answers_exactly_like_a_missing_practice(site: Site) -> None:
    client = _as(site, site.world.holder)
    answers = set()
    for practice in (site.world.practice_id, uuid4(), "not-an-id"):
        path = f"/practice/{practice}/members"
        response = client.get(path + "?lang=en")
        answers.add((response.status_code, response.text.replace(path, "PATH")))
    assert len(answers) == 1
    assert next(iter(answers))[0] == 404


def test_an_operator_with_a_grant_neither_sees_nor_gets_the_page(site: Site) -> None:
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
    practice = site.world.practice_id
    assert "/members" not in client.get(f"/practice/{practice}/agenda").text
    assert client.get(f"/practice/{practice}/members").status_code == 403
