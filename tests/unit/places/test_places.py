"""The bundled list of French places: prefix search by name or postcode, accents aside, and the
time zone each place brings (overseas départements on their own clock)."""

from __future__ import annotations

from colloque import places


def _names(query: str) -> list[tuple[str, str]]:
    return [(place.name, place.postcodes[0]) for place in places.search(query)]


def test_a_name_prefix_finds_the_place_whatever_the_accents_case_and_hyphens() -> None:
    for query in ("Saint-Étienne", "saint etienne", "SAINT-ETIEN", "saint\u2019étienne"):
        assert _names(query)[0] == ("Saint-Étienne", "42000"), query


def test_the_most_populated_comes_first_and_a_later_word_matches_too() -> None:
    found = _names("saint-denis")
    assert found[:2] == [("Saint-Denis", "97400"), ("Saint-Denis", "93200")]
    # "denis" is the start of no name, but of a later word: Saint-Denis, then the smaller ones.
    later = _names("denis")
    assert later[0][0] == "Saint-Denis"
    assert ("Vert-Saint-Denis", "77240") in later


def test_a_postcode_prefix_finds_every_place_it_serves() -> None:
    assert [name for name, _ in _names("75016")] == ["Paris"]
    assert {name for name, _ in _names("974")} >= {"Saint-Denis", "Saint-Pierre", "Le Port"}
    assert all(any(code.startswith("690") for code in p.postcodes) for p in places.search("690"))


def test_a_place_brings_its_coordinates_and_time_zone() -> None:
    lyon = places.search("lyon")[0]
    assert (lyon.name, lyon.timezone) == ("Lyon", "Europe/Paris")
    assert abs(lyon.latitude - 45.75) < 0.05
    assert abs(lyon.longitude - 4.85) < 0.05
    zones = {
        "97200": "America/Martinique",
        "97300": "America/Cayenne",
        "97400": "Indian/Reunion",
        "97100": "America/Guadeloupe",
        "97600": "Indian/Mayotte",
    }
    for postcode, zone in zones.items():
        found = places.search(postcode)
        assert found, postcode
        assert {place.timezone for place in found} == {zone}, postcode
    assert places.search("97200")[0].latitude < 20  # in the Caribbean, not in the Alps


def test_nothing_matches_nothing_and_the_limit_holds() -> None:
    assert places.search("") == []
    assert places.search(" - ") == []
    assert places.search("zzzz") == []
    assert len(places.search("saint", limit=5)) == 5
    assert len(places.search("a")) == places.MAX_SUGGESTIONS


def test_by_insee_code() -> None:
    paris = places.by_insee_code("75056")
    assert paris is not None
    assert paris.name == "Paris"
    assert "75011" in paris.postcodes
    assert places.by_insee_code("00000") is None
