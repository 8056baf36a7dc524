"""The search answers' cache: kept for its seconds only, never when off, bounded in size."""

from __future__ import annotations

import pytest

from colloque.search import answers
from colloque.search.answers import AnswerCache, KeptAnswers


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_kept_for_its_seconds_only() -> None:
    ticks = Ticks()
    cache = AnswerCache(2.0, monotonic=ticks)
    built: list[str] = []

    def build(text: str) -> bytes:
        built.append(text)
        return text.encode()

    assert cache.get_or_build("q", lambda: build("first")) == b"first"
    ticks.now += 1.9
    assert cache.get_or_build("q", lambda: build("second")) == b"first"
    assert cache.get_or_build("other", lambda: build("other")) == b"other"
    ticks.now += 0.1
    assert cache.get_or_build("q", lambda: build("third")) == b"third"
    assert built == ["first", "other", "third"]


def test_off_builds_every_time() -> None:
    cache = AnswerCache(0.0, monotonic=Ticks())
    assert cache.get_or_build("q", lambda: b"a") == b"a"
    assert cache.get_or_build("q", lambda: b"b") == b"b"


def test_full_cache_forgets_the_expired_then_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "MAX_ANSWERS", 3)
    ticks = Ticks()
    cache = AnswerCache(5.0, monotonic=ticks)
    cache.get_or_build("old", lambda: b"old")
    ticks.now += 10
    cache.get_or_build("a", lambda: b"a")
    cache.get_or_build("b", lambda: b"b")
    cache.get_or_build("c", lambda: b"c")  # full: "old" expired and goes
    assert cache.get_or_build("a", lambda: b"rebuilt") == b"a"
    cache.get_or_build("d", lambda: b"d")  # full of fresh answers: all go
    assert cache.get_or_build("a", lambda: b"rebuilt") == b"rebuilt"


def test_kept_answers_push_out_the_least_recently_used() -> None:
    kept: KeptAnswers[str] = KeptAnswers(capacity=2)
    kept.keep("a", b"A", "proof a")
    kept.keep("b", b"B", "proof b")
    assert kept.get("a") == (b"A", "proof a")  # now the most recently used
    kept.keep("c", b"C", "proof c")
    assert kept.get("b") is None
    assert kept.get("a") == (b"A", "proof a")
    kept.keep("a", b"A2", "proof a2")  # kept again after a rebuild: replaced, not doubled
    assert kept.get("a") == (b"A2", "proof a2")
    assert kept.get("c") == (b"C", "proof c")
