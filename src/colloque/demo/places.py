"""Real French places for demo practices: cities, postcodes, city-centre coordinates, streets.

Coordinates are those of the city centre (of the arrondissement for Paris, Lyon and Marseille),
rounded to four decimals. ``population`` is approximate (INSEE, early 2020s) and only weights how
many practices a place gets. Overseas départements carry their own IANA time zone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate

PARIS_TZ = "Europe/Paris"


@dataclass(frozen=True, slots=True)
class Place:
    city: str
    postcode: str
    latitude: float
    longitude: float
    population: int
    timezone: str = PARIS_TZ

    @property
    def spread_degrees(self) -> float:
        """How far from the centre a practice may be placed: a few hundred metres in an
        arrondissement, a couple of kilometres in a large city."""
        if self.city in {"Paris", "Lyon", "Marseille"}:
            return 0.006
        if self.population >= 200_000:
            return 0.025
        if self.population >= 100_000:
            return 0.018
        return 0.012


def _paris(postcode: str, latitude: float, longitude: float, population: int) -> Place:
    return Place("Paris", postcode, latitude, longitude, population)


def _lyon(postcode: str, latitude: float, longitude: float, population: int) -> Place:
    return Place("Lyon", postcode, latitude, longitude, population)


def _marseille(postcode: str, latitude: float, longitude: float, population: int) -> Place:
    return Place("Marseille", postcode, latitude, longitude, population)


PLACES: tuple[Place, ...] = (
    # Paris, by arrondissement.
    _paris("75001", 48.8625, 2.3364, 16_000),
    _paris("75002", 48.8683, 2.3428, 21_000),
    _paris("75003", 48.8630, 2.3600, 34_000),
    _paris("75004", 48.8543, 2.3576, 29_000),
    _paris("75005", 48.8445, 2.3500, 58_000),
    _paris("75006", 48.8491, 2.3328, 40_000),
    _paris("75007", 48.8562, 2.3122, 49_000),
    _paris("75008", 48.8727, 2.3125, 35_000),
    _paris("75009", 48.8770, 2.3375, 59_000),
    _paris("75010", 48.8761, 2.3607, 83_000),
    _paris("75011", 48.8590, 2.3800, 144_000),
    _paris("75012", 48.8400, 2.3950, 139_000),
    _paris("75013", 48.8283, 2.3623, 178_000),
    _paris("75014", 48.8291, 2.3266, 134_000),
    _paris("75015", 48.8401, 2.2930, 230_000),
    _paris("75016", 48.8570, 2.2700, 162_000),
    _paris("75017", 48.8873, 2.3067, 164_000),
    _paris("75018", 48.8925, 2.3484, 191_000),
    _paris("75019", 48.8871, 2.3848, 183_000),
    _paris("75020", 48.8635, 2.4012, 191_000),
    # Lyon, by arrondissement.
    _lyon("69001", 45.7676, 4.8344, 29_000),
    _lyon("69002", 45.7485, 4.8270, 31_000),
    _lyon("69003", 45.7595, 4.8500, 103_000),
    _lyon("69004", 45.7790, 4.8270, 35_000),
    _lyon("69005", 45.7590, 4.8020, 47_000),
    _lyon("69006", 45.7690, 4.8500, 51_000),
    _lyon("69007", 45.7330, 4.8400, 84_000),
    _lyon("69008", 45.7350, 4.8700, 86_000),
    _lyon("69009", 45.7740, 4.8050, 50_000),
    # Marseille, by arrondissement.
    _marseille("13001", 43.2999, 5.3841, 40_000),
    _marseille("13002", 43.3090, 5.3680, 25_000),
    _marseille("13003", 43.3120, 5.3800, 50_000),
    _marseille("13004", 43.3070, 5.4010, 49_000),
    _marseille("13005", 43.2920, 5.3970, 45_000),
    _marseille("13006", 43.2870, 5.3800, 43_000),
    _marseille("13007", 43.2830, 5.3600, 35_000),
    _marseille("13008", 43.2430, 5.3800, 81_000),
    _marseille("13009", 43.2500, 5.4400, 74_000),
    _marseille("13010", 43.2760, 5.4260, 56_000),
    _marseille("13011", 43.2880, 5.4830, 57_000),
    _marseille("13012", 43.3060, 5.4400, 64_000),
    _marseille("13013", 43.3490, 5.4330, 92_000),
    _marseille("13014", 43.3450, 5.3910, 63_000),
    _marseille("13015", 43.3590, 5.3640, 80_000),
    _marseille("13016", 43.3640, 5.3150, 16_000),
    # Other cities of metropolitan France.
    Place("Toulouse", "31000", 43.6045, 1.4440, 504_000),
    Place("Nice", "06000", 43.7034, 7.2663, 342_000),
    Place("Nantes", "44000", 47.2184, -1.5536, 320_000),
    Place("Montpellier", "34000", 43.6108, 3.8767, 299_000),
    Place("Strasbourg", "67000", 48.5734, 7.7521, 287_000),
    Place("Bordeaux", "33000", 44.8378, -0.5792, 260_000),
    Place("Lille", "59000", 50.6292, 3.0573, 236_000),
    Place("Rennes", "35000", 48.1173, -1.6778, 222_000),
    Place("Reims", "51100", 49.2583, 4.0317, 180_000),
    Place("Toulon", "83000", 43.1242, 5.9280, 180_000),
    Place("Saint-Étienne", "42000", 45.4397, 4.3872, 173_000),
    Place("Le Havre", "76600", 49.4944, 0.1079, 166_000),
    Place("Dijon", "21000", 47.3220, 5.0415, 159_000),
    Place("Grenoble", "38000", 45.1885, 5.7245, 158_000),
    Place("Angers", "49000", 47.4784, -0.5632, 157_000),
    Place("Villeurbanne", "69100", 45.7719, 4.8902, 150_000),
    Place("Nîmes", "30000", 43.8367, 4.3601, 148_000),
    Place("Clermont-Ferrand", "63000", 45.7772, 3.0870, 147_000),
    Place("Aix-en-Provence", "13100", 43.5297, 5.4474, 145_000),
    Place("Le Mans", "72000", 48.0061, 0.1996, 143_000),
    Place("Brest", "29200", 48.3904, -4.4861, 139_000),
    Place("Tours", "37000", 47.3941, 0.6848, 136_000),
    Place("Amiens", "80000", 49.8941, 2.2958, 133_000),
    Place("Limoges", "87000", 45.8336, 1.2611, 130_000),
    Place("Annecy", "74000", 45.8992, 6.1294, 130_000),
    Place("Boulogne-Billancourt", "92100", 48.8397, 2.2399, 121_000),
    Place("Metz", "57000", 49.1193, 6.1757, 120_000),
    Place("Perpignan", "66000", 42.6887, 2.8948, 119_000),
    Place("Besançon", "25000", 47.2378, 6.0241, 119_000),
    Place("Orléans", "45000", 47.9030, 1.9093, 116_000),
    Place("Rouen", "76000", 49.4432, 1.0999, 113_000),
    Place("Mulhouse", "68100", 47.7508, 7.3359, 108_000),
    Place("Caen", "14000", 49.1829, -0.3707, 106_000),
    Place("Nancy", "54000", 48.6921, 6.1844, 104_000),
    Place("Avignon", "84000", 43.9493, 4.8055, 91_000),
    Place("Poitiers", "86000", 46.5802, 0.3404, 89_000),
    Place("Versailles", "78000", 48.8049, 2.1204, 85_000),
    Place("La Rochelle", "17000", 46.1603, -1.1511, 77_000),
    Place("Pau", "64000", 43.2951, -0.3708, 77_000),
    Place("Ajaccio", "20000", 41.9192, 8.7386, 71_000),
    Place("Colmar", "68000", 48.0794, 7.3585, 68_000),
    Place("Quimper", "29000", 47.9960, -4.1024, 63_000),
    Place("Troyes", "10000", 48.2973, 4.0744, 61_000),
    Place("Chambéry", "73000", 45.5646, 5.9178, 60_000),
    Place("Lorient", "56100", 47.7483, -3.3700, 57_000),
    Place("Vannes", "56000", 47.6582, -2.7608, 54_000),
    Place("Bayonne", "64100", 43.4929, -1.4748, 52_000),
    Place("Saint-Malo", "35400", 48.6493, -2.0257, 46_000),
    Place("Biarritz", "64200", 43.4832, -1.5586, 25_000),
    # Overseas départements, in their own time zones.
    Place("Saint-Denis", "97400", -20.8823, 55.4504, 150_000, "Indian/Reunion"),
    Place("Saint-Pierre", "97410", -21.3393, 55.4781, 84_000, "Indian/Reunion"),
    Place("Fort-de-France", "97200", 14.6161, -61.0588, 76_000, "America/Martinique"),
    Place("Cayenne", "97300", 4.9224, -52.3135, 63_000, "America/Cayenne"),
    Place("Pointe-à-Pitre", "97110", 16.2411, -61.5331, 15_000, "America/Guadeloupe"),
)

#: The showcase practice's place: Paris 11e.
SHOWCASE_PLACE = next(place for place in PLACES if place.postcode == "75011")

_CUMULATIVE_POPULATION = tuple(accumulate(place.population for place in PLACES))

STREETS: tuple[str, ...] = (
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Gambetta",
    "rue Pasteur",
    "place de la Mairie",
    "avenue du Général de Gaulle",
    "rue de la Paix",
    "rue Nationale",
    "avenue de la Gare",
    "rue des Écoles",
    "rue du Moulin",
    "rue de l'Église",
    "rue Jules Ferry",
    "rue Émile Zola",
    "boulevard Voltaire",
    "rue Carnot",
    "avenue Foch",
    "rue des Lilas",
    "rue du Château",
    "rue Jean Moulin",
    "rue Anatole France",
    "avenue de la Libération",
    "rue du Maréchal Leclerc",
    "rue Gabriel Péri",
    "rue Léon Blum",
    "boulevard de la Liberté",
    "rue des Tilleuls",
    "rue de Verdun",
    "rue du Commerce",
    "place du Marché",
    "rue Saint-Michel",
    "rue Paul Bert",
    "avenue des Acacias",
    "rue Condorcet",
    "rue Diderot",
    "rue Montesquieu",
    "rue de la Fontaine",
    "quai des Tanneurs",
    "rue Lamartine",
    "rue Alsace-Lorraine",
    "rue du Docteur Roux",
    "rue Marie Curie",
    "rue Louise Michel",
    "avenue Aristide Briand",
    "rue Danton",
    "rue George Sand",
    "boulevard Pasteur",
    "rue des Jardins",
    "rue de la Poste",
)


def pick_place(rng: random.Random) -> Place:
    """A place, weighted by population: Paris, Lyon and Marseille get the most practices."""
    return rng.choices(PLACES, cum_weights=_CUMULATIVE_POPULATION)[0]


def street_address(rng: random.Random) -> str:
    number = rng.randint(1, 180)
    suffix = " bis" if rng.random() < 0.05 else ""
    return f"{number}{suffix} {rng.choice(STREETS)}"


def near(rng: random.Random, place: Place) -> tuple[float, float]:
    """A point a little way from the place's centre (a practice's plausible location)."""
    spread = place.spread_degrees
    latitude = place.latitude + rng.uniform(-spread, spread) * 0.7
    longitude = place.longitude + rng.uniform(-spread, spread)
    return round(latitude, 6), round(longitude, 6)
