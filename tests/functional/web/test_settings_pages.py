"""The settings and time off pages through the whole app: who gets the page, with which
controls, and that a practice that is not yours answers exactly like a missing one."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from colloque.accounts.grants import do_grant_operator_access
from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE
from colloque.scheduling.services import do_add_practitioner
from colloque.scheduling.specialties import Specialty
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


def _island(text: str, element: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{element}-data">(.*?)</script>', text)
    assert found is not None, text[:500]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _colleague(site: Site) -> UUID:
    with site.db.write() as session:
        return do_add_practitioner(
            session,
            now=site.clock.now(),
            principal=site.world.admin.principal(site.db),
            practice_id=site.world.practice_id,
            first_name="Ada",
            last_name="Autre",
            specialty=Specialty.GENERAL_PRACTICE,
        ).practitioner_id


@pytest.mark.parametrize("language", list(Language))
def test_an_admin_manages_everything(site: Site, language: Language) -> None:
    client = _as(site, site.world.admin)
    practice = site.world.practice_id
    page = client.get(f"/practice/{practice}/settings?lang={language.value}")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    data = _island(page.text, "settings")
    assert (data["lang"], data["practiceId"], data["timezone"]) == (
        language.value,
        str(practice),
        "Europe/Paris",
    )
    assert (data["canManage"], data["canManageSettings"]) == (True, True)
    assert [p["name"] for p in data["practitioners"]] == ["Dr Claire Martin"]
    assert f'href="/practice/{practice}/time-off"' in page.text
    time_off = client.get(f"/practice/{practice}/time-off?lang={language.value}")
    assert time_off.status_code == 200
    assert [p["id"] for p in _island(time_off.text, "time-off")["practitioners"]] == [
        str(site.world.practitioner_id)
    ]


def test_a_secretary_manages_the_agenda_not_the_practice(site: Site) -> None:
    client = _as(site, site.world.secretary)
    data = _island(client.get(f"/practice/{site.world.practice_id}/settings").text, "settings")
    assert (data["canManage"], data["canManageSettings"]) == (True, False)


def test_a_practitioner_reads_the_settings_and_sets_their_own_time_off(site: Site) -> None:
    colleague = _colleague(site)
    client = _as(site, site.world.doctor)
    practice = site.world.practice_id
    data = _island(client.get(f"/practice/{practice}/settings").text, "settings")
    assert (data["canManage"], data["canManageSettings"]) == (False, False)
    assert {p["id"] for p in data["practitioners"]} == {
        str(site.world.practitioner_id),
        str(colleague),
    }
    time_off = _island(client.get(f"/practice/{practice}/time-off").text, "time-off")
    # Their own agenda only, never the colleague's.
    assert [p["id"] for p in time_off["practitioners"]] == [str(site.world.practitioner_id)]


def test_not_a_member_answers_exactly_like_a_missing_practice(site: Site) -> None:
    client = _as(site, site.world.holder)
    answers = set()
    for practice in (site.world.practice_id, uuid4(), "not-an-id"):
        for page in ("settings", "time-off"):
            path = f"/practice/{practice}/{page}"
            response = client.get(path + "?lang=en")
            text = response.text.replace(path, "PATH")
            answers.add((response.status_code, response.headers["cache-control"], text))
    assert len(answers) == 1
    assert next(iter(answers))[0] == 404


def test_a_member_without_two_factor_is_refused(site: Site) -> None:
    login = staff_login(site.db, site.clock, site.world.secretary.account_id, mfa_verified=False)
    site.client.cookies.set(SESSION_COOKIE, login.session_cookie)
    site.client.cookies.set(CSRF_COOKIE, login.csrf_token)
    for page in ("settings", "time-off"):
        response = site.client.get(f"/practice/{site.world.practice_id}/{page}?lang=en")
        assert response.status_code == 403
        assert "-data" not in response.text


def test_an_operator_with_a_grant_reads_the_settings_and_has_no_time_off(site: Site) -> None:
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
    data = _island(client.get(f"/practice/{practice}/settings").text, "settings")
    assert (data["canManage"], data["canManageSettings"]) == (False, False)
    assert client.get(f"/practice/{practice}/time-off").status_code == 403


@pytest.mark.parametrize("page", ["settings", "time-off"])
def test_signed_out_goes_to_the_login_page(site: Site, page: str) -> None:
    path = f"/practice/{site.world.practice_id}/{page}"
    response = site.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
