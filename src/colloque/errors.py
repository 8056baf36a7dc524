"""Domain errors. Each maps to one RFC 9457 problem type; the API layer renders them.

Messages are written for the person using the API and never contain personal data or secrets.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID


class ColloqueError(Exception):
    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(ColloqueError):
    """Also what a principal gets for an object that exists but is not theirs.

    ``counts_as_miss`` is False for a route the caller's role cannot use at all (a patient on a
    practice's staff URL): every id answers the same there, so it is no probing miss."""

    status = 404
    code = "not-found"
    title = "Not found"

    def __init__(self, detail: str, *, field: str | None = None, counts_as_miss: bool = True):
        super().__init__(detail, field=field)
        self.counts_as_miss = counts_as_miss


class Forbidden(ColloqueError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Unauthenticated(ColloqueError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class InvalidInput(ColloqueError):
    status = 422
    code = "invalid-input"
    title = "Invalid input"


class UnusableId(InvalidInput):
    """A client-chosen id that cannot be used: not random (UUID version 4), or already used,
    whoever used it. One answer for both, counted as a probing miss like a 404 (docs/threat-model.md,
    "Answers that tell nothing"): an id that exists in another practice tells nothing more than
    one that is malformed."""


class RuleViolation(ColloqueError):
    """A booking rule refused the request; ``rule`` names which one."""

    status = 422
    code = "rule-violation"
    title = "Booking rule not met"

    def __init__(self, detail: str, *, rule: str, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.rule = rule


class SlotTaken(ColloqueError):
    status = 409
    code = "slot-taken"
    title = "Slot just taken"


class Conflict(ColloqueError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Duplicate(Conflict):
    """The same thing exists already; ``existing_id`` names it, so the client can use it."""

    code = "duplicate"
    title = "Already exists"

    def __init__(self, detail: str, *, existing_id: UUID, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.existing_id = existing_id


class AppointmentsAffected(Conflict):
    """Time off would close time that booked (or held) appointments occupy, and the request did
    not confirm cancelling exactly these: ``appointments`` lists them (ids and start times, in
    the practice's zone), so that the client can show them and confirm."""

    code = "appointments-affected"
    title = "Appointments are booked in this time"

    def __init__(
        self, detail: str, *, appointments: list[tuple[UUID, datetime]], field: str | None = None
    ) -> None:
        super().__init__(detail, field=field)
        self.appointments = appointments


class PreconditionRequired(ColloqueError):
    """An edit or a delete came without the version (``If-Match``) it was based on."""

    status = 428
    code = "precondition-required"
    title = "Precondition required"


class PreconditionFailed(ColloqueError):
    """The object changed since the client read it: its version no longer matches ``If-Match``."""

    status = 412
    code = "precondition-failed"
    title = "Precondition failed"


class Busy(ColloqueError):
    """The transaction lost to a concurrent one (a deadlock, a serialisation failure) and was
    rolled back whole: nothing was written, and the same request sent again should succeed."""

    status = 503
    code = "busy"
    title = "Busy, try again"
    retry_after = 1


class TooLarge(ColloqueError):
    status = 413
    code = "too-large"
    title = "Content too large"
