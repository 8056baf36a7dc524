"""The one-click unsubscribe link of reminders (RFC 8058): a POST with
``List-Unsubscribe=One-Click`` turns reminders off without login, a GET changes nothing, a forged
or expired link is a 404; the account turns them back on, and each change is audited."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from colloque.accounts.models import Account
from colloque.audit.models import AuditEvent
from colloque.config import Settings
from colloque.notifications.unsubscribe import (
    TOKEN_LIFETIME,
    Subscriber,
    Unsubscribe,
    make_token,
)
from colloque.patients.models import Patient
from colloque.patients.registry import do_register_patient
from tests.functional.http import bearer
from tests.functional.web.conftest import Site

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
KEY = Settings(run_refresher=False).server_keys.unsubscribe_token


def _link(site: Site, who: Unsubscribe, *, key: bytes = KEY) -> str:
    return "/unsubscribe/" + make_token(key, who, now=site.clock.now())


def _holder(site: Site) -> Unsubscribe:
    return Unsubscribe(Subscriber.ACCOUNT, site.world.holder.account_id)


def _reminders(site: Site) -> bool:
    with site.db.read() as session:
        account = session.get(Account, site.world.holder.account_id)
        assert account is not None
        return account.reminders


def _audited(site: Site, action: str) -> int:
    with site.db.read() as session:
        return len(session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_a_get_shows_a_button_and_changes_nothing(site: Site) -> None:
    response = site.client.get(_link(site, _holder(site)))
    assert response.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert _reminders(site)


def test_one_click_turns_reminders_off_without_login_and_the_account_turns_them_on(
    site: Site,
) -> None:
    link = _link(site, _holder(site))
    response = site.client.post(link, data=ONE_CLICK)
    assert response.status_code == 200
    assert not _reminders(site)
    # Repeating it (a mail client retrying) is harmless and audited once.
    assert site.client.post(link, data=ONE_CLICK).status_code == 200
    assert _audited(site, "accounts:reminders:change") == 1
    headers = bearer(site.world.holder)
    assert site.client.get("/api/v1/me/reminders", headers=headers).json() == {"enabled": False}
    answer = site.client.put("/api/v1/me/reminders", json={"enabled": True}, headers=headers)
    assert answer.json() == {"enabled": True}
    assert _reminders(site)
    assert _audited(site, "accounts:reminders:change") == 2


def test_a_multipart_one_click_is_understood(site: Site) -> None:
    response = site.client.post(
        _link(site, _holder(site)), files={"List-Unsubscribe": (None, "One-Click")}
    )
    assert response.status_code == 200
    assert not _reminders(site)


def test_a_post_without_the_one_click_body_is_refused(site: Site) -> None:
    response = site.client.post(_link(site, _holder(site)), data={"List-Unsubscribe": "yes"})
    assert response.status_code == 400
    assert _reminders(site)


def test_forged_expired_and_foreign_links_are_not_found(site: Site) -> None:
    good = _link(site, _holder(site))
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    other_key = _link(site, _holder(site), key=bytes(32))
    for link in (forged, other_key, "/unsubscribe/not-a-token", "/unsubscribe/" + "A" * 300):
        assert site.client.post(link, data=ONE_CLICK).status_code == 404
        assert site.client.get(link).status_code == 404
    site.clock.set(site.clock.now() + TOKEN_LIFETIME + timedelta(seconds=1))
    assert site.client.post(good, data=ONE_CLICK).status_code == 404
    assert _reminders(site)


def test_a_patient_without_an_account_is_unsubscribed_by_their_link(site: Site) -> None:
    with site.db.write() as session:
        registered = do_register_patient(
            session,
            now=site.clock.now(),
            principal=site.world.secretary.principal(site.db),
            practice_id=site.world.practice_id,
            first_name="Paul",
            last_name="Durand",
            birth_date=date(1950, 1, 1),
            phone="+33612345678",
        )
        patient_id = registered.patient.patient_id
    link = _link(site, Unsubscribe(Subscriber.PATIENT, patient_id))
    assert site.client.post(link, data=ONE_CLICK).status_code == 200
    with site.db.read() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        assert not patient.reminders
    assert _audited(site, "patients:reminders:change") == 1
    # A patient who has an account is the account's to decide: their link is not theirs.
    holder_patient = Unsubscribe(Subscriber.PATIENT, site.world.holder_patient_id)
    assert site.client.post(_link(site, holder_patient), data=ONE_CLICK).status_code == 404
