"""Identifiers: random (UUID version 4), never sequential, so they reveal neither counts nor order."""

from __future__ import annotations

import uuid


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def is_random(candidate: uuid.UUID) -> bool:
    """Whether a client-chosen id has the form of :func:`new_id`'s (UUID version 4)."""
    return candidate.version == 4 and candidate.variant == uuid.RFC_4122
