"""Time off over booked appointments (issue 13, "Absences"): listed first, cancelled by the
practice in one transaction once the request names them, each patient told once with the next
free times, and nobody else told anything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from colloque.booking import absences, changes
from colloque.booking.models import Appointment, AppointmentEvent
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.booking.waitlist.services import do_join_waitlist
from colloque.clock import SettableClock
from colloque.delivery.outbox import OutboxDelivery
from colloque.notifications.breaker import LIMITS_KEY, MassChangeLimits
from colloque.notifications.models import OutboxMessage
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.editing import do_retire_visit_type, visit_type_version
from colloque.scheduling.models import AgendaOverride, VisitType
from colloque.scheduling.services import do_add_practitioner
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_override
from colloque.storage.engine import Database
from tests.factories import World, book
from tests.functional.http import app_client, bearer, problem
from tests.functional.notifications.test_appointment_messages import HOLDER, _mail, _text
from tests.smtp import Inbox

# T0 is Monday 2026-03-02 08:00 in Paris (UTC+1); the agenda opens 09:00-12:00 and 14:00-18:00.
TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
WED_1000 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
THU_1400 = datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
STRANGER = "stranger.sophie@example.test"
TUE_TO_WED = {"kind": "absence", "first_day": "2026-03-03", "last_day": "2026-03-04"}


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def _overrides(world: World, practitioner_id: UUID | None = None) -> str:
    who = practitioner_id or world.practitioner_id
    return f"/api/v1/practices/{world.practice_id}/practitioners/{who}/overrides"


def _preview(client: TestClient, world: World, body: Any, who: str = "secretary") -> Any:
    response = client.post(
        _overrides(world) + "/preview", json=body, headers=bearer(getattr(world, who))
    )
    assert response.status_code == 200, response.text
    return response.json()


def _state(db: Database) -> tuple[int, list[str], int]:
    """How many overrides, the appointments' statuses by start, how many outbox rows."""
    with db.read() as session:
        overrides = session.scalar(select(func.count()).select_from(AgendaOverride))
        statuses = list(session.scalars(select(Appointment.status).order_by(Appointment.starts_at)))
        rows = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert overrides is not None
    assert rows is not None
    return overrides, statuses, rows


def _cancellations(inbox: Inbox, address: str) -> list[str]:
    return [_text(m) for m in _mail(inbox, address) if "annulé" in str(m["Subject"])]


def test_an_absence_over_appointments_lists_them_then_cancels_them_all_once_confirmed(
    db: Database,
    clock: SettableClock,
    world: World,
    client: TestClient,
    inbox: Inbox,
    delivery: OutboxDelivery,
) -> None:
    mine = book(db, clock, world, TUE_0900)
    theirs = book(
        db, clock, world, WED_1000, person=world.stranger, patient_id=world.stranger_patient_id
    )
    book(db, clock, world, THU_1400, patient_id=world.child_patient_id)
    delivery.run_until_idle()
    inbox.messages.clear()
    before = _state(db)

    refused = client.post(_overrides(world), json=TUE_TO_WED, headers=bearer(world.secretary))
    body = problem(refused, 409, field="cancel_appointment_ids")
    assert body["type"].endswith("/appointments-affected")
    assert body["count"] == 2
    assert body["appointments"] == [
        {"appointment_id": str(mine.appointment_id), "starts_at": "2026-03-03T09:00:00+01:00"},
        {"appointment_id": str(theirs.appointment_id), "starts_at": "2026-03-04T10:00:00+01:00"},
    ]
    # Nothing was written: no override, every appointment booked, no message.
    assert _state(db) == before

    preview = _preview(client, world, TUE_TO_WED)
    assert preview["count"] == 2
    assert [(a["patient_first_name"], a["starts_at"]) for a in preview["appointments"]] == [
        ("Hugo", "2026-03-03T09:00:00+01:00"),
        ("Sophie", "2026-03-04T10:00:00+01:00"),
    ]
    assert _state(db) == before

    confirmed = client.post(
        _overrides(world),
        json={
            **TUE_TO_WED,
            "cancel_appointment_ids": [a["appointment_id"] for a in body["appointments"]],
        },
        headers=bearer(world.secretary),
    )
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["cancelled"] == 2
    assert _state(db) == (
        1,
        ["cancelled_by_practice", "cancelled_by_practice", "booked"],
        before[2] + 2,
    )
    with db.read() as session:
        reasons = session.scalars(
            select(AppointmentEvent.reason).where(AppointmentEvent.kind == "cancelled")
        ).all()
    assert reasons == ["practitioner_unavailable"] * 2

    report = delivery.run_until_idle()
    assert (report.sent, report.failed) == (2, 0)
    # Each patient is told once; nobody else is told anything.
    assert len(inbox.messages) == 2
    [told] = _cancellations(inbox, HOLDER)
    [other] = _cancellations(inbox, STRANGER)
    assert "Le cabinet a annulé votre rendez-vous du mardi 3 mars 2026 à 09:00" in told
    assert "Le cabinet a annulé votre rendez-vous du mercredi 4 mars 2026 à 10:00" in other
    # The next free times of the same length with the same practitioner, from current data:
    # today from 09:00 (an hour's notice), never in the absence.
    for text in (told, other):
        assert "- lundi 2 mars 2026 à 09:00" in text
        assert "- lundi 2 mars 2026 à 09:15" in text
        assert "- lundi 2 mars 2026 à 09:30" in text
        assert (
            f"https://colloque.test/practitioners/{world.practice_id}/{world.practitioner_id}"
            in text
        )
        assert "mardi 3 mars 2026 à 09:15" not in text
    everything = "".join(m.as_string() for _, m in inbox.messages)
    for secret in ("Consultation", "general", "unavailable", "Lina"):
        assert secret not in everything


def test_an_appointment_booked_after_the_preview_is_never_cancelled_unseen(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    first = book(db, clock, world, TUE_0900)
    shown = [a["appointment_id"] for a in _preview(client, world, TUE_TO_WED)["appointments"]]
    assert shown == [str(first.appointment_id)]
    late = book(db, clock, world, WED_1000, patient_id=world.child_patient_id)
    before = _state(db)

    stale = client.post(
        _overrides(world),
        json={**TUE_TO_WED, "cancel_appointment_ids": shown},
        headers=bearer(world.secretary),
    )
    body = problem(stale, 409, field="cancel_appointment_ids")
    assert [a["appointment_id"] for a in body["appointments"]] == [
        str(first.appointment_id),
        str(late.appointment_id),
    ]
    assert _state(db) == before

    # Naming appointments where there are none is refused too: the set differs.
    quiet = {"kind": "absence", "first_day": "2026-03-10", "last_day": "2026-03-10"}
    body = problem(
        client.post(
            _overrides(world),
            json={**quiet, "cancel_appointment_ids": shown},
            headers=bearer(world.secretary),
        ),
        409,
        field="cancel_appointment_ids",
    )
    assert (body["count"], body["appointments"]) == (0, [])
    assert _state(db) == before


def test_nothing_is_half_written_when_a_cancellation_fails(
    db: Database, clock: SettableClock, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = book(db, clock, world, TUE_0900)
    second = book(db, clock, world, WED_1000, patient_id=world.child_patient_id)
    before = _state(db)
    real_cancel = changes.cancel
    calls: list[UUID] = []

    def failing_on_the_second(*args: Any, **kwargs: Any) -> None:
        calls.append(args[1].appointment_id)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        real_cancel(*args, **kwargs)

    monkeypatch.setattr(changes, "cancel", failing_on_the_second)
    with pytest.raises(RuntimeError), db.write() as session:
        absences.do_add_time_off(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            time_off=absences.TimeOff(OverrideKind.ABSENCE, date(2026, 3, 3), date(2026, 3, 4)),
            cancel_appointment_ids=[first.appointment_id, second.appointment_id],
        )
    assert calls == [first.appointment_id, second.appointment_id]
    assert _state(db) == before


@pytest.fixture
def colleague(db: Database, clock: SettableClock, world: World) -> UUID:
    with db.write() as session:
        return do_add_practitioner(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            first_name="Ada",
            last_name="Autre",
            specialty=Specialty.GENERAL_PRACTICE,
        ).practitioner_id


def test_a_practitioner_cancels_for_their_own_absence_never_a_colleague_s(
    db: Database, clock: SettableClock, world: World, client: TestClient, colleague: UUID
) -> None:
    mine = book(db, clock, world, TUE_0900)
    shown = _preview(client, world, TUE_TO_WED, who="doctor")["appointments"]
    confirmed = client.post(
        _overrides(world),
        json={**TUE_TO_WED, "cancel_appointment_ids": [a["appointment_id"] for a in shown]},
        headers=bearer(world.doctor),
    )
    assert confirmed.status_code == 201, confirmed.text
    assert [a["appointment_id"] for a in shown] == [str(mine.appointment_id)]

    theirs = _overrides(world, colleague)
    problem(client.post(theirs, json=TUE_TO_WED, headers=bearer(world.doctor)), 403)
    problem(client.post(theirs + "/preview", json=TUE_TO_WED, headers=bearer(world.doctor)), 403)
    # A patient account is nobody at the practice: its agenda is missing to them.
    for url in (_overrides(world), _overrides(world) + "/preview"):
        problem(client.post(url, json=TUE_TO_WED, headers=bearer(world.holder)), 404)


def test_bad_input_is_a_4xx_naming_the_field(
    db: Database, world: World, client: TestClient, colleague: UUID
) -> None:
    headers = bearer(world.secretary)
    backwards = {**TUE_TO_WED, "first_day": "2026-03-05"}
    problem(client.post(_overrides(world), json=backwards, headers=headers), 422, field="last_day")
    preview = _overrides(world) + "/preview"
    problem(client.post(preview, json=backwards, headers=headers), 422, field="last_day")
    not_ids = {**TUE_TO_WED, "cancel_appointment_ids": ["nope"]}
    problem(
        client.post(_overrides(world), json=not_ids, headers=headers),
        422,
        field="cancel_appointment_ids.0",
    )
    unknown = {**TUE_TO_WED, "replacing": "00000000-0000-4000-8000-000000000000"}
    problem(client.post(preview, json=unknown, headers=headers), 404)
    # An override of another agenda is not one this agenda's preview replaces.
    theirs = client.post(_overrides(world, colleague), json=TUE_TO_WED, headers=headers)
    assert theirs.status_code == 201, theirs.text
    other = {**TUE_TO_WED, "replacing": theirs.json()["id"]}
    problem(client.post(preview, json=other, headers=headers), 404, field="replacing")


def test_widening_an_absence_asks_only_about_what_it_newly_closes(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    kept = book(db, clock, world, TUE_0900)
    newly = book(db, clock, world, TUE_0900 + timedelta(hours=2), patient_id=world.child_patient_id)
    # An absence entered before absences cancelled anything, over the 09:00 appointment.
    with db.write() as session:
        override = do_add_override(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            kind=OverrideKind.ABSENCE,
            first_day=date(2026, 3, 3),
            last_day=date(2026, 3, 3),
            start_minute=9 * 60,
            end_minute=10 * 60,
        )
    url = f"/api/v1/practices/{world.practice_id}/overrides/{override.override_id}"
    read = client.get(url, headers=bearer(world.secretary))
    headers = {**bearer(world.secretary), "If-Match": read.headers["etag"]}
    rest_of_day = {
        "kind": "absence",
        "first_day": "2026-03-03",
        "last_day": "2026-03-03",
        "start_minute": 9 * 60,
        "end_minute": 24 * 60,
    }
    shown = _preview(client, world, {**rest_of_day, "replacing": str(override.override_id)})
    assert [a["appointment_id"] for a in shown["appointments"]] == [str(newly.appointment_id)]

    body = problem(
        client.put(url, json=rest_of_day, headers=headers), 409, field="cancel_appointment_ids"
    )
    assert [a["appointment_id"] for a in body["appointments"]] == [str(newly.appointment_id)]
    replaced = client.put(
        url,
        json={**rest_of_day, "cancel_appointment_ids": [str(newly.appointment_id)]},
        headers=headers,
    )
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["cancelled"], replaced.json()["end_minute"]) == (1, 24 * 60)
    with db.read() as session:
        still = session.get(Appointment, (world.practice_id, kept.appointment_id))
        assert still is not None
        assert still.status == "booked"


def test_a_holiday_lapses_a_waitlist_hold_and_puts_its_entry_back_in_line(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    freed = book(db, clock, world, TUE_0900)
    with db.write() as session:
        entry = do_join_waitlist(
            session,
            now=clock.now(),
            principal=world.stranger.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=20,
            patient_id=world.stranger_patient_id,
            first_day=date(2026, 3, 3),
            last_day=date(2026, 3, 6),
        )
    cancelled = client.post(
        f"/api/v1/practices/{world.practice_id}/appointments/{freed.appointment_id}/cancel",
        json={"reason": "booked_by_mistake"},
        headers=bearer(world.secretary),
    )
    assert cancelled.status_code == 200, cancelled.text
    holiday = {"kind": "holiday", "first_day": "2026-03-03", "last_day": "2026-03-03"}
    [hold] = _preview(client, world, holiday)["appointments"]
    assert (hold["status"], hold["patient_first_name"]) == ("held", "Sophie")

    confirmed = client.post(
        _overrides(world),
        json={**holiday, "cancel_appointment_ids": [hold["appointment_id"]]},
        headers=bearer(world.secretary),
    )
    assert confirmed.status_code == 201, confirmed.text
    with db.read() as session:
        lapsed = session.get(Appointment, (world.practice_id, UUID(hold["appointment_id"])))
        offer = session.scalar(select(WaitlistOffer))
        waiting = session.get(WaitlistEntry, (world.practice_id, entry.entry_id))
        assert lapsed is not None
        assert offer is not None
        assert waiting is not None
        assert (lapsed.status, offer.outcome, waiting.status) == (
            "hold_lapsed",
            "lapsed",
            "waiting",
        )
        # No cancellation message for a hold: it was never the patient's appointment.
        templates = session.scalars(
            select(OutboxMessage.template).where(
                OutboxMessage.appointment_id == UUID(hold["appointment_id"])
            )
        ).all()
    assert "appointment_cancelled" not in templates


def test_with_no_free_time_ahead_the_message_offers_the_waitlist(
    db: Database,
    clock: SettableClock,
    world: World,
    client: TestClient,
    inbox: Inbox,
    delivery: OutboxDelivery,
) -> None:
    booked = book(db, clock, world, TUE_0900)
    # Away for the next eight weeks and more.
    away = {"kind": "absence", "first_day": "2026-03-02", "last_day": "2026-04-30"}
    confirmed = client.post(
        _overrides(world),
        json={**away, "cancel_appointment_ids": [str(booked.appointment_id)]},
        headers=bearer(world.secretary),
    )
    assert confirmed.status_code == 201, confirmed.text
    delivery.run_until_idle()
    [text] = _cancellations(inbox, HOLDER)
    assert "n'a pas d'horaire libre" in text
    assert "liste d'attente" in text
    assert (
        f"https://colloque.test/practitioners/{world.practice_id}/{world.practitioner_id}" in text
    )


def test_with_no_online_visit_of_that_length_any_more_the_message_offers_the_waitlist(
    db: Database,
    clock: SettableClock,
    world: World,
    client: TestClient,
    inbox: Inbox,
    delivery: OutboxDelivery,
) -> None:
    booked = book(db, clock, world, TUE_0900)
    # The 20-minute consultation is retired: the server knows no other visit of that length.
    with db.write() as session:
        consultation = session.get(VisitType, (world.practice_id, world.consultation_id))
        assert consultation is not None
        do_retire_visit_type(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            visit_type_id=world.consultation_id,
            expected_version=visit_type_version(consultation),
        )
    confirmed = client.post(
        _overrides(world),
        json={**TUE_TO_WED, "cancel_appointment_ids": [str(booked.appointment_id)]},
        headers=bearer(world.secretary),
    )
    assert confirmed.status_code == 201, confirmed.text
    delivery.run_until_idle()
    [text] = _cancellations(inbox, HOLDER)
    assert "liste d'attente" in text
    assert "- lundi" not in text


@pytest.mark.parametrize(("who", "held"), [("admin", 0), ("secretary", 1)])
def test_an_admin_s_confirmation_passes_the_mass_change_breaker_a_secretary_s_counts(
    db: Database,
    clock: SettableClock,
    world: World,
    client: TestClient,
    delivery: OutboxDelivery,
    who: str,
    held: int,
) -> None:
    """Confirmed with the count shown by someone who may release held messages: nothing waits.
    Anyone else's cancellations count like a desk's and wait for an admin past the limit."""
    book(db, clock, world, TUE_0900)
    book(db, clock, world, WED_1000, person=world.stranger, patient_id=world.stranger_patient_id)
    delivery.run_until_idle()
    db.session_info[LIMITS_KEY] = MassChangeLimits(limit=1, window=timedelta(minutes=10))
    ids = [a["appointment_id"] for a in _preview(client, world, TUE_TO_WED)["appointments"]]
    confirmed = client.post(
        _overrides(world),
        json={**TUE_TO_WED, "cancel_appointment_ids": ids},
        headers=bearer(getattr(world, who)),
    )
    assert confirmed.status_code == 201, confirmed.text
    with db.read() as session:
        statuses = session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.template == "appointment_cancelled")
        ).all()
    assert sorted(statuses).count("held") == held
    assert len(statuses) == 2
