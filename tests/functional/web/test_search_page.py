"""The search page's filters and sort, through the whole app: each filter narrows the results as
the API does, the sort by distance needs a point, the links keep every filter, the position is
kept coarse and out of the logs, and a wrong value is named next to its field (400, never 500)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from structlog.testing import capture_logs

from colloque.scheduling.domain import PatientKind
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner, do_create_practice
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_opening_range, do_add_visit_type
from colloque.web.i18n import Language
from colloque.worker import run_cycle
from tests.factories import make_person
from tests.functional.web.conftest import Site, add_gps

#: Near the world's practice (12 rue de la Paix, Paris), as the "near me" island sends it.
NEAR = {"latitude": "48.87", "longitude": "2.33"}
MARTIN = "Dr Claire Martin"
LOIN = "Dr Jean Loin"


def add_far_gp(site: Site) -> None:
    """A GP in Versailles, about 17 km from the world's practice: free earlier than Dr Martin,
    closed to new patients, speaking German, offering vaccinations and no video."""
    admin = make_person(site.db, site.clock, "Admin Victor")
    now = site.clock.now()
    with site.db.write() as session:
        practice = do_create_practice(
            session,
            now=now,
            principal=admin.principal(site.db),
            name="Cabinet de Versailles",
            address="1 avenue de Paris",
            postcode="78000",
            city="Versailles",
            latitude=48.8014,
            longitude=2.1301,
        )
        practice_id = practice.practice_id
    principal = admin.principal(site.db)
    with site.db.write() as session:
        gp = do_add_practitioner(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            first_name="Jean",
            last_name="Loin",
            title="Dr",
            specialty=Specialty.GENERAL_PRACTICE,
            languages=["fr", "de"],
            accepts_new_patients=False,
            rules=AgendaRulesInput(slot_step_minutes=30, min_notice_minutes=0),
        )
        vaccination = do_add_visit_type(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            practitioner_id=gp.practitioner_id,
            label="Vaccination",
            duration_minutes=30,
            patient_kind=PatientKind.ANY,
        )
        session.flush()
        do_add_opening_range(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            practitioner_id=gp.practitioner_id,
            weekday=0,
            start_minute=8 * 60 + 30,
            end_minute=12 * 60,
            visit_type_ids=[vaccination.visit_type_id],
        )
    run_cycle(site.db, site.clock, batch=100)


def _names(text: str) -> list[str]:
    return re.findall(r'<h3><a href="/practitioners/[^"]+">([^<]+)</a></h3>', text)


def _search(site: Site, **params: str) -> str:
    response = site.client.get("/search", params={"specialty": "general_practice", **params})
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.parametrize(
    ("params", "expected", "echoed"),
    [
        ({}, [LOIN, MARTIN], None),
        ({"mode": "video"}, [MARTIN], 'name="mode" type="checkbox" value="video" checked'),
        (
            {"new_patients": "true"},
            [MARTIN],
            'name="new_patients" type="checkbox" value="true" checked',
        ),
        ({"language": "de"}, [LOIN], '<option value="de" selected>Allemand</option>'),
        ({"language": "en"}, [MARTIN], '<option value="en" selected>Anglais</option>'),
        (
            {"visit_type": "vaccin"},
            [LOIN],
            'name="visit_type" type="text" maxlength="60" value="vaccin"',
        ),
        ({"visit_type": "TÉLÉCONSULT"}, [MARTIN], 'value="TÉLÉCONSULT"'),
        ({"visit_type": "radiographie"}, [], 'value="radiographie"'),
    ],
)
def test_each_filter_narrows_the_results_as_the_api_does(
    site: Site, params: dict[str, str], expected: list[str], echoed: str | None
) -> None:
    add_far_gp(site)
    text = _search(site, **params)
    assert _names(text) == expected
    api_params = {"specialty": "general_practice", **params}
    api = site.client.get("/api/v1/search", params=api_params).json()["results"]
    assert [
        f"Dr {hit['practitioner']['first_name']} {hit['practitioner']['last_name']}" for hit in api
    ] == expected
    if not expected:
        assert "Aucun praticien" in text
    if echoed is None:
        assert '<details class="filters">' in text  # nothing filtered: the filters stay folded
    else:
        assert echoed in text
        assert '<details class="filters" open>' in text


def test_video_is_marked_on_the_results_that_offer_it(site: Site) -> None:
    add_far_gp(site)
    text = _search(site)
    martin, loin = text.index(MARTIN), text.index(LOIN)
    assert text.count("Téléconsultation possible") == 1
    assert loin < martin < text.index("Téléconsultation possible")


def test_a_point_sorts_by_distance_and_every_result_says_how_far(site: Site) -> None:
    add_far_gp(site)
    by_distance = _search(site, **NEAR, sort="distance")
    assert _names(by_distance) == [MARTIN, LOIN]
    assert "Résultats, les plus proches d&#39;abord" in by_distance
    api = site.client.get(
        "/api/v1/search", params={"specialty": "general_practice", **NEAR, "sort": "distance"}
    ).json()["results"]
    shown = re.findall(r'<p class="distance">À ([0-9,]+) km</p>', by_distance)
    assert shown == [f"{hit['distance_km']:.1f}".replace(".", ",") for hit in api]
    assert shown[0] == "0,2"
    assert 15 < float(shown[1].replace(",", ".")) < 20
    assert (
        'id="sort-distance" name="sort" type="radio" value="distance" aria-describedby="sort-hint" checked'
        in by_distance
    )

    # The same point, earliest first: the distances are still shown.
    by_time = _search(site, **NEAR, sort="earliest")
    assert _names(by_time) == [LOIN, MARTIN]
    assert len(re.findall(r'<p class="distance">', by_time)) == 2
    assert "Résultats, premier créneau libre d&#39;abord" in by_time

    # Without a point nothing is measured, so nothing is shown.
    assert '<p class="distance">' not in _search(site, where="Paris")


def test_english_distances_use_a_decimal_point(site: Site) -> None:
    text = _search(site, **NEAR, sort="distance", lang="en")
    assert '<p class="distance">0.2 km away</p>' in text


def test_the_position_is_rounded_to_about_a_kilometre_in_the_form_and_its_links(
    site: Site,
) -> None:
    add_gps(site.db, site.clock, site.world, 11)
    run_cycle(site.db, site.clock, batch=100)
    text = _search(site, latitude="48.868612", longitude="2.331409", sort="distance")
    assert 'name="latitude" value="48.87"' in text
    assert 'name="longitude" value="2.33"' in text
    assert "48.8686" not in text
    assert "2.3314" not in text
    next_url = _link(text, "next")
    assert parse_qs(urlsplit(next_url).query)["latitude"] == ["48.87"]
    forget = unescape(_found(r'<a href="([^"]+)">Chercher sans ma position</a>', text))
    query = parse_qs(urlsplit(forget).query)
    assert "latitude" not in query
    assert "longitude" not in query
    assert "sort" not in query
    assert query["specialty"] == ["general_practice"]


def test_paging_links_keep_every_filter(site: Site) -> None:
    add_gps(site.db, site.clock, site.world, 11)
    add_far_gp(site)  # in Versailles: outside a search in Paris
    filters = {
        "where": "Paris",
        "language": "fr",
        "new_patients": "true",
        "visit_type": "consultation",
    }
    first = _search(site, **filters)
    assert len(_names(first)) == 10
    next_url = _link(first, "next")
    assert {k: v[0] for k, v in parse_qs(urlsplit(next_url).query).items()} == {
        "specialty": "general_practice",
        **filters,
        "sort": "earliest",
        "page": "2",
    }
    second = site.client.get(next_url).text
    assert len(_names(second)) == 2  # Dr Martin and 11 GPs in Paris, 10 a page
    assert LOIN not in second
    assert 'value="consultation"' in second
    assert 'name="new_patients" type="checkbox" value="true" checked' in second
    previous = {k: v[0] for k, v in parse_qs(urlsplit(_link(second, "prev")).query).items()}
    assert previous == {"specialty": "general_practice", **filters, "sort": "earliest"}

    # With a point, the pages keep it and the sort.
    near = _search(site, **NEAR, sort="distance")
    near_next = parse_qs(urlsplit(_link(near, "next")).query)
    assert near_next["latitude"] == ["48.87"]
    assert near_next["sort"] == ["distance"]


def test_a_search_near_a_point_needs_nothing_else(site: Site) -> None:
    response = site.client.get("/search", params=NEAR)
    assert response.status_code == 200
    assert _names(response.text) == [MARTIN]


def test_filters_alone_ask_for_something_to_look_for(site: Site) -> None:
    response = site.client.get("/search", params={"language": "en", "mode": "video"})
    assert response.status_code == 200
    assert "Choisissez une spécialité, un lieu ou un nom." in response.text
    assert '<details class="filters" open>' in response.text


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"mode": "in_person"}, "mode", "ne prend que la téléconsultation"),
        ({"mode": "audio"}, "mode", "ne prend que la téléconsultation"),
        ({"new_patients": "maybe"}, "new_patients", "Cochez la case ou laissez-la vide."),
        ({"language": "xx"}, "language", "Choisissez une langue de la liste."),
        ({"language": "english"}, "language", "Choisissez une langue de la liste."),
        ({"visit_type": "a"}, "visit_type", "au moins deux lettres du motif"),
        ({"visit_type": "x" * 61}, "visit_type", "au moins deux lettres du motif"),
        ({"visit_type": "%%"}, "visit_type", "au moins deux lettres du motif"),
        ({"sort": "nearest"}, "sort", "Choisissez un tri de la liste :"),
        ({"sort": "distance", "where": "Paris"}, "sort", "utilisez «\u00a0Autour de moi\u00a0»"),
        ({"latitude": "91", "longitude": "2.33"}, "latitude", None),
        ({"latitude": "48.87", "longitude": "-180.5"}, "longitude", None),
        ({"latitude": "abc", "longitude": "2.33"}, "latitude", None),
        ({"latitude": "1e1", "longitude": "2.33"}, "latitude", None),
        ({"latitude": "nan", "longitude": "2.33"}, "latitude", None),
        ({"latitude": "48.87"}, "longitude", None),
        ({"longitude": "2.33"}, "latitude", None),
    ],
)
def test_a_wrong_filter_is_named_next_to_its_field_never_a_500(
    site: Site, params: dict[str, str], field: str, message: str | None
) -> None:
    for language in Language:
        site.client.cookies.set("lang", language.value)
        response = site.client.get(
            "/search", params={"specialty": "general_practice", "name": "Martin", **params}
        )
        assert response.status_code == 400, params
        assert f'<html lang="{language.value}">' in response.text
        text = unescape(response.text)
        if field in ("latitude", "longitude"):
            assert 'id="position-error"' in text
            # A position that could not be read is not sent again with the next search.
            assert 'type="hidden" name="latitude"' not in text
        else:
            assert f'aria-describedby="{field}-error' in text
            assert f'id="{field}-error"' in text
            assert 'aria-invalid="true"' in text
        if message is not None and language is Language.FR:
            error = _found(rf'id="{field}-error">([^<]+)</p>', text)
            assert message in error
        # What was typed stays in the form.
        assert 'value="Martin"' in text
        assert '<option value="general_practice" selected>' in text


def test_the_position_never_reaches_a_log_line(site: Site) -> None:
    with capture_logs() as logs:
        ok = site.client.get("/search", params={"latitude": "48.8686", "longitude": "2.3314"})
        bad = site.client.get("/search", params={"latitude": "48.8686", "longitude": "999"})
        api = site.client.get(
            "/api/v1/search", params={"latitude": "48.8686", "longitude": "2.3314"}
        )
    assert (ok.status_code, bad.status_code, api.status_code) == (200, 400, 200)
    assert len(logs) >= 3, "no access log line captured: the check below would be vacuous"
    for entry in logs:
        line = repr(entry)
        assert "48.8" not in line
        assert "2.33" not in line
        assert "999" not in line


def _link(text: str, rel: str) -> str:
    return unescape(_found(rf'rel="{rel}" href="([^"]+)"', text))


def _found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not in the page"
    return match[1]
