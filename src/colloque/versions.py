"""Versions of editable objects, for optimistic concurrency (docs/scheduling.md, "versions").

A version is a short hash of the object's editable state, sent as its ``ETag`` and expected back
as ``If-Match`` on every edit or delete: an edit based on a state that has since changed is
refused, so that two admins never overwrite each other unseen. Hashing the state needs no column
and no migration, and an edit that changes nothing keeps the version.
"""

from __future__ import annotations

import hashlib
import hmac

from colloque.errors import PreconditionFailed


def version_of(*state: object) -> str:
    """``repr`` of ints, strings, booleans, None, UUIDs and dates is stable across processes."""
    return hashlib.sha256(repr(state).encode()).hexdigest()[:20]


def check_version(current: str, expected: str, *, what: str) -> None:
    if not hmac.compare_digest(current.encode(), expected.encode()):
        raise PreconditionFailed(
            f"the {what} changed since you read it: read it again, then retry", field="If-Match"
        )
