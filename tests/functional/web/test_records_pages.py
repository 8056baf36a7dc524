"""Messages and documents pages through the whole app: a real cookie login, both languages,
strict headers and no-store, the way to the login page, the practices a holder may write to,
and the same 404 for someone else's patient, an unknown practice and a malformed id."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from uuid import UUID, uuid4

import pytest

from colloque.crypto.documents import MAX_DOCUMENT_BYTES
from colloque.patients.services import Relationship, do_add_patient
from colloque.web.i18n import Language
from colloque.web.security import CONTENT_SECURITY_POLICY
from tests.factories import Person, register_at_practice
from tests.functional.web.conftest import Site
from tests.web_login import cookie_login, make_patient_account, own_patient_id

EMAIL = "paul.durand@example.test"


@pytest.fixture
def holder(site: Site) -> tuple[Person, UUID, UUID]:
    """A signed-in holder known to the practice, with a child the practice does not know."""
    person = make_patient_account(site.db, site.clock, EMAIL)
    cookie_login(site.client, EMAIL)
    own = own_patient_id(site.db, person.account_id)
    register_at_practice(site.db, site.clock, site.world, own)
    with site.db.write() as session:
        child = do_add_patient(
            session,
            now=site.clock.now(),
            principal=person.principal(site.db),
            first_name="Zoé",
            last_name="Durand",
            birth_date=date(2019, 4, 2),
            relationship=Relationship.CHILD,
        ).patient_id
    return person, own, child


def _private(headers: Mapping[str, str]) -> None:
    assert headers["cache-control"] == "no-store"
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("language", list(Language))
def test_the_pages_in_both_languages_with_strict_headers(
    site: Site, holder: tuple[Person, UUID, UUID], language: Language
) -> None:
    _person, own, child = holder
    practice = site.world.practice_id
    index = site.client.get(f"/me/records?lang={language.value}")
    assert index.status_code == 200
    _private(index.headers)
    assert f'<html lang="{language.value}">' in index.text
    assert "Cabinet du Test" in index.text
    assert f'href="/me/records/{practice}/{own}"' in index.text
    # The child is not known to any practice: nowhere to write to yet.
    assert str(child) not in index.text
    page = site.client.get(f"/me/records/{practice}/{own}?lang={language.value}")
    assert page.status_code == 200
    _private(page.headers)
    for tag in re.findall(r"<script[^>]*>", page.text):
        assert 'type="application/json"' in tag or ("src=" in tag and "integrity=" in tag)
    found = re.search(r'<script type="application/json" id="record-data">(.*?)</script>', page.text)
    assert found is not None
    data = json.loads(found.group(1))
    assert (data["lang"], data["practiceId"], data["patientId"]) == (
        language.value,
        str(practice),
        str(own),
    )
    assert data["maxBytes"] == MAX_DOCUMENT_BYTES
    assert set(data["pin"]) == {"origin", "logPublicKey", "witnesses", "threshold"}
    # The signed-in navigation leads here.
    assert 'href="/me/records"' in site.client.get(f"/me/appointments?lang={language.value}").text


def test_a_holder_known_nowhere_is_told_how_to_start(site: Site) -> None:
    make_patient_account(site.db, site.clock, EMAIL)
    cookie_login(site.client, EMAIL)
    page = site.client.get("/me/records?lang=en")
    assert page.status_code == 200
    assert "No practice knows you yet" in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/me/records",
        "/me/records/aa459f0a-5017-41b7-bb5e-141ab0da33c0/5643512c-46d8-45d2-a0d9-49b6fb2d3659",
    ],
)
def test_signed_out_goes_to_the_login_page_and_back(site: Site, path: str) -> None:
    response = site.client.get(path + "?lang=en", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}%3Flang%3Den"
    assert response.headers["cache-control"] == "no-store"


def test_someone_elses_patient_answers_exactly_as_a_missing_one(
    site: Site, holder: tuple[Person, UUID, UUID]
) -> None:
    _person, _own, child = holder
    practice = site.world.practice_id
    register_at_practice(site.db, site.clock, site.world, site.world.stranger_patient_id)
    paths = [
        f"/me/records/{practice}/{site.world.stranger_patient_id}",  # someone else's, known there
        f"/me/records/{practice}/{child}",  # mine, unknown to this practice
        f"/me/records/{practice}/{uuid4()}",
        f"/me/records/{uuid4()}/{uuid4()}",
        f"/me/records/{practice}/not-an-id",
    ]
    answers = []
    for path in paths:
        response = site.client.get(path)
        answers.append(
            (
                response.status_code,
                response.headers["content-type"],
                response.headers["cache-control"],
                response.text.replace(path, "PATH"),
            )
        )
    assert answers[0][0] == 404
    assert all(answer == answers[0] for answer in answers)
