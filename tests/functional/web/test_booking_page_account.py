"""Who the booking page and "My appointments" say is signed in: the unlock form shows that
address and asks only for the password; signed out, the booking page offers the log-in and
sign-up forms in place, with links to their full pages until its script runs."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from datetime import date
from typing import Any
from urllib.parse import quote

from colloque.search import availability
from colloque.web.booking_page import booking_url
from tests.functional.web.conftest import Site
from tests.web_login import cookie_login, make_patient_account

EMAIL = "sacha.inline@example.test"


def _data(page: str, element_id: str) -> dict[str, Any]:
    found = re.search(
        rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S
    )
    assert found is not None, element_id
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _booking_path(site: Site) -> str:
    with site.db.read() as session:
        slot = availability.list_free_slots(
            session,
            now=site.clock.now(),
            practice_id=site.world.practice_id,
            practitioner_id=site.world.practitioner_id,
            visit_type_id=site.world.consultation_id,
            duration_minutes=None,
            start=date(2026, 3, 16),
            days=7,
        )[0]
    return booking_url(
        site.world.practice_id,
        site.world.practitioner_id,
        slot.start.isoformat(),
        site.world.consultation_id,
    )


def test_signed_out_the_booking_page_names_nobody_and_links_to_the_full_pages(site: Site) -> None:
    path = _booking_path(site)
    page = site.client.get(path).text
    assert _data(page, "booking-data")["email"] is None
    booking = page[page.index('<div id="booking">') : page.index('id="booking-data"')]
    for route in ("/login", "/signup"):
        assert f'href="{route}?next={quote(path, safe="")}"' in html.unescape(booking)


def test_signed_in_both_pages_carry_the_address_for_the_unlock_form(site: Site) -> None:
    make_patient_account(site.db, site.clock, EMAIL)
    cookie_login(site.client, EMAIL)
    response = site.client.get(_booking_path(site))
    assert response.headers["cache-control"] == "no-store"
    assert _data(response.text, "booking-data")["email"] == EMAIL
    booking = response.text[response.text.index('<div id="booking">') :]
    assert "/signup?next=" not in booking
    appointments = site.client.get("/me/appointments").text
    assert _data(appointments, "appointments-data")["email"] == EMAIL


def test_the_forms_loaded_on_demand_come_with_the_integrity_of_what_is_served(site: Site) -> None:
    lazy = _data(site.client.get(_booking_path(site)).text, "booking-data")["lazy"]
    assert set(lazy) == {"Login", "Signup"}
    for files in lazy.values():
        assert files[-1]["path"].rsplit("/", 1)[-1].split("-")[0] in {"Login", "Signup"}
        for file in files:
            served = site.client.get(file["path"])
            assert served.status_code == 200
            digest = base64.b64encode(hashlib.sha256(served.content).digest()).decode()
            assert file["integrity"] == f"sha256-{digest}"
