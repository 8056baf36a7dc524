"""The channels against real servers: DKIM signatures that verify, the SMS provider's failures
over loopback HTTP, the maildir of the demo."""

from __future__ import annotations

import mailbox
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dkim
import pytest
from sqlalchemy import select

from colloque.booking.rules import Source
from colloque.clock import SettableClock
from colloque.delivery.channels import Channels
from colloque.delivery.outbox import RetryPolicy
from colloque.notifications.interfaces import DeliveryError, OutgoingMail, TextMessage
from colloque.notifications.mail import DkimSigner, MaildirMailSender, compose
from colloque.notifications.models import OutboxMessage
from colloque.notifications.sms import HttpSmsProvider
from colloque.patients.registry import do_register_patient
from colloque.storage.engine import Database
from tests.factories import World, book
from tests.functional.notifications.conftest import delivery_for, smtp_to
from tests.sms import running_provider
from tests.smtp import Inbox

VECTORS = Path(__file__).parents[2] / "vectors" / "dkim"
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MAIL = OutgoingMail(
    to="ana@example.test",
    subject="Rendez-vous confirmé",
    text="Bonjour,\n\nVotre rendez-vous est confirmé.\n",
    html="<p>Votre rendez-vous est confirmé.</p>",
    message_id="<0b7e5c1e-0000-4000-8000-000000000001@mail.colloque.test>",
    date=MON_0900,
)


def _signer() -> DkimSigner:
    return DkimSigner(
        selector="s2026",
        domain="colloque.test",
        private_key_pem=(VECTORS / "test-private.pem").read_bytes(),
    )


def _dns(name: bytes, timeout: int = 5) -> bytes:
    assert name == b"s2026._domainkey.colloque.test."
    return b"v=DKIM1; k=rsa; p=" + (VECTORS / "test-public.b64").read_bytes().strip()


def test_signed_mail_verifies_against_the_public_key_and_a_change_breaks_it() -> None:
    raw = compose(MAIL, sender="Colloque <noreply@colloque.test>", at=MON_0900, signer=_signer())
    assert raw.startswith(b"DKIM-Signature: ")
    assert dkim.verify(raw, dnsfunc=_dns)
    assert not dkim.verify(raw.replace(b"confirm", b"annul"), dnsfunc=_dns)
    unsigned = compose(MAIL, sender="Colloque <noreply@colloque.test>", at=MON_0900)
    assert b"DKIM-Signature" not in unsigned
    assert b"Message-ID: <0b7e5c1e-0000-4000-8000-000000000001@mail.colloque.test>" in unsigned


def test_the_maildir_keeps_each_message_once(tmp_path: Path) -> None:
    maildir = MaildirMailSender(tmp_path / "maildir", sender="noreply@colloque.test")
    maildir.deliver(MAIL)
    maildir.deliver(MAIL)  # the same Message-ID again: what a crash may cause
    box = mailbox.Maildir(tmp_path / "maildir", create=False)
    assert [m["Message-ID"] for m in box] == [MAIL.message_id]


def _phone_only_booking(db: Database, clock: SettableClock, world: World) -> None:
    with db.write() as session:
        registered = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            first_name="Paul",
            last_name="Durand",
            birth_date=date(1950, 1, 1),
            phone="+33612345678",
        )
    book(
        db,
        clock,
        world,
        MON_0900 + timedelta(days=1),
        person=world.secretary,
        patient_id=registered.patient.patient_id,
        source=Source.PRACTICE,
    )


def test_sms_survives_the_provider_s_500_timeout_and_rate_limit_and_is_sent_once(
    db: Database, clock: SettableClock, world: World, inbox: Inbox
) -> None:
    _phone_only_booking(db, clock, world)
    with running_provider(["500", "timeout", "429", "200"]) as provider:
        sms = HttpSmsProvider(
            url=provider.url, token=provider.token, sender="Colloque", timeout=0.5
        )
        delivery = delivery_for(
            db,
            clock,
            Channels(email=smtp_to(inbox), sms=sms),
            policy=RetryPolicy(base=timedelta(seconds=10)),
        )
        for expected in ("sms_unavailable", "sms_timeout", "sms_rate_limited"):
            assert delivery.run_round().retried == 1
            with db.read() as session:
                row = session.scalars(select(OutboxMessage)).one()
            assert row.last_error == expected
            assert row.due_at is not None
            if expected == "sms_rate_limited":
                # The provider asked for 600 s: more than the backoff would have waited.
                assert row.due_at - clock.now() >= timedelta(seconds=600)
            clock.set(row.due_at)
        assert delivery.run_round().sent == 1
        # The same message, retried after a crash, is sent once by the provider.
        sms.deliver(
            TextMessage(to="+33612345678", text="again", idempotency_key=provider.requests[0])
        )
        sms.close()
    assert inbox.messages == []  # a patient with only a phone gets no mail
    assert len(provider.sent) == 1
    to, text, key = provider.sent[0]
    assert to == "+33612345678"
    assert "mardi 3 mars 2026 à 09:00" in text
    assert "Paul" not in text
    assert len(set(provider.requests)) == 1
    assert key == f"colloque-{row.message_id}"


def test_a_request_the_provider_refuses_is_not_retried() -> None:
    with running_provider(["400"]) as provider:
        sms = HttpSmsProvider(url=provider.url, token=provider.token, sender="Colloque")
        with pytest.raises(DeliveryError) as raised:
            sms.deliver(TextMessage(to="+33612345678", text="x", idempotency_key="k"))
        sms.close()
    assert raised.value.permanent
    assert raised.value.category == "sms_refused"
