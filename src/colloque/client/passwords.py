"""The password policy every client applies before anything leaves the device.

The server never sees a password, so it cannot check one: this is where strength is enforced
(docs/accounts.md). At least 12 characters, up to 1024 (so 64 and more are fine), and not easy to
guess according to the zxcvbn estimator (score 3 of 4 at least). No forced periodic change.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

MIN_LENGTH = 12
MAX_LENGTH = 1024
MIN_SCORE = 3
#: zxcvbn refuses longer input; a longer password is judged on its first 72 characters.
_ESTIMATOR_MAX = 72


class WeakPassword(ValueError):
    """The password is refused; ``str()`` says why, ``suggestions`` how to do better."""

    def __init__(self, reason: str, suggestions: Iterable[str] = ()) -> None:
        super().__init__(reason)
        self.suggestions = tuple(suggestions)


def _context_words(user_inputs: Iterable[str]) -> list[str]:
    """The user's own words (address, name) that a password should not lean on."""
    words: list[str] = []
    for value in user_inputs:
        words.append(value)
        words.extend(part for part in re.split(r"[\s@._+-]+", value) if len(part) >= 3)
    return words


def check_password(password: str, *, user_inputs: Iterable[str] = ()) -> None:
    """Raise WeakPassword unless ``password`` meets the policy."""
    length = len(unicodedata.normalize("NFC", password))
    if length < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if length > MAX_LENGTH:
        raise WeakPassword(f"a password may have at most {MAX_LENGTH} characters")
    result = zxcvbn(password[:_ESTIMATOR_MAX], user_inputs=_context_words(user_inputs))
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        warning = feedback["warning"]
        reason = "this password is too easy to guess" + (f": {warning}" if warning else "")
        raise WeakPassword(reason, feedback["suggestions"])
