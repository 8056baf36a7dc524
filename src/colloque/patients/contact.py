"""A practice patient's contact details, and what the desk types to find a patient.

Pure code: no I/O. Phone numbers are parsed by ``phonenumbers`` (Google's libphonenumber data),
read as French when they carry no country code, and kept in E.164 (``+33612345678``): any writing
of a number (``06 12 34 56 78``, ``06.12.34.56.78``, ``+33 6 12 34 56 78``, ``0033612345678``)
is then the same stored value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import phonenumbers

from colloque.errors import InvalidInput
from colloque.text import email_is_plausible, normalise_email, search_key

#: Numbers written without a country code are French: the practices are in France.
DEFAULT_REGION = "FR"
#: The fewest digits a partial number must have before the desk's search tries it.
MIN_PARTIAL_DIGITS = 4

_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_PHONE_LIKE = re.compile(r"\+?[\d\s.\-()/]+")


def normalise_phone(text: str) -> str:
    """The number in E.164, or InvalidInput naming ``phone``."""
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("phone is not a phone number", field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("phone is not a valid phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_contact_email(text: str) -> str:
    """The address lower-cased, or InvalidInput naming ``email``."""
    normalised = normalise_email(text)
    if not email_is_plausible(normalised):
        raise InvalidInput("email is not valid", field="email")
    return normalised


@dataclass(frozen=True, slots=True)
class ByName:
    """Every word must appear in the patient's ``name_key``."""

    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ByPhone:
    """A whole number (``exact``, E.164) or the digits of a partial one, found inside the stored
    E.164 (the national trunk ``0`` or the international ``00`` dropped)."""

    exact: str | None
    digits: str


@dataclass(frozen=True, slots=True)
class ByBirthDate:
    birth_date: date


PatientQuery = ByName | ByPhone | ByBirthDate


def parse_patient_query(query: str) -> PatientQuery:
    """What the desk typed: a birth date (``dd/mm/yyyy`` or ISO), a phone number (whole or its
    first digits), else words of a name. InvalidInput naming ``query`` when it says nothing."""
    text = query.strip()
    birth_date = _birth_date(text)
    if birth_date is not None:
        return ByBirthDate(birth_date)
    if _PHONE_LIKE.fullmatch(text):
        digits = "".join(ch for ch in text if ch.isdigit())
        partial = digits[2:] if digits.startswith("00") else digits.removeprefix("0")
        if len(partial) >= MIN_PARTIAL_DIGITS:
            return ByPhone(exact=_whole_number(text), digits=partial)
    terms = tuple(search_key(text).split())
    if not terms:
        raise InvalidInput("give part of a name, a phone number or a birth date", field="query")
    return ByName(terms)


def _birth_date(text: str) -> date | None:
    french = _FRENCH_DATE.fullmatch(text)
    iso = _ISO_DATE.fullmatch(text)
    if french is not None:
        day, month, year = (int(part) for part in french.groups())
    elif iso is not None:
        year, month, day = (int(part) for part in iso.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidInput("this birth date does not exist", field="query") from exc


def _whole_number(text: str) -> str | None:
    try:
        return normalise_phone(text)
    except InvalidInput:
        return None
