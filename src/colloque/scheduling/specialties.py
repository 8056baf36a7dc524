"""The reference list of specialties a practitioner can have."""

from __future__ import annotations

import enum


class Specialty(enum.StrEnum):
    GENERAL_PRACTICE = "general_practice"
    DENTISTRY = "dentistry"
    PAEDIATRICS = "paediatrics"
    GYNAECOLOGY = "gynaecology"
    MIDWIFERY = "midwifery"
    OPHTHALMOLOGY = "ophthalmology"
    DERMATOLOGY = "dermatology"
    PSYCHIATRY = "psychiatry"
    CARDIOLOGY = "cardiology"
    ENT = "ent"
    PHYSIOTHERAPY = "physiotherapy"
    RADIOLOGY = "radiology"
    ORTHODONTICS = "orthodontics"
    RHEUMATOLOGY = "rheumatology"
    ENDOCRINOLOGY = "endocrinology"
    GASTROENTEROLOGY = "gastroenterology"
    NEUROLOGY = "neurology"
    PSYCHOLOGY = "psychology"
    SPEECH_THERAPY = "speech_therapy"
    PODIATRY = "podiatry"


#: Display names, English and French. The API returns the code; clients localise.
SPECIALTY_LABELS: dict[Specialty, tuple[str, str]] = {
    Specialty.GENERAL_PRACTICE: ("General practice", "Médecine générale"),
    Specialty.DENTISTRY: ("Dentistry", "Chirurgie dentaire"),
    Specialty.PAEDIATRICS: ("Paediatrics", "Pédiatrie"),
    Specialty.GYNAECOLOGY: ("Gynaecology", "Gynécologie"),
    Specialty.MIDWIFERY: ("Midwifery", "Maïeutique (sage-femme)"),
    Specialty.OPHTHALMOLOGY: ("Ophthalmology", "Ophtalmologie"),
    Specialty.DERMATOLOGY: ("Dermatology", "Dermatologie"),
    Specialty.PSYCHIATRY: ("Psychiatry", "Psychiatrie"),
    Specialty.CARDIOLOGY: ("Cardiology", "Cardiologie"),
    Specialty.ENT: ("Ear, nose and throat", "ORL"),
    Specialty.PHYSIOTHERAPY: ("Physiotherapy", "Masso-kinésithérapie"),
    Specialty.RADIOLOGY: ("Radiology", "Radiologie"),
    Specialty.ORTHODONTICS: ("Orthodontics", "Orthodontie"),
    Specialty.RHEUMATOLOGY: ("Rheumatology", "Rhumatologie"),
    Specialty.ENDOCRINOLOGY: ("Endocrinology", "Endocrinologie"),
    Specialty.GASTROENTEROLOGY: ("Gastroenterology", "Gastro-entérologie"),
    Specialty.NEUROLOGY: ("Neurology", "Neurologie"),
    Specialty.PSYCHOLOGY: ("Psychology", "Psychologie"),
    Specialty.SPEECH_THERAPY: ("Speech therapy", "Orthophonie"),
    Specialty.PODIATRY: ("Podiatry", "Pédicurie-podologie"),
}

#: Languages a practitioner may declare, as ISO 639-1 codes.
LANGUAGES: frozenset[str] = frozenset(
    {
        "fr",
        "en",
        "de",
        "es",
        "it",
        "pt",
        "ar",
        "zh",
        "ru",
        "tr",
        "nl",
        "pl",
        "ro",
        "vi",
        "he",
        "ja",
        "ko",
        "hi",
        "bn",
        "uk",
        "el",
        "sv",
        "da",
        "fi",
        "no",
        "cs",
        "hu",
        "fa",
        "ta",
        "wo",
        "lb",
        "br",
        "eu",
        "ca",
        "oc",
        "co",
        "sq",
        "sr",
        "hr",
        "bg",
        "lt",
        "lv",
        "et",
        "sk",
        "sl",
    }
)
