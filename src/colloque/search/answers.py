"""Search answers kept per server process: for a few seconds (:class:`AnswerCache`), or for as
long as a check against the database says they are still exact (:class:`KeptAnswers`).

The common search (a specialty in a large city) is asked many times a second with the same
parameters, and each answer costs a few queries and the building of a page of twenty results.
Kept for ``seconds``, an answer can be that old: a slot booked meanwhile may still be offered
(booking it then fails as taken, as it does when two patients race for it), and an opening added
appears that much later. Each process keeps its own answers, so the bound holds across workers
without them talking to each other. Off (``seconds`` of 0) unless the deployment sets
``COLLOQUE_SEARCH_ANSWER_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

#: Distinct queries kept at most (a page of twenty results is ~30 kB of JSON); past it the expired
#: ones go, then all if none had.
MAX_ANSWERS = 1_024

Proof = TypeVar("Proof")


class AnswerCache:
    def __init__(self, seconds: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._answers: dict[Hashable, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get_or_build(self, key: Hashable, build: Callable[[], bytes]) -> bytes:
        """The answer kept for ``key`` if younger than ``seconds``, else ``build()``'s, kept.

        Two requests that miss together both build: the lock only guards the dictionary, so a
        slow search never holds back the others."""
        if self.seconds <= 0:
            return build()
        now = self._monotonic()
        kept = self._answers.get(key)
        if kept is not None and now - kept[0] < self.seconds:
            return kept[1]
        answer = build()
        with self._lock:
            if len(self._answers) >= MAX_ANSWERS:
                self._forget_expired(now)
            self._answers[key] = (now, answer)
        return answer

    def _forget_expired(self, now: float) -> None:
        expired = [key for key, (at, _) in self._answers.items() if now - at >= self.seconds]
        for key in expired:
            del self._answers[key]
        if len(self._answers) >= MAX_ANSWERS:
            self._answers.clear()


class KeptAnswers(Generic[Proof]):
    """The last answer of each query with what it was built from, kept until it is found stale
    (by a check the caller makes) or pushed out by newer queries: the least recently used go first
    past ``capacity``. Unlike :class:`AnswerCache`, an answer served from here is never old: its
    proof is checked against the database at every use (``search.kept.check_kept``)."""

    def __init__(self, capacity: int = MAX_ANSWERS) -> None:
        self.capacity = capacity
        self._answers: OrderedDict[Hashable, tuple[bytes, Proof]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bytes, Proof] | None:
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None:
                self._answers.move_to_end(key)
            return kept

    def keep(self, key: Hashable, answer: bytes, proof: Proof) -> None:
        with self._lock:
            self._answers[key] = (answer, proof)
            self._answers.move_to_end(key)
            while len(self._answers) > self.capacity:
                self._answers.popitem(last=False)
