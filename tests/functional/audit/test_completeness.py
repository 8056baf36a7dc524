"""Completeness of the audit log, driven from the OpenAPI document.

Every operation of the API is in one of two tables:

- ``PERSONAL``: it answers personal data. Its scenario sends it (as a role that may, on a target of
  the authorization matrix's scene) and checks that the audit events of that request (found by its
  ``X-Request-ID``; a read writes exactly one) name *exactly* the objects of the answer: every
  appointment, patient, sealed item, waitlist entry and offer, invitation, operator grant, outbox
  pause and message the answer carries, and the patient of each appointment and item it shows (the
  answer may show a patient by name only).
- ``NO_PERSONAL_DATA``: it answers none, with the reason.

A new operation in neither fails ``test_every_operation_is_classified`` with what to add. The
requests are built by the matrix's builders (``tests/functional/authorization/test_matrix.py``)
on its scene, with a few objects added here so that the answers are not empty.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from colloque.accounts.models import KeyBundleRow
from colloque.api.app import create_app
from colloque.audit.models import AuditEvent
from colloque.audit.objects import ObjectKind, unpack
from colloque.booking.models import Appointment
from colloque.config import Settings
from colloque.notifications.models import OutboxMessage, OutboxPause
from colloque.notifications.rendering import reference_code
from colloque.records.documents import blob_key
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.records.threads import _context
from colloque.storage.blobs import FilesystemBlobStore
from colloque.storage.engine import Database
from tests.functional.authorization.scene import Mode, Target
from tests.functional.authorization.test_matrix import (
    AGENDA,
    APPOINTMENT,
    MATRIX,
    MY_RECORDS,
    PRACTICE,
    RECORDS,
    Answer,
    Builder,
    Call,
    Matrix,
    MatrixScene,
    matrix,
    operations,
)

__all__ = ["matrix"]  # the matrix's module-scoped fixture, one scene per database

#: The kinds an answer is compared on (an answer's account ids are staff and holders, not
#: compared: the events may name them).
COMPARED = frozenset(
    {
        ObjectKind.APPOINTMENT,
        ObjectKind.PATIENT,
        ObjectKind.ITEM,
        ObjectKind.WAITLIST_ENTRY,
        ObjectKind.WAITLIST_OFFER,
        ObjectKind.INVITATION,
        ObjectKind.OPERATOR_GRANT,
        ObjectKind.OUTBOX_PAUSE,
        ObjectKind.NOTIFICATION,
    }
)
#: Which key of an answer holds which kind of id.
ID_KEYS: Mapping[str, ObjectKind] = {
    "appointment_id": ObjectKind.APPOINTMENT,
    "patient_id": ObjectKind.PATIENT,
    "item_id": ObjectKind.ITEM,
    "entry_id": ObjectKind.WAITLIST_ENTRY,
    "offer_id": ObjectKind.WAITLIST_OFFER,
    "invitation_id": ObjectKind.INVITATION,
    "grant_id": ObjectKind.OPERATOR_GRANT,
    "pause_id": ObjectKind.OUTBOX_PAUSE,
    "message_id": ObjectKind.NOTIFICATION,
}
#: An inbox names its messages by reference (the first bytes of their ids), not by id.
REFERENCE = "reference"

Refs = dict[ObjectKind, set[UUID]]


# --- what an answer shows --------------------------------------------------------------------


def ids_in(value: object, found: Refs, references: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            kind = ID_KEYS.get(key)
            if kind is not None and isinstance(item, str):
                found.setdefault(kind, set()).add(UUID(item))
            elif key == REFERENCE and isinstance(item, str):
                references.add(item)
            else:
                ids_in(item, found, references)
    elif isinstance(value, list):
        for item in value:
            ids_in(item, found, references)


def shown(db: Database, answer: Answer, extra: Refs) -> tuple[Refs, set[str]]:
    """The objects an answer shows, with the patient of each appointment and item in it."""
    found: Refs = {kind: set(ids) for kind, ids in extra.items()}
    references: set[str] = set()
    if answer.headers.get("content-type", "").startswith("application/json"):
        ids_in(json.loads(answer.content), found, references)
    with db.read() as session:
        appointments = found.get(ObjectKind.APPOINTMENT, set())
        items = found.get(ObjectKind.ITEM, set())
        patients = set(
            session.scalars(
                select(Appointment.patient_id).where(Appointment.appointment_id.in_(appointments))
            )
        ) | set(
            session.scalars(
                select(SealedItemRow.patient_id).where(SealedItemRow.item_id.in_(items))
            )
        )
    if patients:
        found.setdefault(ObjectKind.PATIENT, set()).update(patients)
    return found, references


def named(db: Database, request_id: str) -> tuple[int, Refs]:
    """How many events a request wrote, and everything they name."""
    with db.read() as session:
        packed = list(
            session.scalars(select(AuditEvent.objects).where(AuditEvent.request_id == request_id))
        )
    refs: Refs = {}
    for objects in packed:
        for kind, ids in unpack(objects or b"").items():
            refs.setdefault(kind, set()).update(ids)
    return len(packed), refs


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    """Who sends the operation, on which target of the scene (a mutation on a fresh object).
    ``build`` replaces the matrix's builder; ``extra`` names what the answer shows outside its
    JSON (a document's content: the document in its path)."""

    role: str
    target: str = "here"
    mode: Mode = Mode.STATIC
    build: Builder | None = None
    extra: Callable[[Call], Refs] | None = None


def fresh(role: str, target: str = "here") -> Scenario:
    return Scenario(role, target, Mode.FRESH)


def preview_over_an_appointment(s: MatrixScene, _t: Target) -> Call:
    """Time off over the day of an appointment of its own, which the preview must list."""
    ref = s.appointment(Target("theirs", Mode.FRESH))
    with s.db.read() as session:
        starts_at = session.scalar(
            select(Appointment.starts_at).where(Appointment.appointment_id == ref.id)
        )
    assert starts_at is not None
    day = starts_at.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    site = s.sites["A"]
    path = f"{P}/{site.practice_id}/practitioners/{site.practitioner_id}/overrides/preview"
    return Call(path, json={"kind": "holiday", "first_day": day, "last_day": day})


def pauses_with_one_open(s: MatrixScene, _t: Target) -> Call:
    practice_id = s.sites["A"].practice_id
    with s.db.write() as session:
        pause_id = uuid.uuid4()
        session.add(
            OutboxPause(
                practice_id=practice_id,
                pause_id=pause_id,
                principal_account_id=s.principal("secretary").account_id,
                scope_key=str(pause_id),
                status="open",
                tripped_at=s.now,
            )
        )
    return Call(f"{P}/{practice_id}/outbox/pauses", params={"all": "true"})


def holder_reference(s: MatrixScene, _t: Target) -> Call:
    with s.db.read() as session:
        message_id = session.scalar(
            select(OutboxMessage.message_id).where(
                OutboxMessage.recipient_account_id == s.principal("holder").account_id
            )
        )
    assert message_id is not None
    return Call(f"/api/v1/me/notifications/{reference_code(message_id)}")


def document_content(own: bool) -> Builder:
    def build(s: MatrixScene, _t: Target) -> Call:
        practice_id = s.sites["A"].practice_id
        patient_id = s.main_patient["holder"] if own else s.sites["A"].desk_patient_id
        document_id = _items(s)[(patient_id, "document")]
        if own:
            return Call(
                f"/api/v1/me/patients/{patient_id}/practices/{practice_id}/documents/"
                f"{document_id}/content"
            )
        return Call(f"{P}/{practice_id}/patients/{patient_id}/documents/{document_id}/content")

    return build


def document_in_path(call: Call) -> Refs:
    return {ObjectKind.ITEM: {UUID(call.path.split("/")[-2])}}


def patient_in_path(call: Call) -> Refs:
    """The answer is about the patient its path names (whom it links to an account)."""
    parts = call.path.split("/")
    return {ObjectKind.PATIENT: {UUID(parts[parts.index("patients") + 1])}}


P = "/api/v1/practices"
STAFF = "secretary"

#: Every operation that answers personal data, and how to send it.
PERSONAL: dict[tuple[str, str], Scenario] = {
    ("POST", AGENDA + "/overrides/preview"): Scenario(STAFF, build=preview_over_an_appointment),
    ("POST", "/api/v1/appointments"): fresh("holder", "mine"),
    ("POST", PRACTICE + "/appointments"): fresh(STAFF),
    ("GET", "/api/v1/me/appointments"): Scenario("holder"),
    ("GET", APPOINTMENT): Scenario(STAFF, "mine"),
    ("POST", APPOINTMENT + "/cancel"): fresh("holder", "mine"),
    ("POST", APPOINTMENT + "/reschedule"): fresh(STAFF, "theirs"),
    ("POST", APPOINTMENT + "/mark"): fresh(STAFF, "mine"),
    ("GET", PRACTICE + "/agenda"): Scenario(STAFF),
    ("GET", "/api/v1/me/patients"): Scenario("holder"),
    ("POST", "/api/v1/me/patients"): Scenario("holder"),
    ("PUT", "/api/v1/me/patients/{patient_id}"): fresh("holder", "mine"),
    ("POST", PRACTICE + "/patients"): fresh(STAFF),
    ("GET", PRACTICE + "/patients"): Scenario(STAFF),
    ("GET", RECORDS): Scenario(STAFF),
    ("PATCH", RECORDS): Scenario(STAFF),
    ("POST", "/api/v1/waitlist"): fresh("holder", "mine"),
    ("GET", "/api/v1/me/waitlist"): Scenario("holder"),
    ("DELETE", PRACTICE + "/waitlist/{entry_id}"): fresh("holder", "mine"),
    ("POST", PRACTICE + "/waitlist-offers/{offer_id}/decision"): fresh("holder", "mine"),
    ("POST", PRACTICE + "/invitations"): fresh("admin"),
    ("GET", PRACTICE + "/invitations"): Scenario("admin"),
    ("POST", PRACTICE + "/operator-grants"): fresh("admin"),
    ("GET", PRACTICE + "/operator-grants"): Scenario("admin"),
    ("DELETE", PRACTICE + "/operator-grants/{grant_id}"): fresh("admin"),
    ("GET", PRACTICE + "/outbox/failed"): Scenario("admin"),
    ("GET", PRACTICE + "/outbox/pauses"): Scenario("admin", build=pauses_with_one_open),
    ("POST", PRACTICE + "/outbox/pauses/{pause_id}/release"): fresh("admin"),
    ("POST", PRACTICE + "/outbox/pauses/{pause_id}/discard"): fresh("admin"),
    ("GET", "/api/v1/me/notifications"): Scenario("holder"),
    ("GET", "/api/v1/me/notifications/{reference}"): Scenario("holder", build=holder_reference),
    ("GET", "/api/v1/me/access-history"): Scenario("holder", "mine"),
    ("GET", RECORDS + "/notes"): Scenario("practitioner"),
    ("GET", MY_RECORDS + "/notes"): Scenario("holder", "mine"),
    ("GET", RECORDS + "/messages"): Scenario(STAFF),
    ("GET", MY_RECORDS + "/messages"): Scenario("holder", "mine"),
    ("GET", PRACTICE + "/item-key-wraps/stale"): Scenario(STAFF),
    ("GET", RECORDS + "/reshare"): Scenario(STAFF),
    ("GET", RECORDS + "/recipients"): Scenario(STAFF, extra=patient_in_path),
    ("GET", RECORDS + "/documents"): Scenario("practitioner"),
    ("GET", MY_RECORDS + "/documents"): Scenario("holder", "mine"),
    ("GET", RECORDS + "/documents/{document_id}/content"): Scenario(
        "practitioner", build=document_content(own=False), extra=document_in_path
    ),
    ("GET", MY_RECORDS + "/documents/{document_id}/content"): Scenario(
        "holder", build=document_content(own=True), extra=document_in_path
    ),
}

_PUBLIC = "public data: a practice, its practitioners and their opening hours (not audited)"
_SETTINGS = "the practice's agenda settings: no person in them"
_OWN_ACCOUNT = "the caller's own account and sign-in state, not a patient's or a colleague's data"
_KEYS = (
    "public keys (published in the key directory's log), key wraps and signed statements: keys "
    "and account ids, no personal data"
)
_NOTHING_SHOWN = "answers only an id, a count or a status, never another person's data"
_SEALED_WRITE = (
    "answers the id of the item the caller just sealed; the write's event names it "
    "(tests/functional/records/test_store.py, test_documents.py)"
)

#: Every operation that answers no personal data, and why.
NO_PERSONAL_DATA: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "the server's health",
    ("GET", "/api/v1/search"): _PUBLIC,
    ("GET", "/api/v1/specialties"): _PUBLIC,
    ("GET", "/api/v1/places"): _PUBLIC,
    ("GET", PRACTICE): _PUBLIC,
    ("GET", PRACTICE + "/practitioners"): _PUBLIC,
    ("POST", PRACTICE + "/practitioners"): _PUBLIC,
    ("GET", AGENDA + "/slots"): "free times: no appointment, no patient",
    ("POST", "/api/v1/practices"): _SETTINGS,
    ("GET", PRACTICE + "/settings"): _SETTINGS,
    ("PATCH", PRACTICE + "/settings"): _SETTINGS,
    ("GET", AGENDA + "/rules"): _SETTINGS,
    ("PUT", AGENDA + "/rules"): _SETTINGS,
    ("GET", AGENDA + "/visit-types"): _SETTINGS,
    ("GET", PRACTICE + "/visit-types/{visit_type_id}"): _SETTINGS,
    ("PATCH", PRACTICE + "/visit-types/{visit_type_id}"): _SETTINGS,
    ("DELETE", PRACTICE + "/visit-types/{visit_type_id}"): _SETTINGS,
    ("POST", AGENDA + "/visit-types"): _SETTINGS,
    ("POST", AGENDA + "/openings"): _SETTINGS,
    ("GET", AGENDA + "/openings"): _SETTINGS,
    ("GET", PRACTICE + "/openings/{opening_id}"): _SETTINGS,
    ("PUT", PRACTICE + "/openings/{opening_id}"): _SETTINGS,
    ("DELETE", PRACTICE + "/openings/{opening_id}"): _SETTINGS,
    ("POST", AGENDA + "/breaks"): _SETTINGS,
    ("GET", AGENDA + "/breaks"): _SETTINGS,
    ("GET", PRACTICE + "/breaks/{break_id}"): _SETTINGS,
    ("PUT", PRACTICE + "/breaks/{break_id}"): _SETTINGS,
    ("DELETE", PRACTICE + "/breaks/{break_id}"): _SETTINGS,
    # Time off that cancels appointments answers how many; each cancellation has its event.
    ("POST", AGENDA + "/overrides"): _SETTINGS,
    ("GET", AGENDA + "/overrides"): _SETTINGS,
    ("GET", PRACTICE + "/overrides/{override_id}"): _SETTINGS,
    ("PUT", PRACTICE + "/overrides/{override_id}"): _SETTINGS,
    ("DELETE", PRACTICE + "/overrides/{override_id}"): _SETTINGS,
    ("DELETE", "/api/v1/me/patients/{patient_id}"): _NOTHING_SHOWN,
    ("POST", "/api/v1/auth/prelogin"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/signup"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/signup/verify"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/signup/complete"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/login"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/logout"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/logout/others"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/reauth"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/password/params"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/password"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/recovery"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/recovery/complete"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/keys/reset"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/keys/reset/verify"): _OWN_ACCOUNT,
    ("POST", "/api/v1/auth/keys/reset/complete"): _OWN_ACCOUNT,
    ("GET", "/api/v1/me"): _OWN_ACCOUNT,
    ("DELETE", "/api/v1/me"): _OWN_ACCOUNT,
    ("POST", "/api/v1/me/email"): _OWN_ACCOUNT,
    ("POST", "/api/v1/me/email/confirm"): _OWN_ACCOUNT,
    ("POST", "/api/v1/me/mfa/totp"): _OWN_ACCOUNT,
    ("DELETE", "/api/v1/me/mfa/totp"): _OWN_ACCOUNT,
    ("POST", "/api/v1/me/mfa/totp/confirm"): _OWN_ACCOUNT,
    ("POST", "/api/v1/me/mfa/recovery-codes"): _OWN_ACCOUNT,
    ("GET", "/api/v1/me/recovery-code"): _OWN_ACCOUNT,
    ("PUT", "/api/v1/me/recovery-code"): _OWN_ACCOUNT,
    ("GET", "/api/v1/me/reminders"): _OWN_ACCOUNT,
    ("PUT", "/api/v1/me/reminders"): _OWN_ACCOUNT,
    ("DELETE", PRACTICE + "/invitations/{invitation_id}"): _NOTHING_SHOWN,
    ("POST", "/api/v1/invitations/accept"): _OWN_ACCOUNT,
    # Its read names the members it lists and the filters' member and patient
    # (tests/functional/audit/test_access_views.py, docs/audit-access.md).
    ("GET", PRACTICE + "/audit"): (
        "the practice's audit log: the ids each event named, by kind, and the members who acted; "
        "no patient's data"
    ),
    ("DELETE", PRACTICE + "/members/{account_id}"): _NOTHING_SHOWN,
    ("PATCH", PRACTICE + "/members/{account_id}"): _NOTHING_SHOWN,
    ("GET", "/api/v1/me/sessions"): _OWN_ACCOUNT,
    ("DELETE", "/api/v1/me/sessions/{session_id}"): _OWN_ACCOUNT,
    ("POST", "/api/v1/me/sessions/revoke-others"): _OWN_ACCOUNT,
    # Its read is audited (accounts:member-sessions:list, naming the member).
    ("GET", PRACTICE + "/members/{account_id}/sessions"): (
        "a member's sessions: software, network prefix and times, for an admin of the practice; "
        "no patient's data"
    ),
    ("POST", PRACTICE + "/members/{account_id}/sessions/revoke"): _NOTHING_SHOWN,
    ("GET", "/api/v1/key-directory"): _KEYS,
    ("GET", "/api/v1/key-directory/consistency"): _KEYS,
    ("GET", "/api/v1/key-directory/users/{account_id}"): _KEYS,
    ("GET", "/api/v1/key-directory/practices/{practice_id}"): _KEYS,
    ("GET", "/api/v1/key-directory/practices/{practice_id}/clinical"): _KEYS,
    ("POST", PRACTICE + "/key-group"): _KEYS,
    ("GET", PRACTICE + "/key-group"): _KEYS,
    ("GET", PRACTICE + "/key-group/members"): _KEYS,
    ("POST", PRACTICE + "/key-group/wraps"): _KEYS,
    ("POST", PRACTICE + "/key-group/rotations"): _KEYS,
    ("POST", PRACTICE + "/key-group/memberships"): _KEYS,
    ("GET", PRACTICE + "/key-group/memberships"): _KEYS,
    ("POST", PRACTICE + "/clinical-key-group"): _KEYS,
    ("GET", PRACTICE + "/clinical-key-group"): _KEYS,
    ("GET", PRACTICE + "/clinical-key-group/members"): _KEYS,
    ("GET", PRACTICE + "/clinical-key-group/holders"): _KEYS,
    ("POST", PRACTICE + "/clinical-key-group/wraps"): _KEYS,
    ("POST", PRACTICE + "/clinical-key-group/rotations"): _KEYS,
    # Re-wraps and re-shares answer a count; their events name every item (test_rewrap.py).
    ("POST", PRACTICE + "/item-key-wraps"): _NOTHING_SHOWN,
    ("POST", RECORDS + "/reshare"): _NOTHING_SHOWN,
    ("POST", RECORDS + "/notes"): _SEALED_WRITE,
    ("POST", RECORDS + "/messages"): _SEALED_WRITE,
    ("POST", MY_RECORDS + "/messages"): _SEALED_WRITE,
    ("POST", RECORDS + "/documents"): _SEALED_WRITE,
    ("POST", MY_RECORDS + "/documents"): _SEALED_WRITE,
    ("PUT", RECORDS + "/documents/{document_id}/content"): _SEALED_WRITE,
    ("PUT", MY_RECORDS + "/documents/{document_id}/content"): _SEALED_WRITE,
}


# --- the objects the scene lacks ------------------------------------------------------------


_ITEMS: dict[int, dict[tuple[UUID, str], UUID]] = {}


def _items(
    s: MatrixScene, blobs: FilesystemBlobStore | None = None
) -> dict[tuple[UUID, str], UUID]:
    """Sealed items of each kind for practice A's desk patient and the holder's own patient, a
    stale wrap of each, a visit reason for the holder's appointment, a key epoch for the holder, a failed message and one in the holder's
    inbox: written once per scene, straight into their tables (the server reads them as they
    are: it cannot open them)."""
    if id(s) in _ITEMS:
        return _ITEMS[id(s)]
    assert blobs is not None, "made by the scene fixture first"
    site = s.sites["A"]
    holder = s.principal("holder").account_id
    assert holder is not None
    items: dict[tuple[UUID, str], UUID] = {}
    with s.db.write() as session:
        for patient_id in (site.desk_patient_id, s.main_patient["holder"]):
            for kind in ("note", "message", "document"):
                item_id = uuid.uuid4()
                items[(patient_id, kind)] = item_id
                session.add(
                    SealedItemRow(
                        practice_id=site.practice_id,
                        item_id=item_id,
                        kind=kind,
                        patient_id=patient_id,
                        context_id=_context(kind, site.practice_id, patient_id),
                        author_account_id=None,
                        envelope=b"\x01" + bytes(63),
                        size_bytes=64,
                        created_at=s.now,
                    )
                )
                session.flush()
                session.add(
                    ItemKeyWrap(
                        practice_id=site.practice_id,
                        item_id=item_id,
                        recipient_kind="practice",
                        recipient_id=site.practice_id,
                        epoch=0,
                        wrap=bytes(32),
                    )
                )
        # The holder's appointment carries a sealed visit reason: its readers are shown it.
        mine = s.appointment(Target("mine"))
        session.add(
            SealedItemRow(
                practice_id=mine.practice_id,
                item_id=uuid.uuid4(),
                kind="visit_reason",
                patient_id=session.get_one(Appointment, (mine.practice_id, mine.id)).patient_id,
                context_id=mine.id,
                author_account_id=holder,
                envelope=b"\x01" + bytes(63),
                size_bytes=64,
                created_at=s.now,
            )
        )
        if session.get(KeyBundleRow, holder) is None:
            session.add(
                KeyBundleRow(
                    account_id=holder,
                    epoch=1,
                    encryption_public=bytes(32),
                    signing_public=bytes(32),
                    sealed_by_password=b"unused",
                    sealed_by_recovery=b"unused",
                    updated_at=s.now,
                )
            )
        messages = list(
            session.scalars(
                select(OutboxMessage.message_id)
                .where(
                    OutboxMessage.practice_id == site.practice_id,
                    OutboxMessage.appointment_id.is_not(None),
                )
                .order_by(OutboxMessage.message_id)
                .limit(2)
            )
        )
        assert len(messages) == 2, "the scene's bookings queue messages"
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.message_id == messages[0])
            .values(status="failed", last_error="no_contact")
        )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.message_id == messages[1])
            .values(status="sent", recipient_account_id=holder, sent_at=s.now)
        )
    for (_patient, kind), item_id in items.items():
        if kind == "document":
            writer = blobs.create(blob_key(site.practice_id, item_id))
            writer.write(b"\x01" + bytes(63))
            writer.commit(at=s.now)
    _ITEMS[id(s)] = items
    return items


@pytest.fixture(scope="module")
def scene(matrix: Matrix, tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    """The matrix's scene with the objects above, its documents in a store of its own."""
    blobs = FilesystemBlobStore(tmp_path_factory.mktemp("blobs"))
    matrix.app.state.blob_store = blobs
    _items(matrix.scene, blobs)
    return matrix


# --- the tests -------------------------------------------------------------------------------


def test_every_operation_is_classified(tmp_path: Path) -> None:
    app = create_app(
        Settings(run_refresher=False), database=Database(f"sqlite:///{tmp_path}/none.sqlite3")
    )
    present = operations(app)
    both = sorted(PERSONAL.keys() & NO_PERSONAL_DATA.keys())
    missing = sorted(present - PERSONAL.keys() - NO_PERSONAL_DATA.keys())
    stale = sorted((PERSONAL.keys() | NO_PERSONAL_DATA.keys()) - present)
    message = ["the audit completeness tables do not match the API (docs/architecture.md):"]
    if missing:
        message.append(
            "  operations in neither table (tests/functional/audit/test_completeness.py): if it "
            "answers personal data, make its service record an event naming every object of the "
            "answer and add a Scenario to PERSONAL; otherwise add it to NO_PERSONAL_DATA, saying "
            "why:"
        )
        message += [f"    {key!r}" for key in missing]
    if both:
        message.append("  operations in both tables (keep one):")
        message += [f"    {key!r}" for key in both]
    if stale:
        message.append("  entries for operations that no longer exist (remove them):")
        message += [f"    {key!r}" for key in stale]
    if missing or both or stale:
        pytest.fail("\n".join(message), pytrace=False)


@pytest.mark.parametrize(("method", "template"), list(PERSONAL))
def test_event_names_exactly_what_the_answer_shows(
    scene: Matrix, method: str, template: str
) -> None:
    scenario = PERSONAL[(method, template)]
    build = scenario.build or MATRIX[(method, template)].build
    call = build(scene.scene, Target(scenario.target, scenario.mode))
    answer = scene.send(method, template, scenario.role, call)
    assert 200 <= answer.status_code < 300, answer.text[:500]
    request_id = answer.headers["x-request-id"]
    count, named_refs = named(scene.scene.db, request_id)
    extra = scenario.extra(call) if scenario.extra is not None else {}
    expected, references = shown(scene.scene.db, answer, extra)
    assert count >= 1, "no audit event"
    if method == "GET":
        assert count == 1, f"a read writes one event, not {count}"
    notifications = named_refs.get(ObjectKind.NOTIFICATION, set())
    if references:
        assert {reference_code(n) for n in notifications} == references
        named_refs.pop(ObjectKind.NOTIFICATION, None)
    differences = {
        kind.value: {
            "not named": sorted(map(str, expected.get(kind, set()) - named_refs.get(kind, set()))),
            "not shown": sorted(map(str, named_refs.get(kind, set()) - expected.get(kind, set()))),
        }
        for kind in COMPARED
        if expected.get(kind, set()) != named_refs.get(kind, set())
    }
    assert not differences, f"{method} {template}: {differences}"
    assert any(expected.values()) or references, "the scenario's answer shows nothing"


def test_a_read_that_finds_nothing_records_an_event(scene: Matrix) -> None:
    """The operator holds no patient: the read is audited all the same, naming nothing."""
    template = "/api/v1/me/patients"
    answer = scene.send("GET", template, "operator", Call(template))
    assert answer.status_code == 200
    assert json.loads(answer.content) == []
    count, refs = named(scene.scene.db, answer.headers["x-request-id"])
    assert (count, refs) == (1, {})
