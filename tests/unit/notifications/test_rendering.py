"""What the templates say, in both languages, and what they never let through."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import pytest

from colloque.notifications.rendering import (
    CancelledBy,
    Language,
    Notice,
    reference_code,
    render,
    when,
)
from colloque.notifications.services import Template

# 2026-07-14 07:30 UTC is 09:30 in Paris (summer time) and 03:30 in Martinique.
SUMMER = datetime(2026, 7, 14, 7, 30, tzinfo=UTC)
NOTICE = Notice(
    template=Template.APPOINTMENT_CONFIRMED,
    language=Language.FR,
    timezone="Europe/Paris",
    practitioner="Dr Claire Martin",
    practice_name="Cabinet <b>du</b> Test",
    practice_address="12 rue de la Paix, 75002 Paris",
    starts_at=SUMMER,
    link="https://colloque.test/me/appointments",
    reference="ABCDEFGH",
)


def test_times_are_the_practice_s_local_times_in_the_recipient_s_language() -> None:
    assert when(SUMMER, timezone="Europe/Paris", language=Language.FR) == (
        "mardi 14 juillet 2026 à 09:30"
    )
    assert when(SUMMER, timezone="Europe/Paris", language=Language.EN) == (
        "Tuesday, 14 July 2026 at 09:30"
    )
    assert when(SUMMER, timezone="America/Martinique", language=Language.FR) == (
        "mardi 14 juillet 2026 à 03:30"
    )


def test_the_html_part_escapes_what_the_practice_typed_and_the_text_keeps_it() -> None:
    rendered = render(NOTICE)
    assert "Cabinet &lt;b&gt;du&lt;/b&gt; Test" in rendered.html
    assert "<b>du</b>" not in rendered.html
    assert "Cabinet <b>du</b> Test" in rendered.text


@pytest.mark.parametrize(
    ("language", "by", "expected"),
    [
        (Language.FR, CancelledBy.PRACTICE, "Le cabinet a annulé votre rendez-vous du"),
        (Language.FR, CancelledBy.PATIENT, "a été annulé à votre demande"),
        (Language.EN, CancelledBy.PRACTICE, "The practice cancelled your appointment on"),
        (Language.EN, CancelledBy.PATIENT, "was cancelled at your request"),
    ],
)
def test_a_cancellation_says_who(language: Language, by: CancelledBy, expected: str) -> None:
    rendered = render(
        replace(NOTICE, template=Template.APPOINTMENT_CANCELLED, language=language, cancelled_by=by)
    )
    assert expected in rendered.text
    assert expected in rendered.html


def test_a_move_in_english_gives_both_times() -> None:
    rendered = render(
        replace(
            NOTICE,
            template=Template.APPOINTMENT_MOVED,
            language=Language.EN,
            previous_starts_at=datetime(2026, 7, 13, 7, 30, tzinfo=UTC),
        )
    )
    assert rendered.subject == "Appointment moved to Tuesday, 14 July 2026 at 09:30"
    assert "Previous time: Monday, 13 July 2026 at 09:30" in rendered.text
    assert "New time: Tuesday, 14 July 2026 at 09:30" in rendered.text
    assert "Monday, 13 July 2026 at 09:30" in rendered.sms


def test_every_email_says_where_to_check_it_and_names_its_reference() -> None:
    for language in Language:
        rendered = render(replace(NOTICE, language=language))
        assert "ABCDEFGH" in rendered.text
        assert "ABCDEFGH" in rendered.html
        assert "https://colloque.test/me/appointments" in rendered.text
    assert reference_code(UUID(int=0)) == "AAAAAAAA"


def test_the_reference_line_points_to_the_inbox_when_there_is_one() -> None:
    inbox = "https://colloque.test/me/notifications"
    for language, said in ((Language.FR, "ne vient pas de nous"), (Language.EN, "not from us")):
        rendered = render(replace(NOTICE, language=language, inbox_link=inbox))
        assert inbox in rendered.text
        assert inbox in rendered.html
        assert said in rendered.text
        # A patient without an account has no inbox: nothing claims there is one.
        alone = render(replace(NOTICE, language=language))
        assert said not in alone.text
        assert "notifications" not in alone.text + alone.html
    assert Language.of("en") is Language.EN
    assert Language.of("de") is Language.FR


def test_a_new_message_notice_names_the_practice_only() -> None:
    for language in Language:
        rendered = render(
            Notice(
                template=Template.MESSAGE_RECEIVED,
                language=language,
                timezone="Europe/Paris",
                practice_name="Cabinet <b>du</b> Test",
                link="https://colloque.test/me/records",
                reference="ABCDEFGH",
            )
        )
        assert "Cabinet <b>du</b> Test" in rendered.subject
        assert "Cabinet &lt;b&gt;du&lt;/b&gt; Test" in rendered.html
        assert "https://colloque.test/me/records" in rendered.sms
        assert "None" not in rendered.text + rendered.html + rendered.sms


def test_a_move_queued_before_its_event_was_recorded_gives_the_new_time_only() -> None:
    rendered = render(replace(NOTICE, template=Template.APPOINTMENT_MOVED))
    assert "Ancien horaire" not in rendered.text
    assert "Nouvel horaire : mardi 14 juillet 2026 à 09:30" in rendered.text
    assert "None" not in rendered.text + rendered.html + rendered.sms


AWAY = replace(
    NOTICE,
    template=Template.APPOINTMENT_CANCELLED,
    cancelled_by=CancelledBy.PRACTICE,
    rebook_link="https://colloque.test/practitioners/p/q",
)


@pytest.mark.parametrize(
    ("language", "lead", "first"),
    [
        (Language.FR, "Les prochains horaires libres avec Dr Claire Martin", "mercredi 15 juillet"),
        (Language.EN, "The next free times with Dr Claire Martin", "Wednesday, 15 July"),
    ],
)
def test_a_cancellation_for_an_absence_offers_the_next_free_times(
    language: Language, lead: str, first: str
) -> None:
    later = (datetime(2026, 7, 15, 7, 0, tzinfo=UTC), datetime(2026, 7, 15, 7, 15, tzinfo=UTC))
    rendered = render(replace(AWAY, language=language, other_times=later))
    for part in (rendered.text, rendered.html):
        assert lead in part
        assert first in part
        assert "https://colloque.test/practitioners/p/q" in part
    assert rendered.html.count("<li>") == 2
    assert first in rendered.sms
    assert "https://colloque.test/practitioners/p/q" in rendered.sms


@pytest.mark.parametrize(
    ("language", "words"), [(Language.FR, "liste d'attente"), (Language.EN, "join the waitlist")]
)
def test_with_no_free_time_ahead_it_offers_the_waitlist(language: Language, words: str) -> None:
    rendered = render(replace(AWAY, language=language))
    assert words in rendered.text
    assert words in rendered.html


def test_other_cancellations_offer_nothing_more() -> None:
    rendered = render(replace(AWAY, rebook_link=None))
    assert "practitioners" not in rendered.text + rendered.html + rendered.sms


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize(
    "template", [Template.REMINDER_WEEK, Template.REMINDER_DAY, Template.REMINDER_SMS]
)
def test_reminders_carry_their_unsubscribe_link_in_both_parts(
    language: Language, template: Template
) -> None:
    link = "https://colloque.test/unsubscribe/TOKEN"
    rendered = render(replace(NOTICE, template=template, language=language, unsubscribe=link))
    assert link in rendered.text
    assert f'href="{link}"' in rendered.html
    assert "ABCDEFGH" in rendered.sms
    assert "unsubscribe" not in rendered.sms  # an SMS has no link to spend characters on
    # Other messages have none.
    assert "unsubscribe" not in render(replace(NOTICE, language=language)).text


def test_the_day_s_sms_says_tomorrow() -> None:
    day = render(replace(NOTICE, template=Template.REMINDER_SMS))
    assert day.sms.startswith("Colloque : rappel, RDV demain mardi 14 juillet 2026 à 09:30")
    english = render(replace(NOTICE, template=Template.REMINDER_WEEK, language=Language.EN))
    assert english.subject == "Reminder: appointment on Tuesday, 14 July 2026 at 09:30"
