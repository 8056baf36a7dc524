"""The desk's pages through the whole app: signed out to the login page; anybody who may not
book for the practice (a patient, a member without their second factor) gets exactly the 404 of
a missing practice or patient. The members' own use is in tests/browser/test_desk.py."""

from __future__ import annotations

from uuid import uuid4

import pytest

from colloque.accounts.services import do_add_member
from colloque.principal import Role
from tests.factories import register_at_practice
from tests.functional.web.conftest import Site
from tests.web_login import cookie_login, make_patient_account, own_patient_id


def _paths(site: Site) -> list[str]:
    practice, patient = site.world.practice_id, site.world.holder_patient_id
    return [f"/practice/{practice}/book", f"/practice/{practice}/patients/{patient}"]


def test_signed_out_goes_to_the_login_page(site: Site) -> None:
    for path in _paths(site):
        response = site.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("as_member", [False, True])
def test_who_may_not_book_is_refused_like_the_api(site: Site, as_member: bool) -> None:
    email = "lea.martin@example.test"
    person = make_patient_account(site.db, site.clock, email)
    register_at_practice(site.db, site.clock, site.world, site.world.holder_patient_id)
    if as_member:
        # A secretary whose session has no second factor: no practice action at all.
        with site.db.write() as session:
            do_add_member(
                session,
                practice_id=site.world.practice_id,
                account_id=person.account_id,
                role=Role.SECRETARY,
            )
    cookie_login(site.client, email)
    own = own_patient_id(site.db, person.account_id)
    practice = site.world.practice_id
    nowhere = f"/practice/{uuid4()}/book"
    missing = site.client.get(nowhere)
    assert missing.status_code == 404
    for path in [
        *_paths(site),
        f"/practice/{practice}/patients/{own}",
        f"/practice/{practice}/patients/{uuid4()}",
        f"/practice/{practice}/patients/not-an-id",
        "/practice/not-an-id/book",
    ]:
        response = site.client.get(path)
        assert response.headers["cache-control"] == "no-store"
        if as_member and str(practice) in path:
            # A member knows the practice: a 403 until the second factor, as from the API.
            assert response.status_code == 403, path
            continue
        assert response.status_code == 404, path
        # The page links to itself in the other language: its own path aside, the same bytes.
        assert response.text.replace(path, "PATH") == missing.text.replace(nowhere, "PATH"), path
