"""Joins Etalab's communes (name, INSEE code, postcodes, population) with GeoNames' places
(coordinates) into the compact TSV that colloque.places reads. Called by scripts/places-data.

A commune is kept when GeoNames has a place of the same name in the same département (GeoNames
lists places of 1,000 inhabitants or more and the seats of cantons): a commune without
coordinates could not be placed on the map nor found by distance, so it is left out rather than
guessed. Where a département has two places of one name, the commune takes the one GeoNames
lists first (its most populated).
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

# Overseas départements keep their own clock; mainland France and Corsica are on Paris time.
_OVERSEAS_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}
_HEADER = "insee\tname\tpostcodes\tlatitude\tlongitude\ttimezone\tpopulation"


def _key(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(plain.replace("-", " ").replace("'", " ").split())


def main(communes_path: Path, cities_path: Path, out_path: Path) -> None:
    communes = json.loads(communes_path.read_text(encoding="utf-8"))
    cities = json.loads(cities_path.read_text(encoding="utf-8"))
    coordinates: dict[tuple[str, str], tuple[str, str]] = {}
    for city in cities:
        if city["country"] in {"FR", "GP", "MQ", "GF", "RE", "YT"}:
            # GeoNames files Mayotte's places under their commune, not their département.
            department = "976" if city["country"] == "YT" else city["admin2"]
            coordinates.setdefault((department, _key(city["name"])), (city["lat"], city["lng"]))
    rows = []
    for commune in communes:
        if commune["type"] != "commune-actuelle" or commune["zone"] not in {"metro", "drom"}:
            continue
        department = commune["departement"]
        found = coordinates.get((department, _key(commune["nom"])))
        if found is None or not commune.get("codesPostaux"):
            continue
        latitude, longitude = (f"{float(value):.4f}" for value in found)
        rows.append(
            "\t".join(
                [
                    commune["code"],
                    commune["nom"],
                    " ".join(sorted(commune["codesPostaux"])),
                    latitude,
                    longitude,
                    _OVERSEAS_ZONES.get(department, "Europe/Paris"),
                    str(commune.get("population", 0)),
                ]
            )
        )
    rows.sort()
    out_path.write_text("\n".join([_HEADER, *rows]) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} places to {out_path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
