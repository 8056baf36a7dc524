"""The audit log's pages through the whole app: a patient's access history (theirs and their
relatives', in both languages, filtered, paged) and a practice's log for its admins, with its
filters; nobody else's patient, nobody else's practice."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE
from colloque.audit.context import RequestContext, bound
from colloque.audit.services import AuditAction, Outcome, record
from colloque.web import access_history_page
from colloque.web.i18n import Language
from tests.factories import Person
from tests.functional.web.conftest import Site
from tests.web_login import staff_login


def _as(site: Site, person: Person) -> TestClient:
    login = staff_login(site.db, site.clock, person.account_id)
    site.client.cookies.set(SESSION_COOKIE, login.session_cookie)
    site.client.cookies.set(CSRF_COOKIE, login.csrf_token)
    return site.client


def _read(
    site: Site,
    person: Person,
    patient: UUID,
    *,
    action: AuditAction = AuditAction.APPOINTMENT_VIEWED,
    outcome: Outcome = Outcome.ALLOWED,
    address: str | None = None,
) -> UUID:
    site.clock.advance(timedelta(seconds=1))
    with bound(RequestContext(client_address=address)), site.db.write() as session:
        return record(
            session,
            at=site.clock.now(),
            action=action,
            principal=person.principal(site.db),
            object_kind="appointment",
            object_id=uuid4(),
            practice_id=site.world.practice_id,
            subject_id=patient,
            outcome=outcome,
            reason=None if outcome is Outcome.ALLOWED else "not-found",
        )


def _cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in rows
        if "<td>" in row
    ]


@pytest.mark.parametrize(
    ("language", "title", "doctor", "secretary", "you"),
    [
        (
            Language.FR,
            "Qui a consulté mes dossiers",
            "Dr Claire Martin (praticien)",
            "Secrétariat",
            "Vous",
        ),
        (
            Language.EN,
            "Who accessed my records",
            "Dr Claire Martin (practitioner)",
            "Secretary",
            "You",
        ),
    ],
)
def test_a_patient_sees_who_accessed_their_records_in_their_language(
    site: Site, language: Language, title: str, doctor: str, secretary: str, you: str
) -> None:
    world = site.world
    _read(site, world.doctor, world.child_patient_id)
    _read(site, world.secretary, world.holder_patient_id, outcome=Outcome.DENIED)
    _read(site, world.secretary, world.stranger_patient_id)
    client = _as(site, world.holder)
    page = client.get(f"/me/access-history?lang={language.value}")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert f"<h1>{title}</h1>" in page.text
    assert '<a href="/me/access-history" aria-current="page">' in page.text or (
        'href="/me/access-history"' in page.text
    )
    rows = _cells(page.text)
    # The secretary's refused attempt, the doctor's read, then the account's own records' making.
    assert [row[2] for row in rows] == [secretary, doctor, you, you]
    assert rows[0][1] == "Cabinet du Test"
    assert rows[0][4] == "Hugo Bernard"
    assert rows[1][4] == "Lina Bernard"
    assert 'class="access-denied"' in page.text
    for hidden in (world.secretary.account_id, world.doctor.account_id, world.stranger_patient_id):
        assert str(hidden) not in page.text

    child = client.get(f"/me/access-history?patient={world.child_patient_id}&lang=en")
    assert [row[4] for row in _cells(child.text)] == ["Lina Bernard", "Lina Bernard"]
    assert f'<option value="{world.child_patient_id}" selected>' in child.text


def test_another_accounts_patient_answers_like_a_missing_one_and_old_pages_link_on(
    site: Site,
) -> None:
    world = site.world
    client = _as(site, world.holder)
    answers = set()
    for patient in (world.stranger_patient_id, uuid4(), "not-an-id"):
        response = client.get(f"/me/access-history?patient={patient}&lang=en")
        answers.add((response.status_code, response.text.replace(str(patient), "ID")))
    assert len(answers) == 1
    assert next(iter(answers))[0] == 404

    for _ in range(access_history_page.PAGE_SIZE):
        _read(site, world.doctor, world.child_patient_id)
    first = client.get(f"/me/access-history?patient={world.child_patient_id}")
    found = re.search(r'<a href="(/me/access-history\?[^"]+)">', first.text)
    assert found is not None
    older = client.get(found.group(1).replace("&amp;", "&"))
    assert len(_cells(older.text)) == 1  # the child's record's making
    assert len(_cells(first.text)) == access_history_page.PAGE_SIZE
    # A cursor this page did not make: the first page again.
    again = client.get("/me/access-history?before=nonsense")
    assert again.status_code == 200
    assert client.get("/me/access-history", follow_redirects=False).status_code == 200
    site.client.cookies.clear()
    assert site.client.get("/me/access-history", follow_redirects=False).status_code in {303, 307}


def test_an_admin_reads_the_practice_log_with_its_filters(site: Site) -> None:
    world = site.world
    doctor_read = _read(site, world.doctor, world.child_patient_id, address="198.51.100.23")
    _read(site, world.secretary, world.holder_patient_id, action=AuditAction.AGENDA_VIEWED)
    client = _as(site, world.admin)
    path = f"/practice/{world.practice_id}/audit"
    page = client.get(path + "?lang=en")
    assert page.status_code == 200, page.text
    assert "<h1>Audit log: Cabinet du Test</h1>" in page.text
    assert f'<a href="{path}" aria-current="page">' in page.text
    assert "198.51.100.0/24" in page.text
    assert "198.51.100.23" not in page.text
    assert str(doctor_read) not in page.text  # an event's own id is no use on the page

    by_doctor = client.get(path, params={"member": str(world.doctor.account_id), "lang": "en"})
    rows = _cells(by_doctor.text)
    assert [(row[1], row[2], row[3]) for row in rows] == [
        ("Doctor Claire", "practitioner", "booking:appointment:view")
    ]
    by_action = _cells(client.get(path, params={"action": "scheduling:agenda:view"}).text)
    assert [row[1] for row in by_action] == ["Secretary Sam"]
    by_patient = _cells(client.get(path, params={"patient": str(world.child_patient_id)}).text)
    assert [row[1] for row in by_patient] == ["Doctor Claire"]
    # The window is in the practice's wall-clock time (Paris, UTC+1 in March).
    local = site.clock.now() + timedelta(hours=1)
    window = {
        "from": (local - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "to": (local + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "action": "scheduling:agenda:view",
    }
    assert [row[1] for row in _cells(client.get(path, params=window).text)] == ["Secretary Sam"]

    for params, field in (
        ({"member": "nope"}, "member"),
        ({"patient": "nope"}, "patient"),
        ({"action": "no:such"}, "action"),
        ({"from": "yesterday"}, "from"),
        ({"from": window["to"], "to": window["from"]}, "to"),
    ):
        refused = client.get(path, params={**params, "lang": "en"})
        assert refused.status_code == 422, params
        assert 'role="alert"' in refused.text
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', refused.text), field


def test_the_practice_log_is_for_its_admins_alone(site: Site) -> None:
    world = site.world
    path = f"/practice/{world.practice_id}/audit"
    for person in (world.secretary, world.doctor):
        client = _as(site, person)
        assert client.get(path).status_code == 403
        assert f'href="{path}"' not in client.get(f"/practice/{world.practice_id}/agenda").text
    client = _as(site, world.holder)
    answers = set()
    for practice in (world.practice_id, uuid4(), "not-an-id"):
        other = f"/practice/{practice}/audit"
        response = client.get(other + "?lang=en")
        answers.add((response.status_code, response.text.replace(other, "PATH")))
    assert len(answers) == 1
    assert next(iter(answers))[0] == 404


def test_the_practice_log_pages_on_with_its_filters(site: Site) -> None:
    world = site.world
    for _ in range(51):
        _read(site, world.doctor, world.child_patient_id)
    client = _as(site, world.admin)
    path = f"/practice/{world.practice_id}/audit"
    first = client.get(path, params={"member": str(world.doctor.account_id)})
    assert len(_cells(first.text)) == 50
    found = re.search(r'<a href="([^"]+before=[^"]+)">', first.text)
    assert found is not None
    link = found.group(1).replace("&amp;", "&")
    assert f"member={world.doctor.account_id}" in link
    assert len(_cells(client.get(link).text)) == 1
