"""Examples of the slot engine's rules (docs/scheduling.md), one rule at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from colloque.scheduling.domain import (
    Agenda,
    BookingRules,
    Busy,
    DateOverride,
    OverrideKind,
    Slot,
    SlotProblem,
    VisitTypeSpec,
    WeeklyBreak,
    WeeklyRange,
)
from colloque.scheduling.slots import OpenSegment, check_slot, free_slots, open_segments

PARIS = ZoneInfo("Europe/Paris")
SYDNEY = ZoneInfo("Australia/Sydney")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
SANTIAGO = ZoneInfo("America/Santiago")

CONSULTATION = VisitTypeSpec(UUID(int=1), timedelta(minutes=15))
LONG_CONSULTATION = VisitTypeSpec(UUID(int=2), timedelta(minutes=30))
VIDEO = VisitTypeSpec(UUID(int=3), timedelta(minutes=15))
IN_PERSON = frozenset({CONSULTATION.id, LONG_CONSULTATION.id})

MONDAY = date(2026, 6, 1)
TUESDAY = date(2026, 6, 2)
SUNDAY = date(2026, 6, 7)
NO_NOTICE = BookingRules(min_notice=timedelta(0))


def at(day: date, wall: str, tz: ZoneInfo = PARIS) -> datetime:
    """An aware local datetime, e.g. ``at(MONDAY, "09:30")``."""
    return datetime.combine(day, time.fromisoformat(wall), tzinfo=tz)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def mornings(
    *,
    rules: BookingRules = NO_NOTICE,
    breaks: tuple[WeeklyBreak, ...] = (),
    overrides: tuple[DateOverride, ...] = (),
) -> Agenda:
    """Monday and Tuesday 09:00-12:00 in Paris, for in-person visits."""
    return Agenda(
        timezone=PARIS,
        weekly=(
            WeeklyRange(0, time(9), time(12), IN_PERSON),
            WeeklyRange(1, time(9), time(12), IN_PERSON),
        ),
        breaks=breaks,
        overrides=overrides,
        rules=rules,
    )


def slots_on(
    agenda: Agenda,
    day: date,
    visit_type: VisitTypeSpec = CONSULTATION,
    *,
    busy: list[Busy] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """The local start times of the free slots of ``day``."""
    tz = agenda.timezone
    window_start = at(day, "00:00", tz)
    slots = free_slots(
        agenda,
        visit_type,
        window_start=window_start,
        window_end=at(day + timedelta(days=1), "00:00", tz),
        now=now or at(day - timedelta(days=1), "00:00", tz),
        busy=busy or [],
    )
    return [slot.start.astimezone(tz).strftime("%H:%M") for slot in slots]


def utc_starts(agenda: Agenda, day: date, visit_type: VisitTypeSpec) -> list[datetime]:
    """The UTC starts of the free slots of local ``day``."""
    tz = agenda.timezone
    window_start = at(day, "00:00", tz)
    slots = free_slots(
        agenda,
        visit_type,
        window_start=window_start,
        window_end=at(day + timedelta(days=1), "00:00", tz),
        now=at(day - timedelta(days=1), "00:00", tz),
        busy=[],
    )
    return [slot.start for slot in slots]


def quarter_hours(first: str, last: str) -> list[str]:
    start = datetime.combine(MONDAY, time.fromisoformat(first))
    end = datetime.combine(MONDAY, time.fromisoformat(last))
    times = []
    while start <= end:
        times.append(start.strftime("%H:%M"))
        start += timedelta(minutes=15)
    return times


# -- free_slots ------------------------------------------------------------------------------


def test_a_range_offers_every_step_where_the_visit_fits() -> None:
    assert slots_on(mornings(), MONDAY) == quarter_hours("09:00", "11:45")
    assert slots_on(mornings(), MONDAY, LONG_CONSULTATION) == quarter_hours("09:00", "11:30")


def test_slots_are_utc_and_last_the_visit_duration() -> None:
    slots = free_slots(
        mornings(),
        LONG_CONSULTATION,
        window_start=at(MONDAY, "09:00"),
        window_end=at(MONDAY, "09:30"),
        now=at(MONDAY, "08:00"),
        busy=[],
    )
    assert slots == [
        Slot(utc("2026-06-01 07:00"), utc("2026-06-01 07:30")),
        Slot(utc("2026-06-01 07:15"), utc("2026-06-01 07:45")),
    ]
    assert all(slot.start.tzinfo is UTC and slot.end.tzinfo is UTC for slot in slots)


def test_the_window_includes_its_start_and_excludes_its_end() -> None:
    slots = free_slots(
        mornings(),
        CONSULTATION,
        window_start=at(MONDAY, "09:15"),
        window_end=at(MONDAY, "09:45"),
        now=at(MONDAY, "08:00"),
        busy=[],
    )
    assert [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots] == ["09:15", "09:30"]


def test_no_range_no_slot() -> None:
    assert slots_on(mornings(), SUNDAY) == []


def test_a_break_removes_time_and_the_grid_carries_on_after_it() -> None:
    agenda = mornings(breaks=(WeeklyBreak(0, time(10), time(10, 20)),))
    assert slots_on(agenda, MONDAY, LONG_CONSULTATION) == [
        *quarter_hours("09:00", "09:30"),
        *quarter_hours("10:30", "11:30"),  # not 10:20: the grid does not restart at the break
    ]
    assert slots_on(agenda, TUESDAY, LONG_CONSULTATION) == quarter_hours("09:00", "11:30")


def test_an_end_of_time_max_means_midnight() -> None:
    evenings = Agenda(
        PARIS,
        (
            WeeklyRange(0, time(22), time.max, IN_PERSON),
            WeeklyRange(6, time(22), time.max, IN_PERSON),
        ),
        rules=NO_NOTICE,
    )
    assert slots_on(evenings, MONDAY, LONG_CONSULTATION)[-1] == "23:30"  # ends at 24:00
    fall_back = date(2026, 10, 25)  # a 25-hour day
    assert slots_on(evenings, fall_back, LONG_CONSULTATION)[-1] == "23:30"


def test_midnight_is_the_jump_when_the_next_day_starts_with_one() -> None:
    # Santiago, Saturday 2026-09-05: the clock goes from 23:59:59 (-04) to Sunday 01:00 (-03).
    saturday = date(2026, 9, 5)
    evenings = night(SANTIAGO, 5, "22:00", "23:59:59.999999")
    assert utc_starts(evenings, saturday, LONG_CONSULTATION) == [
        utc("2026-09-06 02:00"),  # 22:00 -04
        utc("2026-09-06 02:30"),
        utc("2026-09-06 03:00"),
        utc("2026-09-06 03:30"),  # 23:30 -04, ends at the jump
    ]


def test_a_step_that_does_not_divide_the_range() -> None:
    agenda = mornings(rules=replace(NO_NOTICE, slot_step=timedelta(minutes=25)))
    assert slots_on(agenda, MONDAY, LONG_CONSULTATION) == [
        "09:00",
        "09:25",
        "09:50",
        "10:15",
        "10:40",
        "11:05",
        "11:30",
    ]


def test_busy_time_and_the_buffer_after_a_visit() -> None:
    busy = [Busy(at(MONDAY, "09:30"), at(MONDAY, "09:45"))]
    assert slots_on(mornings(), MONDAY, busy=busy)[:4] == ["09:00", "09:15", "09:45", "10:00"]

    buffered = mornings(rules=replace(NO_NOTICE, buffer_after=timedelta(minutes=10)))
    # 09:15 would end at 09:30 and needs 10 more minutes: it runs into the busy time.
    assert slots_on(buffered, MONDAY, busy=busy)[:3] == ["09:00", "09:45", "10:00"]


def test_the_buffer_may_run_past_the_end_of_the_opening() -> None:
    agenda = mornings(rules=replace(NO_NOTICE, buffer_after=timedelta(minutes=30)))
    assert slots_on(agenda, MONDAY)[-1] == "11:45"


def test_busy_intervals_may_overlap_touch_or_be_empty() -> None:
    busy = [
        Busy(at(MONDAY, "10:00"), at(MONDAY, "10:30")),
        Busy(at(MONDAY, "10:05"), at(MONDAY, "10:10")),  # inside another one
        Busy(at(MONDAY, "09:15"), at(MONDAY, "09:45")),
        Busy(at(MONDAY, "09:30"), at(MONDAY, "10:00")),  # overlaps one, touches the other
        Busy(at(MONDAY, "11:00"), at(MONDAY, "11:00")),  # empty: blocks nothing
    ]
    assert slots_on(mornings(), MONDAY, busy=busy) == ["09:00", *quarter_hours("10:30", "11:45")]


def test_busy_times_may_come_in_any_zone_even_across_a_fall_back() -> None:
    # Python compares datetimes sharing a tzinfo by wall clock: 02:05 CEST "sorts after" 02:00 CET,
    # which comes 55 minutes later. The engine must order them by instant.
    sunday = date(2026, 10, 25)
    agenda = Agenda(PARIS, (WeeklyRange(6, time(1), time(4), IN_PERSON),), rules=NO_NOTICE)
    busy = [
        Busy(utc("2026-10-25 01:00").astimezone(PARIS), utc("2026-10-25 01:30").astimezone(PARIS)),
        Busy(utc("2026-10-25 00:05").astimezone(PARIS), utc("2026-10-25 00:30").astimezone(PARIS)),
    ]
    assert busy[0].start.strftime("%H:%M") == "02:00"
    assert busy[1].start.strftime("%H:%M") == "02:05"
    starts = [s.start for s in slots_for(agenda, CONSULTATION, sunday, busy=busy)]
    assert utc("2026-10-25 00:00") not in starts  # 02:00-02:15 CEST overlaps 02:05-02:30 CEST
    assert utc("2026-10-25 00:30") in starts
    assert utc("2026-10-25 02:00") in starts


def slots_for(
    agenda: Agenda, visit_type: VisitTypeSpec, day: date, *, busy: list[Busy]
) -> list[Slot]:
    window_start = at(day, "00:00", agenda.timezone)
    return free_slots(
        agenda,
        visit_type,
        window_start=window_start,
        window_end=at(day + timedelta(days=1), "00:00", agenda.timezone),
        now=at(day - timedelta(days=1), "00:00", agenda.timezone),
        busy=busy,
    )


def test_the_daily_cap_closes_the_local_day() -> None:
    agenda = mornings(rules=replace(NO_NOTICE, daily_cap=2))
    early_monday = Busy(at(MONDAY, "00:30"), at(MONDAY, "00:45"))  # 22:30 UTC on Sunday
    early_tuesday = Busy(at(TUESDAY, "00:30"), at(TUESDAY, "00:45"))  # 22:30 UTC on Monday
    not_a_visit = Busy(at(MONDAY, "13:00"), at(MONDAY, "14:00"), counts_toward_cap=False)

    assert slots_on(agenda, MONDAY, busy=[early_monday, early_tuesday, not_a_visit]) != []
    full = [early_monday, Busy(at(MONDAY, "11:00"), at(MONDAY, "11:15")), early_tuesday]
    assert slots_on(agenda, MONDAY, busy=full) == []
    assert slots_on(agenda, TUESDAY, busy=full) != []


def test_min_notice_counts_from_now() -> None:
    agenda = mornings(rules=BookingRules(min_notice=timedelta(hours=2)))
    assert slots_on(agenda, MONDAY, now=at(MONDAY, "07:30"))[0] == "09:30"
    assert slots_on(agenda, MONDAY, now=at(MONDAY, "08:00"))[0] == "10:00"  # exactly: included


def test_max_horizon_counts_from_now_and_includes_its_end() -> None:
    agenda = mornings(rules=BookingRules(min_notice=timedelta(0), max_horizon=timedelta(days=1)))
    now = at(MONDAY, "10:00")
    assert slots_on(agenda, TUESDAY, now=now) == quarter_hours("09:00", "10:00")


def test_a_whole_day_absence() -> None:
    absence = DateOverride(OverrideKind.ABSENCE, MONDAY, MONDAY)
    assert slots_on(mornings(overrides=(absence,)), MONDAY) == []
    assert slots_on(mornings(overrides=(absence,)), TUESDAY) != []


def test_a_timed_absence_applies_to_each_of_its_days() -> None:
    absence = DateOverride(OverrideKind.ABSENCE, MONDAY, TUESDAY, time(9, 30), time(11))
    expected = [*quarter_hours("09:00", "09:00"), *quarter_hours("11:00", "11:30")]
    assert slots_on(mornings(overrides=(absence,)), MONDAY, LONG_CONSULTATION) == expected
    assert slots_on(mornings(overrides=(absence,)), TUESDAY, LONG_CONSULTATION) == expected


def test_a_holiday_closes_the_day_even_its_extra_openings() -> None:
    holiday = DateOverride(OverrideKind.HOLIDAY, MONDAY, MONDAY)
    extra = DateOverride(OverrideKind.EXTRA_OPENING, MONDAY, MONDAY, time(14), time(15), IN_PERSON)
    assert slots_on(mornings(overrides=(holiday, extra)), MONDAY) == []
    assert slots_on(mornings(overrides=(holiday,)), TUESDAY) != []


def test_an_extra_opening_has_its_own_grid_and_no_breaks() -> None:
    extra = DateOverride(
        OverrideKind.EXTRA_OPENING, MONDAY, MONDAY, time(14, 10), time(15), IN_PERSON
    )
    lunch = WeeklyBreak(0, time(11, 30), time(15))  # cuts the morning range, not the extra opening
    agenda = mornings(overrides=(extra,), breaks=(lunch,))
    assert slots_on(agenda, MONDAY) == [*quarter_hours("09:00", "11:15"), "14:10", "14:25", "14:40"]
    assert slots_on(agenda, MONDAY, VIDEO) == []


def test_an_extra_opening_on_a_closed_weekday() -> None:
    extra = DateOverride(OverrideKind.EXTRA_OPENING, SUNDAY, SUNDAY, time(10), time(11), IN_PERSON)
    assert slots_on(mornings(overrides=(extra,)), SUNDAY) == quarter_hours("10:00", "10:45")


def test_absences_apply_to_extra_openings() -> None:
    extra = DateOverride(OverrideKind.EXTRA_OPENING, SUNDAY, SUNDAY, time(10), time(11), IN_PERSON)
    absence = DateOverride(OverrideKind.ABSENCE, SUNDAY, SUNDAY, time(10), time(10, 30))
    assert slots_on(mornings(overrides=(extra, absence)), SUNDAY) == ["10:30", "10:45"]


def test_a_range_offers_only_its_visit_types() -> None:
    agenda = Agenda(
        PARIS,
        (
            WeeklyRange(0, time(9), time(10), frozenset({VIDEO.id})),
            WeeklyRange(0, time(10), time(11), IN_PERSON),
        ),
        rules=NO_NOTICE,
    )
    assert slots_on(agenda, MONDAY, VIDEO) == quarter_hours("09:00", "09:45")
    assert slots_on(agenda, MONDAY) == quarter_hours("10:00", "10:45")


def test_a_slot_fits_inside_one_range_and_shared_starts_appear_once() -> None:
    agenda = Agenda(
        PARIS,
        (
            WeeklyRange(0, time(9), time(10), IN_PERSON),
            WeeklyRange(0, time(9, 30), time(10, 30), IN_PERSON),
        ),
        rules=NO_NOTICE,
    )
    # 09:45 fits in the second range only; 10:00 and later only there too.
    assert slots_on(agenda, MONDAY, LONG_CONSULTATION) == quarter_hours("09:00", "10:00")


def test_adjacent_ranges_do_not_merge() -> None:
    agenda = Agenda(
        PARIS,
        (
            WeeklyRange(0, time(9), time(10), IN_PERSON),
            WeeklyRange(0, time(10), time(11), IN_PERSON),
        ),
        rules=NO_NOTICE,
    )
    assert "09:45" not in slots_on(agenda, MONDAY, LONG_CONSULTATION)


def test_limit_stops_early() -> None:
    def first(limit: int | None) -> list[Slot]:
        return free_slots(
            mornings(),
            CONSULTATION,
            window_start=at(MONDAY, "00:00"),
            window_end=at(MONDAY + timedelta(days=60), "00:00"),
            now=at(MONDAY, "00:00"),
            busy=[],
            limit=limit,
        )

    everything = first(None)
    assert len(everything) == 18 * 12  # 18 Monday and Tuesday mornings of 12 slots
    assert first(3) == everything[:3]
    assert first(13) == everything[:13]  # the 13th is on Tuesday
    assert first(0) == []


def test_a_window_outside_notice_and_horizon_is_empty() -> None:
    slots = free_slots(
        mornings(),
        CONSULTATION,
        window_start=at(MONDAY, "09:00"),
        window_end=at(MONDAY, "08:00"),
        now=at(MONDAY, "07:00"),
        busy=[],
    )
    assert slots == []


# -- Clock changes ---------------------------------------------------------------------------


def night(tz: ZoneInfo, weekday: int, start: str = "01:00", end: str = "04:00") -> Agenda:
    return Agenda(
        tz,
        (WeeklyRange(weekday, time.fromisoformat(start), time.fromisoformat(end), IN_PERSON),),
        rules=BookingRules(slot_step=timedelta(minutes=30), min_notice=timedelta(0)),
    )


def test_paris_spring_forward_skips_the_missing_hour() -> None:
    # 2026-03-29: at 02:00 CET the clock jumps to 03:00 CEST. 02:00 and 02:30 do not exist.
    assert utc_starts(night(PARIS, 6), date(2026, 3, 29), LONG_CONSULTATION) == [
        utc("2026-03-29 00:00"),  # 01:00 CET
        utc("2026-03-29 00:30"),  # 01:30 CET
        utc("2026-03-29 01:00"),  # 03:00 CEST
        utc("2026-03-29 01:30"),  # 03:30 CEST
    ]


def test_paris_spring_forward_does_not_shift_a_missing_time_to_a_later_one() -> None:
    # With a 45-minute grid from 01:00: 01:00, 01:45, [02:30 missing], 03:15, 04:00. The missing
    # 02:30 must not turn into 03:30 CEST, the instant that "02:30 CET" would be.
    agenda = replace(
        night(PARIS, 6, "01:00", "05:00"),
        rules=BookingRules(slot_step=timedelta(minutes=45), min_notice=timedelta(0)),
    )
    assert utc_starts(agenda, date(2026, 3, 29), LONG_CONSULTATION) == [
        utc("2026-03-29 00:00"),  # 01:00 CET
        utc("2026-03-29 00:45"),  # 01:45 CET
        utc("2026-03-29 01:15"),  # 03:15 CEST
        utc("2026-03-29 02:00"),  # 04:00 CEST
    ]


def test_paris_fall_back_offers_a_repeated_time_once() -> None:
    # 2026-10-25: at 03:00 CEST the clock goes back to 02:00 CET; 02:00-02:59 happens twice.
    assert utc_starts(night(PARIS, 6), date(2026, 10, 25), LONG_CONSULTATION) == [
        utc("2026-10-24 23:00"),  # 01:00 CEST
        utc("2026-10-24 23:30"),  # 01:30 CEST
        utc("2026-10-25 00:00"),  # 02:00 CEST, first occurrence
        utc("2026-10-25 00:30"),  # 02:30 CEST, first occurrence
        utc("2026-10-25 02:00"),  # 03:00 CET
        utc("2026-10-25 02:30"),  # 03:30 CET
    ]


def test_the_fold_of_an_agenda_time_is_ignored() -> None:
    # A weekly time stands for a wall time on many days: it has no "second occurrence".
    agenda = night(PARIS, 6, "02:00", "04:00")
    agenda = replace(agenda, weekly=(replace(agenda.weekly[0], start=time(2, fold=1)),))
    assert utc_starts(agenda, date(2026, 10, 25), LONG_CONSULTATION)[0] == utc("2026-10-25 00:00")


def test_durations_are_elapsed_time_across_a_fall_back() -> None:
    ninety_minutes = VisitTypeSpec(UUID(int=9), timedelta(minutes=90))
    agenda = night(PARIS, 6)
    agenda = replace(
        agenda, weekly=(replace(agenda.weekly[0], visit_type_ids=frozenset({ninety_minutes.id})),)
    )
    # 02:30 CEST + 90 minutes is 03:00 CET, inside the range; 03:00 CET + 90 minutes is not.
    assert utc_starts(agenda, date(2026, 10, 25), ninety_minutes) == [
        utc("2026-10-24 23:00"),
        utc("2026-10-24 23:30"),
        utc("2026-10-25 00:00"),
        utc("2026-10-25 00:30"),
    ]


def test_sydney_fall_back_in_april() -> None:
    # 2026-04-05: at 03:00 AEDT (+11) the clock goes back to 02:00 AEST (+10).
    assert utc_starts(night(SYDNEY, 6), date(2026, 4, 5), LONG_CONSULTATION) == [
        utc("2026-04-04 14:00"),  # 01:00 AEDT
        utc("2026-04-04 14:30"),
        utc("2026-04-04 15:00"),  # 02:00 AEDT, first occurrence
        utc("2026-04-04 15:30"),
        utc("2026-04-04 17:00"),  # 03:00 AEST
        utc("2026-04-04 17:30"),
    ]


def test_sydney_spring_forward_in_october() -> None:
    # 2026-10-04: at 02:00 AEST (+10) the clock jumps to 03:00 AEDT (+11).
    assert utc_starts(night(SYDNEY, 6), date(2026, 10, 4), LONG_CONSULTATION) == [
        utc("2026-10-03 15:00"),  # 01:00 AEST
        utc("2026-10-03 15:30"),
        utc("2026-10-03 16:00"),  # 03:00 AEDT
        utc("2026-10-03 16:30"),
    ]


def test_lord_howe_half_hour_fall_back() -> None:
    # 2026-04-05: at 02:00 (+11) the clock goes back to 01:30 (+10:30).
    assert utc_starts(night(LORD_HOWE, 6), date(2026, 4, 5), LONG_CONSULTATION) == [
        utc("2026-04-04 14:00"),  # 01:00 +11
        utc("2026-04-04 14:30"),  # 01:30 +11, first occurrence
        utc("2026-04-04 15:30"),  # 02:00 +10:30
        utc("2026-04-04 16:00"),
        utc("2026-04-04 16:30"),
        utc("2026-04-04 17:00"),  # 03:30 +10:30
    ]


def test_lord_howe_half_hour_spring_forward() -> None:
    # 2026-10-04: at 02:00 (+10:30) the clock jumps to 02:30 (+11).
    assert utc_starts(night(LORD_HOWE, 6), date(2026, 10, 4), LONG_CONSULTATION) == [
        utc("2026-10-03 14:30"),  # 01:00 +10:30
        utc("2026-10-03 15:00"),  # 01:30 +10:30
        utc("2026-10-03 15:30"),  # 02:30 +11
        utc("2026-10-03 16:00"),
        utc("2026-10-03 16:30"),
    ]


def test_santiago_midnight_does_not_exist_on_spring_forward() -> None:
    # 2026-09-06: Saturday 24:00 (-04) becomes Sunday 01:00 (-03). The range opens at the jump.
    agenda = night(SANTIAGO, 6, "00:00", "02:00")
    assert utc_starts(agenda, date(2026, 9, 6), LONG_CONSULTATION) == [
        utc("2026-09-06 04:00"),  # 01:00 -03
        utc("2026-09-06 04:30"),
    ]


def test_santiago_repeats_the_last_hour_of_saturday_on_fall_back() -> None:
    # 2026-04-04: Saturday 24:00 (-03) becomes Saturday 23:00 (-04). The range ends at the first
    # 23:55, so 23:30 -03 (a 30-minute visit would end at 24:00) does not fit.
    agenda = night(SANTIAGO, 5, "22:00", "23:55")
    assert utc_starts(agenda, date(2026, 4, 4), LONG_CONSULTATION) == [
        utc("2026-04-05 01:00"),  # 22:00 -03
        utc("2026-04-05 01:30"),
        utc("2026-04-05 02:00"),  # 23:00 -03, first occurrence
    ]


def test_a_range_starting_in_the_missing_hour_opens_at_the_jump() -> None:
    agenda = night(PARIS, 6, "02:30", "05:00")
    assert utc_starts(agenda, date(2026, 3, 29), LONG_CONSULTATION) == [
        utc("2026-03-29 01:00"),  # 03:00 CEST
        utc("2026-03-29 01:30"),
        utc("2026-03-29 02:00"),
        utc("2026-03-29 02:30"),  # 04:30 CEST
    ]


def test_a_range_ending_in_the_missing_hour_closes_at_the_jump() -> None:
    hour = VisitTypeSpec(UUID(int=9), timedelta(hours=1))
    agenda = night(PARIS, 6, "01:00", "02:30")
    agenda = replace(
        agenda, weekly=(replace(agenda.weekly[0], visit_type_ids=frozenset({hour.id})),)
    )
    # Open from 01:00 CET until the jump at 03:00 CEST: one elapsed hour.
    assert utc_starts(agenda, date(2026, 3, 29), hour) == [utc("2026-03-29 00:00")]


def test_a_break_in_the_missing_hour_still_takes_the_time_after_the_jump() -> None:
    agenda = replace(
        night(PARIS, 6, "01:00", "05:00"), breaks=(WeeklyBreak(6, time(2, 30), time(3, 30)),)
    )
    starts = utc_starts(agenda, date(2026, 3, 29), LONG_CONSULTATION)
    assert utc("2026-03-29 01:00") not in starts  # 03:00 CEST is in the break
    assert utc("2026-03-29 01:30") in starts  # 03:30 CEST


# -- check_slot ------------------------------------------------------------------------------


CHECKED = mornings(
    rules=BookingRules(
        slot_step=timedelta(minutes=15),
        min_notice=timedelta(hours=2),
        max_horizon=timedelta(days=30),
        buffer_after=timedelta(minutes=5),
        daily_cap=3,
    ),
    breaks=(WeeklyBreak(0, time(10, 30), time(11)),),
    overrides=(DateOverride(OverrideKind.ABSENCE, TUESDAY, TUESDAY, time(9), time(10)),),
)
SATURDAY_BEFORE = at(date(2026, 5, 30), "12:00")


def check(
    start: datetime,
    visit_type: VisitTypeSpec = CONSULTATION,
    *,
    now: datetime = SATURDAY_BEFORE,
    busy: tuple[Busy, ...] = (),
    relaxed: bool = False,
    agenda: Agenda = CHECKED,
) -> SlotProblem | None:
    return check_slot(agenda, visit_type, start=start, now=now, busy=busy, relaxed=relaxed)


NINE = at(MONDAY, "09:00")
FIVE_WEEKS_LATER = at(MONDAY + timedelta(weeks=5), "09:00")
LATE_VISITS = tuple(
    Busy(at(MONDAY, t), at(MONDAY, t) + timedelta(minutes=15)) for t in ("11:00", "11:15", "11:30")
)
PROBLEMS: dict[str, tuple[datetime, VisitTypeSpec, tuple[Busy, ...], SlotProblem | None]] = {
    "bookable": (NINE, CONSULTATION, (), None),
    "off the grid": (at(MONDAY, "09:07"), CONSULTATION, (), SlotProblem.NOT_ALIGNED),
    "beyond the horizon": (FIVE_WEEKS_LATER, CONSULTATION, (), SlotProblem.TOO_FAR),
    "after the range": (at(MONDAY, "13:00"), CONSULTATION, (), SlotProblem.CLOSED),
    "no range that day": (at(SUNDAY, "09:00"), CONSULTATION, (), SlotProblem.CLOSED),
    "in a break": (at(MONDAY, "10:30"), CONSULTATION, (), SlotProblem.CLOSED),
    "runs into a break": (at(MONDAY, "10:15"), LONG_CONSULTATION, (), SlotProblem.CLOSED),
    "runs past the range": (at(MONDAY, "11:45"), LONG_CONSULTATION, (), SlotProblem.CLOSED),
    "absent": (at(TUESDAY, "09:30"), CONSULTATION, (), SlotProblem.ABSENT),
    "visit type": (NINE, VIDEO, (), SlotProblem.VISIT_TYPE_NOT_OFFERED),
    "taken": (NINE, CONSULTATION, (Busy(NINE, NINE + timedelta(minutes=1)),), SlotProblem.TAKEN),
    "taken by the buffer": (
        NINE,
        CONSULTATION,
        (Busy(at(MONDAY, "09:15"), at(MONDAY, "09:30")),),  # 09:00 + 15 min + 5 min buffer
        SlotProblem.TAKEN,
    ),
    "clear of the buffer": (
        NINE,
        CONSULTATION,
        (Busy(at(MONDAY, "09:20"), at(MONDAY, "09:30")),),
        None,
    ),
    "day full": (NINE, CONSULTATION, LATE_VISITS, SlotProblem.DAY_FULL),
}


@pytest.mark.parametrize(
    ("start", "visit_type", "busy", "problem"), PROBLEMS.values(), ids=PROBLEMS.keys()
)
def test_check_slot_reports_the_problem(
    start: datetime,
    visit_type: VisitTypeSpec,
    busy: tuple[Busy, ...],
    problem: SlotProblem | None,
) -> None:
    assert check(start, visit_type, busy=busy) is problem


def test_check_slot_counts_the_notice_from_now() -> None:
    assert check(NINE, now=at(MONDAY, "07:01")) is SlotProblem.TOO_SOON
    assert check(NINE, now=at(MONDAY, "07:00")) is None


def test_problems_are_reported_in_enum_order() -> None:
    # Off the grid and too soon: off the grid is reported.
    assert check(at(MONDAY, "09:07"), now=at(MONDAY, "09:00")) is SlotProblem.NOT_ALIGNED
    # Too soon and closed: too soon is reported.
    assert check(at(MONDAY, "13:00"), now=at(MONDAY, "12:00")) is SlotProblem.TOO_SOON
    # Absent, wrong visit type and taken: absent is reported.
    taken = (Busy(at(TUESDAY, "09:00"), at(TUESDAY, "12:00")),)
    assert check(at(TUESDAY, "09:30"), VIDEO, busy=taken) is SlotProblem.ABSENT
    # Taken and day full: taken is reported.
    full = tuple(Busy(at(MONDAY, "09:00"), at(MONDAY, "09:15")) for _ in range(3))
    assert check(at(MONDAY, "09:00"), busy=full) is SlotProblem.TAKEN


def test_a_holiday_is_closed() -> None:
    holiday = DateOverride(OverrideKind.HOLIDAY, MONDAY, MONDAY)
    agenda = replace(CHECKED, overrides=(holiday,))
    assert check(at(MONDAY, "09:00"), agenda=agenda) is SlotProblem.CLOSED
    assert check(at(MONDAY, "09:07"), agenda=agenda) is SlotProblem.NOT_ALIGNED


def test_a_whole_day_absence_is_absent() -> None:
    agenda = replace(CHECKED, overrides=(DateOverride(OverrideKind.ABSENCE, MONDAY, MONDAY),))
    assert check(at(MONDAY, "09:00"), agenda=agenda) is SlotProblem.ABSENT
    assert check(at(MONDAY, "13:00"), agenda=agenda) is SlotProblem.CLOSED


def test_the_second_occurrence_of_a_repeated_time_is_not_aligned() -> None:
    agenda = night(PARIS, 6)
    now = utc("2026-10-20 00:00")
    first = utc("2026-10-25 00:30")  # 02:30 CEST
    second = utc("2026-10-25 01:30")  # 02:30 CET
    assert first.astimezone(PARIS).strftime("%H:%M") == second.astimezone(PARIS).strftime("%H:%M")
    assert check(first, LONG_CONSULTATION, now=now, agenda=agenda) is None
    assert check(second, LONG_CONSULTATION, now=now, agenda=agenda) is SlotProblem.NOT_ALIGNED
    assert check(second, LONG_CONSULTATION, now=now, agenda=agenda, relaxed=True) is None


@pytest.mark.parametrize(
    ("start", "now", "busy"),
    [
        pytest.param(at(MONDAY, "09:07"), SATURDAY_BEFORE, (), id="off the grid"),
        pytest.param(at(MONDAY, "09:00"), at(MONDAY, "08:30"), (), id="too soon"),
        pytest.param(at(MONDAY, "09:00"), at(MONDAY, "09:30"), (), id="in the past"),
        pytest.param(FIVE_WEEKS_LATER, SATURDAY_BEFORE, (), id="too far"),
        pytest.param(
            at(MONDAY, "09:00"),
            SATURDAY_BEFORE,
            tuple(Busy(at(MONDAY, "11:00"), at(MONDAY, "11:15")) for _ in range(3)),
            id="day full",
        ),
    ],
)
def test_relaxed_skips_grid_notice_horizon_and_cap(
    start: datetime, now: datetime, busy: tuple[Busy, ...]
) -> None:
    assert check(start, now=now, busy=busy) is not None
    assert check(start, now=now, busy=busy, relaxed=True) is None


@pytest.mark.parametrize(
    ("start", "visit_type", "busy", "problem"),
    [
        pytest.param(at(MONDAY, "13:00"), CONSULTATION, (), SlotProblem.CLOSED, id="closed"),
        pytest.param(at(MONDAY, "10:40"), CONSULTATION, (), SlotProblem.CLOSED, id="break"),
        pytest.param(at(TUESDAY, "09:40"), CONSULTATION, (), SlotProblem.ABSENT, id="absent"),
        pytest.param(
            at(MONDAY, "09:07"), VIDEO, (), SlotProblem.VISIT_TYPE_NOT_OFFERED, id="visit type"
        ),
        pytest.param(
            at(MONDAY, "09:07"),
            CONSULTATION,
            (Busy(at(MONDAY, "09:00"), at(MONDAY, "09:10")),),
            SlotProblem.TAKEN,
            id="taken",
        ),
    ],
)
def test_relaxed_still_refuses_closed_absent_not_offered_and_taken(
    start: datetime, visit_type: VisitTypeSpec, busy: tuple[Busy, ...], problem: SlotProblem
) -> None:
    assert check(start, visit_type, busy=busy, relaxed=True) is problem


# -- open_segments ---------------------------------------------------------------------------


def test_open_segments_lists_the_bookable_time_of_a_day() -> None:
    extra = DateOverride(OverrideKind.EXTRA_OPENING, MONDAY, MONDAY, time(14), time(15), IN_PERSON)
    agenda = mornings(
        breaks=(WeeklyBreak(0, time(10), time(10, 30)),),
        overrides=(
            extra,
            DateOverride(OverrideKind.ABSENCE, MONDAY, MONDAY, time(14, 30), time(16)),
        ),
    )
    assert open_segments(agenda, MONDAY) == [
        OpenSegment(utc("2026-06-01 07:00"), utc("2026-06-01 08:00"), IN_PERSON),
        OpenSegment(utc("2026-06-01 08:30"), utc("2026-06-01 10:00"), IN_PERSON),
        OpenSegment(utc("2026-06-01 12:00"), utc("2026-06-01 12:30"), IN_PERSON),
    ]
    assert open_segments(agenda, SUNDAY) == []


# -- Invalid input ---------------------------------------------------------------------------


NAIVE = datetime(2026, 6, 1, 9, 0)
AWARE = at(MONDAY, "09:00")


@pytest.mark.parametrize(
    ("window_start", "window_end", "now", "busy"),
    [
        pytest.param(NAIVE, AWARE, AWARE, [], id="window_start"),
        pytest.param(AWARE, NAIVE, AWARE, [], id="window_end"),
        pytest.param(AWARE, AWARE, NAIVE, [], id="now"),
        pytest.param(AWARE, AWARE, AWARE, [Busy(NAIVE, AWARE)], id="busy start"),
        pytest.param(AWARE, AWARE, AWARE, [Busy(AWARE, NAIVE)], id="busy until"),
    ],
)
def test_free_slots_refuses_naive_datetimes(
    window_start: datetime, window_end: datetime, now: datetime, busy: list[Busy]
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        free_slots(
            mornings(),
            CONSULTATION,
            window_start=window_start,
            window_end=window_end,
            now=now,
            busy=busy,
        )


@pytest.mark.parametrize(
    ("start", "now", "busy"),
    [
        pytest.param(NAIVE, AWARE, [], id="start"),
        pytest.param(AWARE, NAIVE, [], id="now"),
        pytest.param(AWARE, AWARE, [Busy(NAIVE, NAIVE)], id="busy"),
    ],
)
def test_check_slot_refuses_naive_datetimes(
    start: datetime, now: datetime, busy: list[Busy]
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_slot(mornings(), CONSULTATION, start=start, now=now, busy=busy)


def test_busy_time_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="end before it starts"):
        check_slot(
            mornings(),
            CONSULTATION,
            start=AWARE,
            now=AWARE,
            busy=[Busy(AWARE, AWARE - timedelta(minutes=1))],
        )


@pytest.mark.parametrize(
    ("agenda", "message"),
    [
        pytest.param(mornings(rules=BookingRules(slot_step=timedelta(0))), "slot_step", id="step"),
        pytest.param(
            mornings(rules=BookingRules(buffer_after=timedelta(minutes=-5))), "buffer", id="buffer"
        ),
        pytest.param(mornings(rules=BookingRules(daily_cap=-1)), "daily_cap", id="cap"),
        pytest.param(
            Agenda(PARIS, (WeeklyRange(0, time(12), time(9), IN_PERSON),)),
            "end after",
            id="range backwards",
        ),
        pytest.param(
            Agenda(PARIS, (WeeklyRange(7, time(9), time(12), IN_PERSON),)),
            "weekday",
            id="weekday",
        ),
        pytest.param(
            mornings(breaks=(WeeklyBreak(0, time(10), time(10)),)), "end after", id="empty break"
        ),
        pytest.param(
            mornings(overrides=(DateOverride(OverrideKind.HOLIDAY, TUESDAY, MONDAY),)),
            "end before",
            id="override backwards",
        ),
        pytest.param(
            mornings(overrides=(DateOverride(OverrideKind.EXTRA_OPENING, MONDAY, MONDAY),)),
            "needs start and end",
            id="untimed extra opening",
        ),
        pytest.param(
            mornings(overrides=(DateOverride(OverrideKind.ABSENCE, MONDAY, MONDAY, time(9)),)),
            "both start and end",
            id="half-timed absence",
        ),
        pytest.param(
            mornings(
                overrides=(DateOverride(OverrideKind.HOLIDAY, MONDAY, MONDAY, time(9), time(10)),),
            ),
            "no times",
            id="timed holiday",
        ),
        pytest.param(
            mornings(
                overrides=(DateOverride(OverrideKind.ABSENCE, MONDAY, MONDAY, time(10), time(9)),),
            ),
            "end after",
            id="absence backwards",
        ),
    ],
)
def test_invalid_agendas_are_refused(agenda: Agenda, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_slot(agenda, CONSULTATION, start=AWARE, now=AWARE, busy=[])
    with pytest.raises(ValueError, match=message):
        free_slots(
            agenda,
            CONSULTATION,
            window_start=AWARE,
            window_end=AWARE + timedelta(days=1),
            now=AWARE,
            busy=[],
        )


def test_a_visit_needs_a_positive_duration() -> None:
    instant = VisitTypeSpec(UUID(int=9), timedelta(0))
    with pytest.raises(ValueError, match="duration"):
        check_slot(mornings(), instant, start=AWARE, now=AWARE, busy=[])


def test_limit_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="limit"):
        free_slots(
            mornings(),
            CONSULTATION,
            window_start=AWARE,
            window_end=AWARE,
            now=AWARE,
            busy=[],
            limit=-1,
        )
