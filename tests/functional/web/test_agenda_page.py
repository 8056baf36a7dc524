"""The practice agenda's page through the whole app: members only (with their second factor),
everybody else the 404 of a missing practice; the shell with its data for the component, the
practice section's navigation and the header's link, in both languages, never cached."""

from __future__ import annotations

import json
import re
from uuid import UUID, uuid4

import pytest

from colloque.accounts.services import do_add_member
from colloque.principal import Role
from colloque.web.i18n import Language
from tests.functional.accounts.conftest import totp_now
from tests.functional.web.conftest import Site
from tests.web_login import cookie_login, make_patient_account

EMAIL = "accueil@cabinet.example.test"


def _agenda(site: Site) -> str:
    return f"/practice/{site.world.practice_id}/agenda"


def _join(site: Site, email: str, role: Role) -> UUID:
    person = make_patient_account(site.db, site.clock, email)
    with site.db.write() as session:
        do_add_member(
            session, practice_id=site.world.practice_id, account_id=person.account_id, role=role
        )
    return person.account_id


def _second_factor(site: Site) -> None:
    """TOTP set up from the fresh cookie session, which then counts as having passed it."""
    login = cookie_login(site.client, EMAIL)
    headers = {"X-CSRF-Token": login.csrf_token}
    secret = site.client.post("/api/v1/me/mfa/totp", headers=headers).json()["secret"]
    confirmed = site.client.post(
        "/api/v1/me/mfa/totp/confirm",
        json={"code": totp_now(secret, site.clock)},
        headers=headers,
    )
    assert confirmed.status_code == 200, confirmed.text


def _island(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="agenda-data">(.*?)</script>', html)
    assert match is not None
    data: dict[str, object] = json.loads(match.group(1))
    return data


def _main(html: str) -> str:
    """What the page says (its header and language link name the path asked for)."""
    return html[html.index("<main") : html.index("</main>")]


def test_signed_out_goes_to_the_login_page(site: Site) -> None:
    answer = site.client.get(_agenda(site), follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={_agenda(site)}"


def test_only_a_member_with_their_second_factor_opens_it(site: Site) -> None:
    make_patient_account(site.db, site.clock, "patient@example.test")
    cookie_login(site.client, "patient@example.test")
    missing = site.client.get(f"/practice/{uuid4()}/agenda")
    assert missing.status_code == 404
    # Somebody else's practice, a malformed id: the same page as a practice that is not there.
    for path in (_agenda(site), "/practice/not-a-uuid/agenda"):
        answer = site.client.get(path)
        assert (answer.status_code, _main(answer.text)) == (404, _main(missing.text))
    # A member who has not passed a second factor knows the practice: a 403, as from the API.
    _join(site, EMAIL, Role.SECRETARY)
    cookie_login(site.client, EMAIL)
    assert site.client.get(_agenda(site)).status_code == 403
    assert "Agenda du cabinet" not in site.client.get("/me/appointments").text


@pytest.mark.parametrize("language", list(Language))
def test_the_shell_its_data_and_its_navigation(site: Site, language: Language) -> None:
    _join(site, EMAIL, Role.SECRETARY)
    _second_factor(site)
    answer = site.client.get(f"{_agenda(site)}?lang={language.value}")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    html = answer.text
    assert re.search(r"<h1>Agenda \u2013 Cabinet", html)
    practice = site.world.practice_id
    for path in ("agenda", "book", "settings", "time-off"):
        assert f'href="/practice/{practice}/{path}"' in html
    assert f'<a href="/practice/{practice}/agenda" aria-current="page">' in html
    header_link = "Practice agenda" if language is Language.EN else "Agenda du cabinet"
    assert header_link in html
    data = _island(html)
    assert data["lang"] == language.value
    assert data["timezone"] == "Europe/Paris"
    assert data["today"] == "2026-03-02"
    # A secretary: reasons (the practice's key), never notes (the practitioners' key).
    assert data["may"] == {
        "readReasons": True,
        "readNotes": False,
        "change": True,
        "mark": True,
        "book": True,
    }
    practitioners = data["practitioners"]
    assert isinstance(practitioners, list)
    assert [p["name"] for p in practitioners] == ["Dr Claire Martin"]
    # Every visit type of the agenda, the practice-only one too.
    assert str(site.world.urgent_id) in {v["id"] for v in practitioners[0]["visitTypes"]}
