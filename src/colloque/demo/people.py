"""French first and last names for demo people, and the titles practitioners go by."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from colloque.scheduling.specialties import Specialty


class Sex(enum.Enum):
    FEMALE = "F"
    MALE = "M"


# fmt: off
FEMALE_FIRST_NAMES: tuple[str, ...] = (
    "Jade", "Louise", "Emma", "Alice", "Ambre", "Lina", "Rose", "Chloé", "Mia", "Léa",
    "Anna", "Inès", "Julia", "Mila", "Léna", "Lou", "Agathe", "Juliette", "Iris", "Zoé",
    "Manon", "Camille", "Sarah", "Clara", "Eva", "Romane", "Margaux", "Nina", "Charlotte", "Victoire",
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Christine", "Sandrine", "Valérie", "Véronique", "Stéphanie",
    "Céline", "Aurélie", "Émilie", "Julie", "Laure", "Hélène", "Caroline", "Sophie", "Claire", "Anne",
    "Françoise", "Monique", "Jacqueline", "Martine", "Nicole", "Brigitte", "Danielle", "Chantal", "Michèle", "Josiane",
    "Élodie", "Audrey", "Pauline", "Mathilde", "Lucie", "Marion", "Laura", "Océane", "Anaïs", "Morgane",
    "Fatima", "Yasmine", "Nadia", "Samira", "Amina", "Leïla", "Aïcha", "Sofia", "Mariam", "Salomé",
    "Élise", "Gabrielle", "Adèle", "Capucine", "Apolline", "Héloïse", "Joséphine", "Madeleine", "Odile", "Solène",
    "Bérénice", "Cécile", "Delphine", "Estelle", "Florence", "Géraldine", "Ingrid", "Karine", "Laetitia", "Murielle",
)

MALE_FIRST_NAMES: tuple[str, ...] = (
    "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules", "Maël", "Adam", "Lucas", "Hugo",
    "Noah", "Sacha", "Gabin", "Paul", "Liam", "Aaron", "Nathan", "Tom", "Mohamed", "Éden",
    "Théo", "Noé", "Timéo", "Malo", "Martin", "Victor", "Axel", "Ethan", "Léon", "Marius",
    "Jean", "Pierre", "Michel", "Philippe", "Alain", "Nicolas", "Christophe", "Patrick", "Daniel", "Bernard",
    "Frédéric", "Laurent", "Stéphane", "Olivier", "Éric", "Thierry", "Sébastien", "David", "Julien", "Pascal",
    "François", "Jacques", "Gérard", "André", "Claude", "René", "Henri", "Marcel", "Yves", "Roger",
    "Antoine", "Mathieu", "Guillaume", "Vincent", "Maxime", "Alexandre", "Romain", "Thomas", "Benoît", "Jérôme",
    "Karim", "Yanis", "Rayan", "Bilal", "Mehdi", "Samir", "Youssef", "Amine", "Ibrahima", "Moussa",
    "Baptiste", "Clément", "Damien", "Fabien", "Grégoire", "Hervé", "Lionel", "Mickaël", "Quentin", "Rémi",
    "Sylvain", "Tristan", "Xavier", "Yann", "Aurélien", "Bastien", "Cyril", "Denis", "Florian", "Gilles",
)

LAST_NAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
    "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
    "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
    "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte",
    "Lopez", "Jean", "Dupuy", "Guillot", "Hubert", "Berger", "Carpentier", "Sanchez", "Dupuis", "Moulin",
    "Louis", "Deschamps", "Huet", "Vasseur", "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet",
    "Adam", "Paris", "Poirier", "Marty", "Aubry", "Guyot", "Carré", "Charles", "Renault", "Charpentier",
    "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Schneider", "Fernandez", "Le Gall", "Collet",
    "Léger", "Bouvier", "Julien", "Prévost", "Millet", "Perrot", "Daniel", "Le Roux", "Cousin", "Germain",
    "Breton", "Besson", "Langlois", "Rémy", "Le Goff", "Pelletier", "Lévêque", "Perrier", "Leblanc", "Barré",
    "Lebrun", "Marchal", "Weber", "Mallet", "Hamon", "Boulanger", "Jacob", "Monnier", "Michaud", "Rodriguez",
    "Guichard", "Gillet", "Étienne", "Grondin", "Poulain", "Tessier", "Chevallier", "Collin", "Chauvin", "Da Silva",
    "Bouchet", "Gay", "Lemaître", "Bénard", "Maréchal", "Humbert", "Reynaud", "Antoine", "Hoarau", "Perret",
    "Barthélemy", "Cordier", "Pichon", "Lejeune", "Gilbert", "Lamy", "Delaunay", "Pasquier", "Carlier", "Laporte",
    "Nguyen", "Tran", "Benali", "Haddad", "Diallo", "Traoré", "Mendy", "Martins", "Ferreira", "Rossi",
    "Bianchi", "Cohen", "Lévy", "Ben Ahmed", "Kaci", "Mansouri", "Öztürk", "Kowalski", "Dos Santos", "Camara",
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str
    last_name: str
    sex: Sex


#: The first names lists start with this many names given to today's children.
MODERN_NAMES = 30


def random_person(rng: random.Random, *, age: int, last_name: str | None = None) -> Person:
    sex = Sex.FEMALE if rng.random() < 0.5 else Sex.MALE
    return Person(
        first_name=random_first_name(rng, sex, age=age),
        last_name=last_name or rng.choice(LAST_NAMES),
        sex=sex,
    )


def random_first_name(rng: random.Random, sex: Sex, *, age: int) -> str:
    """Children and young adults mostly have today's names; their elders do not."""
    names = FEMALE_FIRST_NAMES if sex is Sex.FEMALE else MALE_FIRST_NAMES
    if age < 25 and rng.random() < 0.8:
        return rng.choice(names[:MODERN_NAMES])
    return rng.choice(names[MODERN_NAMES:])


#: Physicians and dentists are addressed as "Dr"; physiotherapists, midwives, psychologists,
#: speech therapists and podiatrists have no title.
_UNTITLED = frozenset(
    {
        Specialty.PHYSIOTHERAPY,
        Specialty.MIDWIFERY,
        Specialty.PSYCHOLOGY,
        Specialty.SPEECH_THERAPY,
        Specialty.PODIATRY,
    }
)


def title_for(specialty: Specialty) -> str:
    return "" if specialty in _UNTITLED else "Dr"


def display_name(title: str, first_name: str, last_name: str) -> str:
    return f"{title} {first_name} {last_name}" if title else f"{first_name} {last_name}"
