"""Server-side text of the pages: one Babel message catalogue (``.po``) per language, keyed by
stable message ids (``search.title``) rather than by the English text, so that rewording one
language never orphans the other's translation.

The ``.po`` files are the committed source and are read with Babel when the app starts; there is
no compiled ``.mo`` in the repository or a compile step to forget. A key missing from a catalogue
raises: the tests render every page in both languages, so a missing key fails a test rather than
showing a raw id to a patient.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from babel.messages.pofile import read_po


class Language(enum.StrEnum):
    FR = "fr"
    EN = "en"


DEFAULT_LANGUAGE = Language.FR


class MissingMessage(KeyError):
    """A page asked for a message id that its language's catalogue does not hold."""


@cache
def catalogue(language: Language) -> Mapping[str, str]:
    path = (
        resources.files("colloque.web") / "locale" / language.value / "LC_MESSAGES" / "messages.po"
    )
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=language.value)
    messages: dict[str, str] = {}
    for message in parsed:
        if message.id and isinstance(message.id, str) and isinstance(message.string, str):
            messages[message.id] = message.string
    return messages


@dataclass(frozen=True, slots=True)
class Translator:
    language: Language

    def __call__(self, key: str, /, **values: object) -> str:
        try:
            text = catalogue(self.language)[key]
        except KeyError:
            raise MissingMessage(f"{key!r} is not in the {self.language} catalogue") from None
        if not text:
            raise MissingMessage(f"{key!r} is empty in the {self.language} catalogue")
        return text.format_map(values) if values else text


def pick_language(query_value: str | None, cookie_value: str | None) -> Language:
    """``?lang=`` first (a link a crawler can follow), then the ``lang`` cookie, then French."""
    for candidate in (query_value, cookie_value):
        if candidate in (Language.FR.value, Language.EN.value):
            return Language(candidate)
    return DEFAULT_LANGUAGE
