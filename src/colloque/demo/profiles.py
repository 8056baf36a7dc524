"""What each specialty looks like in the demo: how common it is, its visit types, its grid."""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate

from colloque.scheduling.domain import PatientKind, VisitMode
from colloque.scheduling.specialties import Specialty

ANY = PatientKind.ANY
NEW = PatientKind.NEW_ONLY
KNOWN = PatientKind.KNOWN_ONLY
VIDEO = VisitMode.VIDEO
IN_PERSON = VisitMode.IN_PERSON


@dataclass(frozen=True, slots=True)
class VisitTemplate:
    label: str
    #: Durations in minutes; one is picked per practitioner.
    durations: tuple[int, ...]
    patient_kind: PatientKind = ANY
    mode: VisitMode = IN_PERSON
    online_bookable: bool = True
    #: How often this visit type is booked, relative to the practitioner's others.
    weight: float = 1.0


def _v(
    label: str,
    *durations: int,
    kind: PatientKind = ANY,
    mode: VisitMode = IN_PERSON,
    online: bool = True,
    weight: float = 1.0,
) -> VisitTemplate:
    return VisitTemplate(label, durations, kind, mode, online, weight)


@dataclass(frozen=True, slots=True)
class SpecialtyProfile:
    specialty: Specialty
    #: Relative number of practitioners of this specialty.
    weight: float
    #: Slot steps (minutes) practitioners of this specialty use.
    steps: tuple[int, ...]
    #: Always offered.
    core: VisitTemplate
    #: One to three of these are added.
    extras: tuple[VisitTemplate, ...]
    #: Share of practitioners who also see patients on Saturday mornings.
    saturday_share: float = 0.2


_URGENT = _v("Urgence", 15, online=False, weight=0.5)

PROFILES: tuple[SpecialtyProfile, ...] = (
    SpecialtyProfile(
        Specialty.GENERAL_PRACTICE,
        30,
        (10, 15, 20),
        _v("Consultation", 15, 20, weight=10),
        (
            _v("Première consultation", 30, kind=NEW, weight=2),
            _v("Suivi", 15, kind=KNOWN, weight=3),
            _v("Téléconsultation", 15, mode=VIDEO, weight=2),
            _v("Renouvellement d'ordonnance", 10, 15, kind=KNOWN, weight=2),
            _v("Certificat médical de sport", 15),
            _URGENT,
        ),
        saturday_share=0.35,
    ),
    SpecialtyProfile(
        Specialty.DENTISTRY,
        12,
        (15, 30),
        _v("Consultation de contrôle", 30, weight=5),
        (
            _v("Première consultation", 30, kind=NEW, weight=2),
            _v("Détartrage", 30, weight=3),
            _v("Soins dentaires", 45, kind=KNOWN, weight=3),
            _v("Urgence dentaire", 30, online=False, weight=0.5),
        ),
        saturday_share=0.25,
    ),
    SpecialtyProfile(
        Specialty.PHYSIOTHERAPY,
        15,
        (15, 30),
        _v("Séance de kinésithérapie", 30, weight=8),
        (
            _v("Bilan kinésithérapique", 45, kind=NEW, weight=2),
            _v("Rééducation post-opératoire", 45, kind=KNOWN, weight=2),
            _v("Kinésithérapie respiratoire", 30),
        ),
        saturday_share=0.3,
    ),
    SpecialtyProfile(
        Specialty.PAEDIATRICS,
        3,
        (15, 20, 30),
        _v("Consultation pédiatrique", 20, 30, weight=6),
        (
            _v("Vaccination", 15, weight=2),
            _v("Suivi du nourrisson", 30, kind=KNOWN, weight=2),
            _v("Première consultation", 30, kind=NEW),
            _v("Téléconsultation", 20, mode=VIDEO),
        ),
        saturday_share=0.3,
    ),
    SpecialtyProfile(
        Specialty.GYNAECOLOGY,
        3,
        (15, 20, 30),
        _v("Consultation gynécologique", 20, 30, weight=5),
        (
            _v("Suivi de grossesse", 30, kind=KNOWN, weight=2),
            _v("Première consultation", 30, kind=NEW),
            _v("Frottis de dépistage", 20),
            _v("Pose de stérilet", 30, kind=KNOWN, weight=0.5),
        ),
    ),
    SpecialtyProfile(
        Specialty.MIDWIFERY,
        5,
        (15, 30),
        _v("Consultation", 30, weight=4),
        (
            _v("Suivi de grossesse", 30, weight=3),
            _v("Préparation à la naissance", 60, weight=2),
            _v("Rééducation du périnée", 30, kind=KNOWN, weight=2),
            _v("Téléconsultation", 20, mode=VIDEO),
        ),
    ),
    SpecialtyProfile(
        Specialty.OPHTHALMOLOGY,
        3,
        (10, 15, 20),
        _v("Consultation ophtalmologique", 20, weight=5),
        (
            _v("Première consultation", 30, kind=NEW, weight=2),
            _v("Renouvellement de lunettes", 15, weight=3),
            _v("Fond d'œil", 20),
            _v("Urgence ophtalmologique", 15, online=False, weight=0.5),
        ),
    ),
    SpecialtyProfile(
        Specialty.DERMATOLOGY,
        2,
        (15, 20),
        _v("Consultation dermatologique", 20, weight=5),
        (
            _v("Dépistage des grains de beauté", 20, weight=2),
            _v("Première consultation", 30, kind=NEW),
            _v("Téléconsultation", 15, mode=VIDEO),
        ),
    ),
    SpecialtyProfile(
        Specialty.PSYCHIATRY,
        3,
        (15, 30),
        _v("Consultation", 30, 45, weight=5),
        (
            _v("Première consultation", 60, kind=NEW),
            _v("Suivi", 30, kind=KNOWN, weight=3),
            _v("Téléconsultation", 30, mode=VIDEO, weight=2),
        ),
        saturday_share=0.05,
    ),
    SpecialtyProfile(
        Specialty.CARDIOLOGY,
        2,
        (15, 20, 30),
        _v("Consultation de cardiologie", 30, weight=5),
        (
            _v("Électrocardiogramme", 20, weight=2),
            _v("Échographie cardiaque", 30, weight=2),
            _v("Première consultation", 45, kind=NEW),
        ),
    ),
    SpecialtyProfile(
        Specialty.ENT,
        1.5,
        (15, 20),
        _v("Consultation ORL", 20, weight=5),
        (
            _v("Audiogramme", 30, weight=2),
            _v("Première consultation", 30, kind=NEW),
            _v("Urgence ORL", 15, online=False, weight=0.5),
        ),
    ),
    SpecialtyProfile(
        Specialty.RADIOLOGY,
        2,
        (10, 15, 20),
        _v("Radiographie", 15, weight=5),
        (
            _v("Échographie", 20, 30, weight=4),
            _v("Mammographie", 30, weight=2),
            _v("Scanner", 20, weight=2),
        ),
        saturday_share=0.4,
    ),
    SpecialtyProfile(
        Specialty.ORTHODONTICS,
        1,
        (15, 30),
        _v("Consultation d'orthodontie", 30, weight=4),
        (
            _v("Première consultation", 45, kind=NEW),
            _v("Contrôle d'appareil", 15, kind=KNOWN, weight=4),
        ),
        saturday_share=0.3,
    ),
    SpecialtyProfile(
        Specialty.RHEUMATOLOGY,
        1,
        (15, 30),
        _v("Consultation de rhumatologie", 30, weight=5),
        (
            _v("Première consultation", 45, kind=NEW),
            _v("Infiltration", 20, kind=KNOWN),
            _v("Téléconsultation", 20, mode=VIDEO),
        ),
        saturday_share=0.05,
    ),
    SpecialtyProfile(
        Specialty.ENDOCRINOLOGY,
        0.8,
        (15, 30),
        _v("Consultation d'endocrinologie", 30, weight=5),
        (
            _v("Première consultation", 45, kind=NEW),
            _v("Suivi du diabète", 30, kind=KNOWN, weight=3),
            _v("Téléconsultation", 20, mode=VIDEO),
        ),
        saturday_share=0.05,
    ),
    SpecialtyProfile(
        Specialty.GASTROENTEROLOGY,
        1,
        (15, 30),
        _v("Consultation de gastro-entérologie", 30, weight=5),
        (
            _v("Première consultation", 45, kind=NEW),
            _v("Consultation avant coloscopie", 20, weight=2),
            _v("Téléconsultation", 20, mode=VIDEO),
        ),
        saturday_share=0.05,
    ),
    SpecialtyProfile(
        Specialty.NEUROLOGY,
        1,
        (15, 30),
        _v("Consultation de neurologie", 30, 45, weight=5),
        (
            _v("Première consultation", 60, kind=NEW),
            _v("Électromyogramme", 45),
            _v("Téléconsultation", 30, mode=VIDEO),
        ),
        saturday_share=0.05,
    ),
    SpecialtyProfile(
        Specialty.PSYCHOLOGY,
        6,
        (15, 30),
        _v("Séance de psychothérapie", 45, 60, weight=6),
        (
            _v("Premier entretien", 60, kind=NEW),
            _v("Téléconsultation", 45, mode=VIDEO, weight=2),
            _v("Séance enfant et adolescent", 45),
        ),
        saturday_share=0.3,
    ),
    SpecialtyProfile(
        Specialty.SPEECH_THERAPY,
        5,
        (15, 30),
        _v("Séance d'orthophonie", 30, 45, weight=6),
        (
            _v("Bilan orthophonique", 60, kind=NEW),
            _v("Téléséance", 30, mode=VIDEO),
        ),
    ),
    SpecialtyProfile(
        Specialty.PODIATRY,
        3,
        (15, 30),
        _v("Soins de pédicurie", 30, weight=5),
        (
            _v("Bilan podologique", 45),
            _v("Semelles orthopédiques", 30, weight=2),
        ),
        saturday_share=0.3,
    ),
)

PROFILE_BY_SPECIALTY: dict[Specialty, SpecialtyProfile] = {p.specialty: p for p in PROFILES}
_CUMULATIVE_WEIGHTS = tuple(accumulate(p.weight for p in PROFILES))

#: Languages practitioners add to French, most common first, with their relative weight.
EXTRA_LANGUAGES: tuple[tuple[str, float], ...] = (
    ("en", 50),
    ("es", 12),
    ("de", 8),
    ("it", 7),
    ("ar", 8),
    ("pt", 5),
    ("ro", 2),
    ("ru", 2),
    ("zh", 2),
    ("vi", 1),
    ("tr", 1),
    ("pl", 1),
    ("wo", 1),
)
_LANGUAGE_CODES = tuple(code for code, _ in EXTRA_LANGUAGES)
_LANGUAGE_WEIGHTS = tuple(accumulate(w for _, w in EXTRA_LANGUAGES))


def pick_profile(rng: random.Random) -> SpecialtyProfile:
    return rng.choices(PROFILES, cum_weights=_CUMULATIVE_WEIGHTS)[0]


def pick_languages(rng: random.Random) -> list[str]:
    """French always; about a third also speak one or two other languages."""
    codes = ["fr"]
    if rng.random() < 0.35:
        for _ in range(1 if rng.random() < 0.75 else 2):
            code = rng.choices(_LANGUAGE_CODES, cum_weights=_LANGUAGE_WEIGHTS)[0]
            if code not in codes:
                codes.append(code)
    return codes


def pick_visit_templates(rng: random.Random, profile: SpecialtyProfile) -> list[VisitTemplate]:
    """Two to four visit types: the core one plus some extras, in the profile's order."""
    count = min(len(profile.extras), rng.choice((1, 2, 2, 3)))
    chosen = set(rng.sample(range(len(profile.extras)), count))
    return [profile.core, *(t for i, t in enumerate(profile.extras) if i in chosen)]
