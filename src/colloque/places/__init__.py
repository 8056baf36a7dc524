"""The bundled list of French places a practice picks its city from: communes with their
postcodes, coordinates and time zone (overseas départements in their own IANA zone).

The list is data committed with the code (communes.tsv, made by scripts/places-data; sources and
licences in docs/places.md): no geocoding service is asked, nothing is fetched at run time. Pure
code: reads its own file once, then answers from memory.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from itertools import islice
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
class _Index:
    """The places, most populated first, and three sorted lists of (text, rank in places) that a
    prefix search bisects: the names' keys, the keys from their second word on (and third...),
    and the postcodes."""

    places: tuple[FrenchPlace, ...]
    names: list[tuple[str, int]]
    tails: list[tuple[str, int]]
    postcodes: list[tuple[str, int]]


def search_key(text: str) -> str:
    """Lower case, no accents, hyphens and apostrophes as spaces: "Saint-Étienne" and "saint
    etienne" are the same key."""
    spaced = text.replace("-", " ").replace("'", " ").replace("\u2019", " ")
    plain = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode().lower()
    return " ".join(plain.split())


@cache
def _index() -> _Index:
    lines = _DATA.read_text(encoding="utf-8").splitlines()[1:]
    found = []
    for line in lines:
        insee, name, postcodes, latitude, longitude, timezone, population = line.split("\t")
        found.append(
            FrenchPlace(
                insee_code=insee,
                name=name,
                postcodes=tuple(postcodes.split()),
                latitude=float(latitude),
                longitude=float(longitude),
                timezone=timezone,
                population=int(population),
            )
        )
    # Most populated first: "Saint" should suggest Saint-Denis before a village.
    found.sort(key=lambda place: -place.population)
    names: list[tuple[str, int]] = []
    tails: list[tuple[str, int]] = []
    codes: list[tuple[str, int]] = []
    for rank, place in enumerate(found):
        words = search_key(place.name).split()
        names.append((" ".join(words), rank))
        tails.extend((" ".join(words[i:]), rank) for i in range(1, len(words)))
        codes.extend((postcode, rank) for postcode in place.postcodes)
    return _Index(tuple(found), sorted(names), sorted(tails), sorted(codes))


def _ranks(index: list[tuple[str, int]], prefix: str) -> set[int]:
    """The ranks of the texts that start with ``prefix``: they are together in the sorted list."""
    ranks: set[int] = set()
    for text, rank in islice(index, bisect_left(index, (prefix, -1)), None):
        if not text.startswith(prefix):
            break
        ranks.add(rank)
    return ranks


def search(query: str, *, limit: int = MAX_SUGGESTIONS) -> list[FrenchPlace]:
    """Places whose name starts with ``query`` (accents, case and hyphens aside), then those with
    a later word starting so ("denis" finds Saint-Denis), or, for digits, whose postcode starts
    with them; the most populated first in each group."""
    key = search_key(query)
    if not key:
        return []
    index = _index()
    if key.isdigit():
        ranks = sorted(_ranks(index.postcodes, key))
    else:
        first = _ranks(index.names, key)
        ranks = sorted(first) + sorted(_ranks(index.tails, key) - first)
    return [index.places[rank] for rank in ranks[:limit]]


def by_insee_code(code: str) -> FrenchPlace | None:
    return next((place for place in _index().places if place.insee_code == code), None)
