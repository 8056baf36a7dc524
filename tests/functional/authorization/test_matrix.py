"""The authorization matrix: every operation of the API, for every role, against every target.

``MATRIX`` maps each operation of the OpenAPI document, ``(METHOD, path template)``, to how a
request is built for a target and the outcome expected for each role (a grid, below). For every
cell the test sends the request as that role and checks:

- ``ok``: a 2xx; a mutation gets a fresh disposable object, so that it can succeed;
- ``404``: a 404 *byte for byte* like the same request for a missing object (same practice,
  random id): somebody else's object must look exactly like no object at all;
- ``401`` / ``403`` (or any other status): exactly that status;
- ``4xx``: any client error (for operations whose refusal is not about objects, e.g. a login);
- and, for every cell: never a 500, and never the id of anything the role may not see (the scene
  registers every object it makes and who may see it).

Each role is also sent a request for a missing object (404, or 401 where it is anonymous). A new
operation without an entry fails ``test_every_operation_has_an_entry`` with the entries to add;
docs/authorization.md explains how to add one.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from colloque.storage.registry import load_metadata
from tests.conftest import T0
from tests.functional.authorization.conftest import MATRIX_RUNS, make_app
from tests.functional.authorization.scene import ROLES, Mode, Scene, Target

P = "/api/v1/practices"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None


Builder = Callable[[Scene, Target], Call]


def healthz(_s: Scene, _t: Target) -> Call:
    return Call("/healthz")


def search(_s: Scene, _t: Target) -> Call:
    return Call("/api/v1/search", params={"specialty": "general_practice", "city": "Paris"})


def specialties(_s: Scene, _t: Target) -> Call:
    return Call("/api/v1/specialties")


def practice_page(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}")


def practitioners_page(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/practitioners")


def free_slots(s: Scene, t: Target) -> Call:
    site = s.site(t)
    return Call(
        f"{P}/{site.practice_id}/practitioners/{site.practitioner_id}/slots",
        params={"visit_type_id": str(site.visit_type_id), "days": 1},
    )


def get(path: str) -> Builder:
    def build(_s: Scene, _t: Target) -> Call:
        return Call(path)

    return build


def add_relative(_s: Scene, _t: Target) -> Call:
    body = {"first_name": "Mat", "last_name": "Rix", "birth_date": "2001-02-03"}
    return Call("/api/v1/me/patients", json={**body, "relationship": "other"})


def create_practice(_s: Scene, _t: Target) -> Call:
    return Call(
        P,
        json={
            "name": "Cabinet Matrice",
            "address": "1 rue du Test",
            "postcode": "31000",
            "city": "Toulouse",
            "latitude": 43.6,
            "longitude": 1.44,
        },
    )


def add_practitioner(s: Scene, t: Target) -> Call:
    body = {"first_name": "Nora", "last_name": "Matrice", "specialty": "general_practice"}
    return Call(f"{P}/{s.practice(t)}/practitioners", json=body)


def change_settings(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/settings", json={"hold_minutes": 30})


def agenda(s: Scene, t: Target) -> Call:
    window = {"from": "2026-02-23T00:00:00Z", "until": "2026-03-20T00:00:00Z"}
    return Call(f"{P}/{s.practice(t)}/agenda", params=window)


def book_by_practice(s: Scene, t: Target) -> Call:
    site = s.site(t)
    body = {
        "practitioner_id": str(site.practitioner_id),
        "visit_type_id": str(site.visit_type_id),
        "patient_id": str(site.desk_patient_id),
        "starts_at": s.slot(t).isoformat(),
    }
    return Call(f"{P}/{site.practice_id}/appointments", json=body)


def list_grants(s: Scene, t: Target) -> Call:
    return Call(f"{P}/{s.practice(t)}/operator-grants")


def grant(s: Scene, t: Target) -> Call:
    body = {"operator_account_id": str(s.spare_operator.account_id), "duration_minutes": 60}
    return Call(f"{P}/{s.practice(t)}/operator-grants", json=body)


def revoke(s: Scene, t: Target) -> Call:
    ref = s.grant(t)
    return Call(f"{P}/{ref.practice_id}/operator-grants/{ref.id}")


def agenda_part(suffix: str, body: Callable[[Scene, Target], dict[str, Any]]) -> Builder:
    def build(s: Scene, t: Target) -> Call:
        site = s.site(t)
        path = f"{P}/{site.practice_id}/practitioners/{site.practitioner_id}/{suffix}"
        return Call(path, json=body(s, t))

    return build


def rules_body(_s: Scene, _t: Target) -> dict[str, Any]:
    # The agendas' own rules: the other operations rely on them.
    return {"slot_step_minutes": 15, "min_notice_minutes": 60, "max_horizon_days": 60}


def visit_type_body(_s: Scene, _t: Target) -> dict[str, Any]:
    return {"label": "Visite matrice", "duration_minutes": 15}


def opening_body(s: Scene, t: Target) -> dict[str, Any]:
    start, end = s.sunday_range(t)
    visit_type = str(s.sites[t.site].visit_type_id)
    return {"weekday": 6, "start_minute": start, "end_minute": end, "visit_type_ids": [visit_type]}


def break_body(_s: Scene, _t: Target) -> dict[str, Any]:
    return {"weekday": 6, "start_minute": 0, "end_minute": 10}


def override_body(_s: Scene, _t: Target) -> dict[str, Any]:
    return {"kind": "holiday", "first_day": "2026-12-24", "last_day": "2026-12-25"}


def remove_opening(s: Scene, t: Target) -> Call:
    ref = s.opening(t)
    return Call(f"{P}/{ref.practice_id}/openings/{ref.id}")


def view_appointment(s: Scene, t: Target) -> Call:
    ref = s.appointment(t)
    return Call(f"{P}/{ref.practice_id}/appointments/{ref.id}")


def cancel(s: Scene, t: Target) -> Call:
    ref = s.appointment(t)
    return Call(f"{P}/{ref.practice_id}/appointments/{ref.id}/cancel", json={"reason": "other"})


def reschedule(s: Scene, t: Target) -> Call:
    ref = s.appointment(t)
    body = {"starts_at": s.slot(t).isoformat()}
    return Call(f"{P}/{ref.practice_id}/appointments/{ref.id}/reschedule", json=body)


def mark(s: Scene, t: Target) -> Call:
    ref = s.appointment(t, past=True)
    return Call(f"{P}/{ref.practice_id}/appointments/{ref.id}/mark", json={"outcome": "done"})


def book_online(s: Scene, t: Target) -> Call:
    site = s.sites[t.site]  # the patient is the object; the practice stays
    body = {
        "practice_id": str(site.practice_id),
        "practitioner_id": str(site.practitioner_id),
        "visit_type_id": str(site.visit_type_id),
        "patient_id": str(s.patient(t)),
        "starts_at": s.slot(t).isoformat(),
    }
    return Call("/api/v1/appointments", json=body)


def join_waitlist(s: Scene, t: Target) -> Call:
    site = s.sites[t.site]
    day = s.wait_day[t.site].isoformat()
    body = {
        "practice_id": str(site.practice_id),
        "practitioner_id": str(site.practitioner_id),
        "visit_type_id": str(site.visit_type_id),
        "patient_id": str(s.patient(t)),
        "first_day": day,
        "last_day": day,
    }
    return Call("/api/v1/waitlist", json=body)


def remove_relative(s: Scene, t: Target) -> Call:
    return Call(f"/api/v1/me/patients/{s.relative(t)}")


def leave_waitlist(s: Scene, t: Target) -> Call:
    ref = s.entry(t)
    return Call(f"{P}/{ref.practice_id}/waitlist/{ref.id}")


def decide_offer(s: Scene, t: Target) -> Call:
    ref = s.offer(t)
    return Call(f"{P}/{ref.practice_id}/waitlist-offers/{ref.id}/decision", json={"accept": True})


# --- expected outcomes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grid:
    columns: tuple[str, ...]
    cells: Mapping[str, Mapping[str, str]]


def grid(table: str) -> Grid:
    """A table: the first line names the targets, then one line per role, in ROLES order."""
    lines = [line.split() for line in table.strip().splitlines()]
    columns = tuple(lines[0])
    cells: dict[str, dict[str, str]] = {}
    for role, *outcomes in lines[1:]:
        assert len(outcomes) == len(columns), f"{role}: {len(columns)} outcomes expected"
        for outcome in outcomes:
            assert outcome in ("ok", "4xx") or re.fullmatch(r"[1-5]\d\d", outcome), outcome
        cells[role] = dict(zip(columns, outcomes, strict=True))
    assert tuple(cells) == ROLES, f"rows must be {ROLES}"
    return Grid(columns, cells)


PUBLIC = grid("""
                  -
    anonymous     ok
    holder        ok
    stranger      ok
    secretary     ok
    practitioner  ok
    admin         ok
    other_admin   ok
    operator      ok
    granted       ok
""")

PUBLIC_PRACTICE = grid("""
                  here  there
    anonymous     ok    ok
    holder        ok    ok
    stranger      ok    ok
    secretary     ok    ok
    practitioner  ok    ok
    admin         ok    ok
    other_admin   ok    ok
    operator      ok    ok
    granted       ok    ok
""")

SIGNED_IN = grid("""
                  -
    anonymous     401
    holder        ok
    stranger      ok
    secretary     ok
    practitioner  ok
    admin         ok
    other_admin   ok
    operator      ok
    granted       ok
""")

PRACTICE_READ = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     ok    404
    practitioner  ok    404
    admin         ok    404
    other_admin   404   ok
    operator      404   404
    granted       ok    404
""")

PRACTICE_BOOK = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     ok    404
    practitioner  ok    404
    admin         ok    404
    other_admin   404   ok
    operator      404   404
    granted       403   404
""")

AGENDA_MANAGE = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     ok    404
    practitioner  403   404
    admin         ok    404
    other_admin   404   ok
    operator      404   404
    granted       403   404
""")

ADMIN_ONLY = grid("""
                  here  there
    anonymous     401   401
    holder        404   404
    stranger      404   404
    secretary     403   404
    practitioner  403   404
    admin         ok    404
    other_admin   404   ok
    operator      404   404
    granted       403   404
""")

APPOINTMENT_READ = grid("""
                  mine  theirs  elsewhere
    anonymous     401   401     401
    holder        ok    404     404
    stranger      404   ok      404
    secretary     ok    ok      404
    practitioner  ok    ok      404
    admin         ok    ok      404
    other_admin   404   404     ok
    operator      404   404     404
    granted       ok    ok      404
""")

APPOINTMENT_CHANGE = grid("""
                  mine  theirs  elsewhere
    anonymous     401   401     401
    holder        ok    404     404
    stranger      404   ok      404
    secretary     ok    ok      404
    practitioner  ok    ok      404
    admin         ok    ok      404
    other_admin   404   404     ok
    operator      404   404     404
    granted       403   403     404
""")

APPOINTMENT_MARK = grid("""
                  mine  theirs  elsewhere
    anonymous     401   401     401
    holder        404   404     404
    stranger      404   404     404
    secretary     ok    ok      404
    practitioner  ok    ok      404
    admin         ok    ok      404
    other_admin   404   404     ok
    operator      404   404     404
    granted       403   403     404
""")

PATIENT_ONLY = grid("""
                  mine  theirs  elsewhere
    anonymous     401   401     401
    holder        ok    404     404
    stranger      404   ok      404
    secretary     404   404     404
    practitioner  404   404     404
    admin         404   404     404
    other_admin   404   404     404
    operator      404   404     404
    granted       404   404     404
""")


@dataclass(frozen=True, slots=True)
class Spec:
    build: Builder
    grid: Grid


PRACTICE = "/api/v1/practices/{practice_id}"
AGENDA = PRACTICE + "/practitioners/{practitioner_id}"
APPOINTMENT = PRACTICE + "/appointments/{appointment_id}"

#: Every operation of the API. Keep in the order of the OpenAPI document.
MATRIX: dict[tuple[str, str], Spec] = {
    ("GET", "/healthz"): Spec(healthz, PUBLIC),
    ("GET", "/api/v1/search"): Spec(search, PUBLIC),
    ("GET", "/api/v1/specialties"): Spec(specialties, PUBLIC),
    ("GET", PRACTICE): Spec(practice_page, PUBLIC_PRACTICE),
    ("GET", PRACTICE + "/practitioners"): Spec(practitioners_page, PUBLIC_PRACTICE),
    ("POST", PRACTICE + "/practitioners"): Spec(add_practitioner, ADMIN_ONLY),
    ("GET", AGENDA + "/slots"): Spec(free_slots, PUBLIC_PRACTICE),
    ("POST", "/api/v1/practices"): Spec(create_practice, SIGNED_IN),
    ("PATCH", PRACTICE + "/settings"): Spec(change_settings, ADMIN_ONLY),
    ("PUT", AGENDA + "/rules"): Spec(agenda_part("rules", rules_body), AGENDA_MANAGE),
    ("POST", AGENDA + "/visit-types"): Spec(
        agenda_part("visit-types", visit_type_body), AGENDA_MANAGE
    ),
    ("POST", AGENDA + "/openings"): Spec(agenda_part("openings", opening_body), AGENDA_MANAGE),
    ("DELETE", PRACTICE + "/openings/{opening_id}"): Spec(remove_opening, AGENDA_MANAGE),
    ("POST", AGENDA + "/breaks"): Spec(agenda_part("breaks", break_body), AGENDA_MANAGE),
    ("POST", AGENDA + "/overrides"): Spec(agenda_part("overrides", override_body), AGENDA_MANAGE),
    ("POST", "/api/v1/appointments"): Spec(book_online, PATIENT_ONLY),
    ("POST", PRACTICE + "/appointments"): Spec(book_by_practice, PRACTICE_BOOK),
    ("GET", "/api/v1/me/appointments"): Spec(get("/api/v1/me/appointments"), SIGNED_IN),
    ("GET", APPOINTMENT): Spec(view_appointment, APPOINTMENT_READ),
    ("POST", APPOINTMENT + "/cancel"): Spec(cancel, APPOINTMENT_CHANGE),
    ("POST", APPOINTMENT + "/reschedule"): Spec(reschedule, APPOINTMENT_CHANGE),
    ("POST", APPOINTMENT + "/mark"): Spec(mark, APPOINTMENT_MARK),
    ("GET", PRACTICE + "/agenda"): Spec(agenda, PRACTICE_READ),
    ("GET", "/api/v1/me/patients"): Spec(get("/api/v1/me/patients"), SIGNED_IN),
    ("POST", "/api/v1/me/patients"): Spec(add_relative, SIGNED_IN),
    ("DELETE", "/api/v1/me/patients/{patient_id}"): Spec(remove_relative, PATIENT_ONLY),
    ("POST", "/api/v1/waitlist"): Spec(join_waitlist, PATIENT_ONLY),
    ("GET", "/api/v1/me/waitlist"): Spec(get("/api/v1/me/waitlist"), SIGNED_IN),
    ("DELETE", PRACTICE + "/waitlist/{entry_id}"): Spec(leave_waitlist, PATIENT_ONLY),
    ("POST", PRACTICE + "/waitlist-offers/{offer_id}/decision"): Spec(decide_offer, PATIENT_ONLY),
    ("GET", "/api/v1/me"): Spec(get("/api/v1/me"), SIGNED_IN),
    ("POST", PRACTICE + "/operator-grants"): Spec(grant, ADMIN_ONLY),
    ("GET", PRACTICE + "/operator-grants"): Spec(list_grants, ADMIN_ONLY),
    ("DELETE", PRACTICE + "/operator-grants/{grant_id}"): Spec(revoke, ADMIN_ONLY),
}


# --- running it --------------------------------------------------------------------------------


def operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def template_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$")


def shape(answer: Answer) -> tuple[int, str | None, bytes]:
    """What must not differ between somebody else's object and a missing one."""
    return answer.status_code, answer.headers.get("content-type"), answer.content


class Answer(Protocol):
    """What the checks read of a response."""

    @property
    def status_code(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def content(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


@dataclass
class Matrix:
    backend: str
    scene: Scene
    client: TestClient

    def send(self, method: str, template: str, role: str, call: Call) -> Answer:
        assert template_pattern(template).match(call.path), (template, call.path)
        person = self.scene.person(role)
        headers = {"Authorization": f"Bearer {person.token}"} if person is not None else {}
        self.scene.requests += 1
        return self.client.request(
            method, call.path, json=call.json, params=call.params, headers=headers
        )

    def judge(self, role: str, expected: str, response: Answer) -> list[str]:
        status = response.status_code
        problems = []
        if status >= 500:
            problems.append(f"server error {status}")
        elif expected == "ok":
            if not 200 <= status < 300:
                problems.append(f"expected 2xx, got {status}")
        elif expected == "4xx":
            if not 400 <= status < 500:
                problems.append(f"expected 4xx, got {status}")
        elif status != int(expected):
            problems.append(f"expected {expected}, got {status}")
        leaked = [secret for secret in self.scene.secrets(role) if secret in response.text]
        if leaked:
            problems.append(f"leaks ids it may not see: {leaked}")
        return problems

    def run(self, method: str, template: str) -> list[str]:
        spec = MATRIX[(method, template)]
        failures: list[str] = []
        for role in ROLES:
            compared = False
            for column in spec.grid.columns:
                expected = spec.grid.cells[role][column]
                fresh = method != "GET" and expected == "ok"
                target = Target(column, Mode.FRESH if fresh else Mode.STATIC)
                response = self.send(method, template, role, spec.build(self.scene, target))
                self.scene.cases += 1
                problems = self.judge(role, expected, response)
                if expected == "404":
                    compared = True
                    twin = self.send(
                        method, template, role, spec.build(self.scene, Target(column, Mode.MISSING))
                    )
                    problems += [f"(missing twin) {p}" for p in self.judge(role, "404", twin)]
                    if shape(response) != shape(twin):
                        problems.append(f"differs from a missing one: {twin.text[:300]}")
                failures += [
                    f"{method} {template} as {role} on {column}: {problem}\n    {response.text[:300]}"
                    for problem in problems
                ]
            first = spec.grid.columns[0]
            if not compared and first != "-":
                expected = "401" if spec.grid.cells[role][first] == "401" else "404"
                missing = spec.build(self.scene, Target(first, Mode.MISSING))
                response = self.send(method, template, role, missing)
                failures += [
                    f"{method} {template} as {role} on a missing {first}: {problem}"
                    for problem in self.judge(role, expected, response)
                ]
        return failures


def _truncate(database: Database) -> None:
    tables = ", ".join(f'"{t}"' for t in load_metadata().tables)
    with database.writer_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables}"))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def matrix(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Matrix]:
    """One scene per database, built once and shared by every operation's test."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "colloque.sqlite3"
        shutil.copyfile(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("postgres_url"), pool_size=10)
        _truncate(database)
    clock = SettableClock(T0)
    app, _sleeps = make_app(database, clock)
    scene = Scene(database, clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Matrix(request.param, scene, client)
    database.dispose()
    MATRIX_RUNS.append(
        f"authorization matrix on {request.param}: {scene.cases} cases "
        f"({scene.requests} requests) over {len(MATRIX)} operations and {len(ROLES)} roles"
    )


def test_every_operation_has_an_entry(tmp_path: Path) -> None:
    app = create_app(
        Settings(run_refresher=False), database=Database(f"sqlite:///{tmp_path}/none.sqlite3")
    )
    present = operations(app)
    missing = sorted(present - MATRIX.keys())
    stale = sorted(MATRIX.keys() - present)
    message = ["the authorization matrix does not match the API (docs/authorization.md):"]
    if missing:
        message.append("  operations without an entry in MATRIX (tests/functional/authorization):")
        message += [f"    {key!r}: Spec(<builder>, <grid>)," for key in missing]
    if stale:
        message.append("  entries for operations that no longer exist (remove them):")
        message += [f"    {key!r}" for key in stale]
    if missing or stale:
        pytest.fail("\n".join(message), pytrace=False)


@pytest.mark.parametrize(("method", "template"), list(MATRIX))
def test_matrix(matrix: Matrix, method: str, template: str) -> None:
    failures = matrix.run(method, template)
    assert not failures, f"{len(failures)} failures on {matrix.backend}:\n" + "\n".join(failures)
