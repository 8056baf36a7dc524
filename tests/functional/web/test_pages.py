"""The public pages, through the whole app: both languages, their headers, the slots in the HTML
(no JavaScript needed), and a page (never a 500 or the API's JSON) for bad input."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx2
import pytest

from colloque.scheduling.domain import VisitMode
from colloque.scheduling.timetable import do_add_visit_type
from colloque.web import (
    access_history_page,
    i18n,
    notifications_page,
    practice_section,
    practices_page,
)
from colloque.web.i18n import Language
from colloque.web.rendering import AGENDA_LINK, PRACTICES_LINK, SIGNED_IN_LINKS
from colloque.web.security import CONTENT_SECURITY_POLICY
from colloque.worker import run_cycle
from tests.functional.web.conftest import Site, add_gps
from tests.functional.web.test_care_pages import care_pages_keys

TEMPLATES = Path(i18n.__file__).parent / "templates"
SOURCES = Path(i18n.__file__).parent


def _pages(site: Site) -> dict[str, int]:
    return {
        "/": 200,
        "/search?specialty=general_practice&where=Paris": 200,
        "/search?where=75002&name=Martin": 200,
        "/search": 200,
        site.practitioner_url: 200,
        f"{site.practitioner_url}?visit_type={site.world.video_id}&week=2026-03-09": 200,
        f"/practitioners/{uuid4()}/{uuid4()}": 404,
        "/search?specialty=astrology": 400,
        "/search?specialty=general_practice&mode=video&new_patients=true&language=en"
        "&visit_type=consult&latitude=48.87&longitude=2.33&sort=distance": 200,
        "/search?where=Paris&sort=distance": 400,
    }


def _assert_page_headers(response: httpx2.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for directive in (
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"
    # Development and test: no HSTS (tests/functional/web/test_assets.py checks production).
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("language", list(Language))
def test_every_page_renders_in_both_languages_with_strict_headers(
    site: Site, language: Language
) -> None:
    for url, status in _pages(site).items():
        joiner = "&" if "?" in url else "?"
        response = site.client.get(f"{url}{joiner}lang={language.value}")
        assert response.status_code == status, url
        assert f'<html lang="{language.value}">' in response.text
        _assert_page_headers(response)
        # Every script is either a file of ours or inert JSON data.
        for tag in re.findall(r"<script[^>]*>", response.text):
            assert 'type="application/json"' in tag or ("src=" in tag and "integrity=" in tag)
        assert "http://" not in response.text
        external = set(re.findall(r"https://[^/\"']+", response.text))
        assert external <= {"https://www.openstreetmap.org"}, url


def test_the_language_follows_the_link_then_the_cookie(site: Site) -> None:
    assert '<html lang="fr">' in site.client.get("/").text
    switched = site.client.get("/?lang=en")
    assert '<html lang="en">' in switched.text
    assert "lang=en" in switched.headers["set-cookie"]
    assert "HttpOnly" in switched.headers["set-cookie"]
    assert '<html lang="en">' in site.client.get("/search").text
    assert 'href="/?lang=fr"' in site.client.get("/").text
    assert '<html lang="fr">' in site.client.get("/?lang=fr").text
    assert '<html lang="fr">' in site.client.get("/").text
    # Anything else is ignored, not an error.
    assert site.client.get("/?lang=de").status_code == 200


def test_the_catalogues_hold_the_same_keys_and_every_key_the_pages_use() -> None:
    french, english = i18n.catalogue(Language.FR), i18n.catalogue(Language.EN)
    assert set(french) == set(english)
    assert all(french.values())
    assert all(english.values())
    used = set()
    for template in TEMPLATES.glob("*.html"):
        found = re.findall(r"""\bt\(\s*['"]([a-z0-9_.]+)['"]""", template.read_text())
        # A key built in the template (`'mode.' ~ vt.mode`) is checked below from its enum.
        used |= {key for key in found if not key.endswith(".")}
    for module in SOURCES.glob("*.py"):
        used |= set(re.findall(r'"(error\.[a-z_]+)"\)', module.read_text()))
        # The account pages pass their title's key to one shared template.
        used |= set(re.findall(r'"([a-z]+\.title)"', module.read_text()))
    used |= {f"mode.{mode.value}" for mode in VisitMode}
    used |= {key for _path, key in SIGNED_IN_LINKS}
    used |= {AGENDA_LINK, PRACTICES_LINK} | set(practice_section.LINK_KEYS)
    used |= set(practices_page.ROLE_KEYS.values())
    used |= care_pages_keys()
    # The notifications page names each template, and says how a check came out.
    used |= {f"notifications.template.{name}" for name in notifications_page.TEMPLATES}
    used |= {"notifications.template.other"}
    used |= {f"notifications.check.{outcome}" for outcome in ("not_found", "invalid")}
    # The access history names each actor, kind of item and verb by a key it builds.
    used |= access_history_page.KEYS
    assert used, "no message id found: the pattern above no longer matches the templates"
    assert used <= set(french), sorted(used - set(french))
    assert not set(french) - used, f"unused keys: {sorted(set(french) - used)}"


def test_a_missing_key_raises_rather_than_shows_its_id() -> None:
    with pytest.raises(i18n.MissingMessage):
        i18n.Translator(Language.EN)("nowhere.to_be_found")


def test_search_results_rank_like_the_api_with_their_next_slots_and_pages(site: Site) -> None:
    add_gps(site.db, site.clock, site.world, 11)
    run_cycle(site.db, site.clock, batch=100)
    api = site.client.get(
        "/api/v1/search",
        params={"specialty": "general_practice", "city": "Paris", "page_size": 10},
    ).json()
    first = site.client.get("/search?specialty=general_practice&where=Paris")
    assert first.status_code == 200
    linked = re.findall(r'<h3><a href="/practitioners/([^/]+)/([^"]+)">', first.text)
    assert linked == [
        (hit["practice"]["practice_id"], hit["practitioner"]["practitioner_id"])
        for hit in api["results"]
    ]
    earliest = datetime.fromisoformat(api["results"][0]["next_slots"][0]["starts_at"])
    paris = earliest.astimezone(ZoneInfo("Europe/Paris")).isoformat()
    assert f'<time datetime="{paris}">' in first.text
    assert 'rel="prev"' not in first.text
    next_url = unescape(_found(r'rel="next" href="([^"]+)"', first.text)[1])
    second = site.client.get(next_url)
    assert second.status_code == 200
    assert 'rel="prev"' in second.text
    assert len(re.findall(r"<h3><a ", second.text)) == 2  # 12 GPs, 10 a page
    assert 'rel="next"' not in second.text


def test_a_postcode_and_a_name_find_the_practitioner(site: Site) -> None:
    page = site.client.get("/search", params={"where": "75002", "name": "martin"})
    assert "Dr Claire Martin" in page.text
    none = site.client.get("/search", params={"where": "Lyon"})
    assert "Aucun praticien" in none.text


def _slots_api(site: Site, visit_type_id: object, week: date) -> list[str]:
    world = site.world
    slots = site.client.get(
        f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots",
        params={"visit_type_id": str(visit_type_id), "from": week.isoformat(), "days": 7},
    )
    assert slots.status_code == 200
    return [slot["starts_at"] for slot in slots.json()]


def test_the_practitioner_page_holds_its_slots_week_by_week_without_javascript(site: Site) -> None:
    page = site.client.get(site.practitioner_url)
    text = page.text
    assert "Dr Claire Martin" in text
    assert "Médecine générale" in text
    assert "12 rue de la Paix" in text
    assert "75002 Paris" in text
    assert "https://www.openstreetmap.org/?mlat=48.86860&amp;mlon=2.33140" in text
    assert "anglais, français" in text
    assert "Téléconsultation · 15 min · <strong>en vidéo</strong></li>" in text
    assert "Première consultation · 30 min · au cabinet · pour les nouveaux patients</li>" in text
    assert "Suivi · 15 min · au cabinet · pour les patients déjà suivis</li>" in text
    assert "Consultation · 20 min · au cabinet</li>" in text
    assert "Urgence" not in text  # not bookable online
    # The first visit type is chosen; its week's slots are all in the HTML, as the API lists them.
    chosen = _found(r'<option value="([^"]+)" selected>', text)[1]
    monday = date(2026, 3, 2)
    expected = _slots_api(site, chosen, monday)
    assert expected
    assert re.findall(r'<li><a href="/book/[^"]+"><time datetime="([^"]+)">', text) == expected
    assert "Semaine précédente" not in text
    next_url = unescape(_found(r'href="([^"]+)">Semaine suivante', text)[1])
    assert "week=2026-03-09" in next_url
    later = site.client.get(next_url).text
    assert re.findall(r'<li><a href="/book/[^"]+"><time datetime="([^"]+)">', later) == _slots_api(
        site, chosen, monday + timedelta(weeks=1)
    )
    assert "Semaine précédente" in later
    video = site.client.get(site.practitioner_url, params={"visit_type": str(site.world.video_id)})
    video_slots = re.findall(r'<li><a href="/book/[^"]+"><time datetime="([^"]+)">', video.text)
    assert video_slots == _slots_api(site, site.world.video_id, monday)
    assert all("T14:" in s or "T15:" in s or "T16:" in s or "T17:" in s for s in video_slots)


def test_the_island_data_is_inert_json_even_with_markup_in_a_label(site: Site) -> None:
    hostile = "</script><script>alert(1)</script>"
    with site.db.write() as session:
        do_add_visit_type(
            session,
            now=site.clock.now(),
            principal=site.world.admin.principal(site.db),
            practice_id=site.world.practice_id,
            practitioner_id=site.world.practitioner_id,
            label=hostile,
            duration_minutes=25,
        )
    text = site.client.get(site.practitioner_url).text
    assert "<script>alert(1)" not in text
    raw = _found(
        r'<script type="application/json" id="slot-picker-data">(.*?)</script>', text, re.S
    )[1]
    data = json.loads(raw)
    assert hostile in [vt["label"] for vt in data["visitTypes"]]
    assert data["week"] == "2026-03-02"
    assert data["firstWeek"] == "2026-03-02"
    assert data["today"] == "2026-03-02"  # the practice's day by the server's clock
    assert data["slots"] == re.findall(r'<li><a href="/book/[^"]+"><time datetime="([^"]+)">', text)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("/search?specialty=astrology", 400),
        ("/search?name=a", 400),
        ("/search?name=" + "x" * 101, 400),
        ("/search?where=%25%25", 400),
        ("/search?where=Par%00is", 400),
        ("/search?specialty=dentistry&page=0", 400),
        ("/search?specialty=dentistry&page=abc", 400),
        ("/search?specialty=dentistry&page=501", 400),
        ("/practitioners/not-a-uuid/either", 404),
        ("/practitioners/{practice}/{unknown}", 404),
        ("/practitioners/{unknown}/{practitioner}", 404),
        ("/practitioners/{practice}/{practitioner}?visit_type=nope", 400),
        ("/practitioners/{practice}/{practitioner}?visit_type={unknown}", 400),
        ("/practitioners/{practice}/{practitioner}?visit_type={urgent}", 400),
        ("/practitioners/{practice}/{practitioner}?week=2026-13-01", 400),
        ("/practitioners/{practice}/{practitioner}?week=tomorrow", 400),
        ("/practitioners/{practice}/{practitioner}?week=2029-01-01", 400),
        ("/practitioners/{practice}/{practitioner}?week=1999-01-01", 200),
    ],
)
def test_bad_input_gets_a_page_in_the_language_never_a_500(
    site: Site, query: str, status: int
) -> None:
    url = query.format(
        practice=site.world.practice_id,
        practitioner=site.world.practitioner_id,
        unknown=uuid4(),
        urgent=site.world.urgent_id,
    )
    for language in Language:
        site.client.cookies.set("lang", language.value)
        response = site.client.get(url)
        assert response.status_code == status, url
        assert f'<html lang="{language.value}">' in response.text
        _assert_page_headers(response)


def test_late_in_the_week_the_page_opens_on_the_first_week_with_a_free_slot(site: Site) -> None:
    site.clock.advance(timedelta(days=5, hours=10))  # Saturday 7 March, 18:00 in Paris
    text = site.client.get(site.practitioner_url).text
    assert "Semaine du 9 mars 2026" in text
    assert '<time datetime="2026-03-09T09:00:00+01:00">' in text
    assert "Semaine précédente" in text  # this week stays one click away
    asked = site.client.get(site.practitioner_url, params={"week": "2026-03-02"}).text
    assert "Semaine du 2 mars 2026" in asked
    assert '<li><a href="/book/' not in asked


def test_pages_answer_head_requests_for_crawlers(site: Site) -> None:
    for url in ("/", "/search?where=Paris", site.practitioner_url):
        response = site.client.head(url)
        assert response.status_code == 200, url
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def _found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """The first match, failing the test (rather than a TypeError) when the page lacks it."""
    match = re.search(pattern, text, flags)
    assert match is not None, f"{pattern!r} not in the page"
    return match
