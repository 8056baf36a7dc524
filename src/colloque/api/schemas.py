"""Shared pieces of request and response bodies. Binary values travel as base64url text.

Every request body derives from :class:`Body` and every query parameter of text, instant or day
uses the types below, so one mechanism holds each input rule for the whole API:

- text never holds a control character (NUL, line breaks, escapes) or a lone surrogate, which
  PostgreSQL refuses and logs would carry;
- instants and days are ISO 8601 text (a number is never read as a date or a timestamp) and lie
  within a static horizon, so that no later arithmetic overflows; services then hold instants to
  ``now`` plus or minus ten years (``scheduling.domain.check_horizon``).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

#: Instants and days the API accepts at all (agenda, bookings, waitlist, absences).
FIRST_YEAR = 2000
LAST_YEAR = 2200
#: Birth dates: from 1900; the services also refuse a day after today.
FIRST_BIRTH_YEAR = 1900


def _decode(value: object) -> object:
    if not isinstance(value, str):
        return value  # left to pydantic, which refuses anything but text and bytes
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64url text") from None


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


#: base64url text, unpadded or padded (what :func:`_decode` accepts, but for the odd padding).
B64_PATTERN = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$"

B64 = Annotated[
    bytes,
    BeforeValidator(_decode),
    PlainSerializer(b64, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "contentEncoding": "base64url",
            "format": "base64url",
            "pattern": B64_PATTERN,
            "description": "base64url (RFC 4648 section 5); padding optional",
        }
    ),
]


# --- text -------------------------------------------------------------------------------------


def has_control(text: str) -> bool:
    """True if the text holds a control character (Cc: NUL, tab, line breaks, DEL, C1) or a lone
    surrogate (Cs), which cannot be stored or encoded."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def _refuse_controls(value: Any) -> Any:
    """Text, or a list of texts, with no control character. Anything else is left to the field's
    own type (a nested body checks its own fields, so the error names the inner field)."""
    if isinstance(value, str):
        if has_control(value):
            raise ValueError("must not contain control characters")
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_controls(item)
    return value


#: Text in a query string: no control characters.
Text = Annotated[str, AfterValidator(_refuse_controls)]


# --- instants and days ------------------------------------------------------------------------

_DAY_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INSTANT_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_text(shape: re.Pattern[str], kind: type, example: str) -> Any:
    def check(value: object) -> object:
        if isinstance(value, kind):
            return value  # built in Python, not parsed from a request
        if not isinstance(value, str) or not shape.match(value):
            # Pydantic would read a number (or numeric text) as a Unix timestamp.
            raise ValueError(f"must be ISO 8601 text such as {example}")
        return value

    return BeforeValidator(check)


def _years(first: int, last: int) -> Any:
    def check(value: date) -> date:
        if not first <= value.year <= last:
            raise ValueError(f"must be in the years {first} to {last}")
        return value

    return AfterValidator(check)


#: An instant with its offset, ISO 8601 text, in the years 2000 to 2200.
Instant = Annotated[
    AwareDatetime,
    _iso_text(_INSTANT_SHAPE, datetime, "2027-01-04T09:30:00+01:00"),
    _years(FIRST_YEAR, LAST_YEAR),
]
#: A calendar day, ISO 8601 text, in the years 2000 to 2200.
Day = Annotated[date, _iso_text(_DAY_SHAPE, date, "2027-01-04"), _years(FIRST_YEAR, LAST_YEAR)]
#: A birth date, ISO 8601 text, from 1900 (the services refuse a day after today).
BirthDate = Annotated[
    date, _iso_text(_DAY_SHAPE, date, "1985-05-17"), _years(FIRST_BIRTH_YEAR, LAST_YEAR)
]

_INSTANT = TypeAdapter(Instant)
_DAY = TypeAdapter(Day)
_DAY_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _instant_or_day(value: object) -> datetime | date:
    """An :data:`Instant`, or a :data:`Day` when the text is a plain date and nothing more."""
    if isinstance(value, date):
        return value  # built in Python (a datetime is a date too), not parsed from a request
    is_day = isinstance(value, str) and _DAY_ONLY.fullmatch(value) is not None
    if not is_day and not (isinstance(value, str) and _INSTANT_SHAPE.match(value)):
        # Pydantic would read a number (or numeric text) as a Unix timestamp.
        raise ValueError("must be ISO 8601 text such as 2027-01-04T09:30:00+01:00 or 2027-01-04")
    adapter: TypeAdapter[Any] = _DAY if is_day else _INSTANT
    try:
        parsed: datetime | date = adapter.validate_python(value)
    except ValidationError as error:
        # The inner rule's message (shape, calendar, years), under this field's name.
        first = error.errors(include_url=False)[0]
        ours = first["type"] == "value_error"  # a rule above, else one of pydantic's parsers
        raise ValueError(str(first["ctx"]["error"]) if ours else first["msg"]) from None
    return parsed


#: A query bound that is either an instant with its offset (as :data:`Instant`) or a plain local
#: day (as :data:`Day`), which the service reads in the practice's time zone: a ``from`` day is
#: the day's first instant, an ``until`` day ends with it (the next day's first instant).
InstantOrDay = Annotated[
    datetime | date,
    PlainValidator(_instant_or_day),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ],
            "description": "an instant with its offset, or a local day in the practice's zone",
        }
    ),
]


# --- bodies -----------------------------------------------------------------------------------


class Body(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error, not a silent no-op, and
    refuse control characters in every text they hold, whatever the field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_controls(cls, value: Any, _info: ValidationInfo) -> Any:
        return _refuse_controls(value)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)
