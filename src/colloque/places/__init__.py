"""The bundled list of French places a practice picks its city from: communes with their
postcodes, coordinates and time zone (overseas départements in their own IANA zone).

The list is data committed with the code (communes.tsv, made by scripts/places-data; sources and
licences in docs/places.md): no geocoding service is asked, nothing is fetched at run time. Pure
code: reads its own file once, then answers from memory.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("communes.tsv")
MAX_SUGGESTIONS = 20


@dataclass(frozen=True, slots=True)
class FrenchPlace:
    insee_code: str
    name: str
    postcodes: tuple[str, ...]
    latitude: float
    longitude: float
    timezone: str
    population: int


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    tails: tuple[str, ...]  # the key from its second word on, from its third, ...
    place: FrenchPlace


def search_key(text: str) -> str:
    """Lower case, no accents, hyphens and apostrophes as spaces: "Saint-Étienne" and "saint
    etienne" are the same key."""
    spaced = text.replace("-", " ").replace("'", " ").replace("\u2019", " ")
    plain = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode().lower()
    return " ".join(plain.split())


@cache
def _entries() -> tuple[_Entry, ...]:
    lines = _DATA.read_text(encoding="utf-8").splitlines()[1:]
    entries = []
    for line in lines:
        insee, name, postcodes, latitude, longitude, timezone, population = line.split("\t")
        place = FrenchPlace(
            insee_code=insee,
            name=name,
            postcodes=tuple(postcodes.split()),
            latitude=float(latitude),
            longitude=float(longitude),
            timezone=timezone,
            population=int(population),
        )
        key = search_key(name)
        words = key.split()
        tails = tuple(" ".join(words[i:]) for i in range(1, len(words)))
        entries.append(_Entry(key=key, tails=tails, place=place))
    # Most populated first: "Saint" should suggest Saint-Denis before a village.
    entries.sort(key=lambda entry: -entry.place.population)
    return tuple(entries)


def search(query: str, *, limit: int = MAX_SUGGESTIONS) -> list[FrenchPlace]:
    """Places whose name starts with ``query`` (accents, case and hyphens aside), then those with
    a later word starting so ("denis" finds Saint-Denis), or, for digits, whose postcode starts
    with them; the most populated first."""
    key = search_key(query)
    if not key:
        return []
    if key.isdigit():
        return [
            entry.place
            for entry in _entries()
            if any(postcode.startswith(key) for postcode in entry.place.postcodes)
        ][:limit]
    first = [entry.place for entry in _entries() if entry.key.startswith(key)]
    if len(first) >= limit:
        return first[:limit]
    later = [
        entry.place
        for entry in _entries()
        if not entry.key.startswith(key) and any(tail.startswith(key) for tail in entry.tails)
    ]
    return (first + later)[:limit]


def by_insee_code(code: str) -> FrenchPlace | None:
    return next((entry.place for entry in _entries() if entry.place.insee_code == code), None)
