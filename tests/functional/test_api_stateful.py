"""A stateful fuzz test with real objects: a hypothesis state machine drives the whole API as the
patient, a secretary and the practice admin, on both databases.

``test_api_fuzz.py`` sends random ids, so most handlers only ever answer 404. Here each step
picks an operation of the OpenAPI document and lets schemathesis generate its parameters and
body, then puts real ids in: those of ``build_world`` (its practice, GP, visit types, people and
patients, two booked appointments) and every id seen in an earlier answer (an appointment just
booked, a waitlist entry, a practice patient, an invitation, an opening...). Instants, days and
lengths are drawn from ones that fit the GP's agenda, the slots listed so far first, so
bookings, reschedules and waitlist entries get past validation to the services.

Every answer must pass schemathesis' checks: no server error, a status, a content type and a
body that the document declares for the operation. The run is deterministic (``derandomize``)
and bounded (:data:`EXAMPLES` runs of :data:`STEPS` requests per database).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.schemas import APIOperation

from colloque.accounts.services import do_add_member, do_issue_token
from colloque.api.app import create_app
from colloque.authorization.probing import ProbingGuard, ProbingLimits
from colloque.booking.rules import Source
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.principal import Role
from colloque.scheduling.models import PracticeMember
from colloque.server_keys import ServerKeys
from colloque.storage.engine import Database
from tests.conftest import T0
from tests.factories import Person, World, book, build_world, register_at_practice

#: Operations with an id in their path that must answer 2xx at least once in the run.
REACHED = 15
#: Examples (fresh state machines over the same database) and requests in each: 1,200 requests
#: per database (2,500 before: the slowest test of the suite), still bound to reach REACHED.
EXAMPLES = 30
STEPS = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Limits that never trigger: the fuzzer asks for many ids that are not its own.
NO_PROBING_LIMITS = ProbingLimits(slow_after=10**9, lock_after=10**9, delay_seconds=0)
#: Ids answered as ``id`` (``CreatedOut``), by the path that created them.
CREATED_ID = {"openings": "opening_id", "breaks": "break_id", "overrides": "override_id"}
#: Fields that take ids of another name.
SAME_AS = {"operator_account_id": "account_id", "visit_type_ids": "visit_type_id"}
#: One value in this many is left as schemathesis generated it.
GENERATED_ONE_IN = 8
#: Whether to keep the generated value (one in eight), and which real one to take.
KEEP = st.integers(0, GENERATED_ONE_IN - 1).map(lambda n: n == 0)
PICK = st.integers(0, 255)
#: How many ids of one kind to keep, newest first.
POOL_SIZE = 12


def _instants() -> list[str]:
    """Quarter hours of the GP's mornings (08:00-11:00 UTC in Paris' winter), this week and next."""
    days = [T0 + timedelta(days=d) for d in (1, 2, 3, 4, 7, 8)]
    return [
        (day + timedelta(hours=1, minutes=15 * q)).isoformat() for day in days for q in (0, 3, 5)
    ]


def _values(world: World) -> dict[str, list[Any]]:
    start = T0.date()
    days = [(start + timedelta(days=d)).isoformat() for d in (1, 3, 6, 13)]
    instants = _instants()
    return {
        "practice_id": [world.practice_id],
        "practitioner_id": [world.practitioner_id],
        "visit_type_id": [
            world.consultation_id,
            world.first_visit_id,
            world.follow_up_id,
            world.video_id,
            world.urgent_id,
        ],
        "patient_id": [world.holder_patient_id, world.child_patient_id, world.stranger_patient_id],
        "account_id": [
            p.account_id for p in (world.admin, world.secretary, world.doctor, world.holder)
        ],
        "starts_at": instants,
        "from": [T0.isoformat(), instants[0], start.isoformat()],
        "until": [(T0 + timedelta(days=7)).isoformat(), instants[-1]],
        "first_day": days[:2],
        "last_day": days[2:],
        "duration_minutes": [20, 15, 30],
        "days": [7, 1],
    }


class Personas:
    """The patient, the secretary and the admin, each with a live bearer token."""

    def __init__(self, db: Database, clock: SettableClock, world: World) -> None:
        self.db, self.clock = db, clock
        self.people = {"patient": world.holder, "secretary": world.secretary, "admin": world.admin}
        self.practice_id, self.secretary_id = world.practice_id, world.secretary.account_id

    def refresh(self) -> None:
        """New tokens, as a step may have logged a persona out, and the secretary back at the
        practice, as the admin may have removed them."""
        with self.db.write() as session:
            if session.get(PracticeMember, (self.practice_id, self.secretary_id)) is None:
                do_add_member(
                    session,
                    practice_id=self.practice_id,
                    account_id=self.secretary_id,
                    role=Role.SECRETARY,
                )
            for name, person in self.people.items():
                token = do_issue_token(
                    session,
                    now=self.clock.now(),
                    account_id=person.account_id,
                    lifetime=timedelta(days=3650),
                    integration=True,
                )
                self.people[name] = Person(account_id=person.account_id, token=token)

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.people[name].token}"}


def _seed(db: Database, clock: SettableClock) -> World:
    world = build_world(db, clock)
    tuesday = T0 + timedelta(days=1, hours=2)
    book(db, clock, world, tuesday)
    register_at_practice(db, clock, world, world.stranger_patient_id)
    book(
        db,
        clock,
        world,
        tuesday + timedelta(days=1),
        person=world.secretary,
        patient_id=world.stranger_patient_id,
        source=Source.PRACTICE,
    )
    return world


def _harvest(found: dict[str, list[Any]], path: str, value: Any) -> None:
    """Every id (and slot start) in an answer, newest first, into ``found``."""
    if isinstance(value, list):
        for item in value:
            _harvest(found, path, item)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        name = CREATED_ID.get(path.rsplit("/", 1)[-1]) if key == "id" else key
        if name and (name.endswith("_id") or name == "starts_at") and isinstance(item, str):
            pool = found.setdefault(name, [])
            if item not in pool:
                pool.insert(0, item)
                del pool[POOL_SIZE:]
        else:
            _harvest(found, path, item)


def make_machine(
    schema: Any,
    personas: Personas,
    world: World,
    answers: Counter[tuple[str, int]],
    failures: list[str],
) -> type[RuleBasedStateMachine]:
    operations: list[APIOperation[Any, Any, Any, Any]] = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: (op.path, op.method),
    )
    strategies = {op.label: op.as_strategy() for op in operations}
    seeds = _values(world)

    class Fuzz(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.found: dict[str, list[Any]] = {}

        @initialize()
        def tokens(self) -> None:
            personas.refresh()

        def _choices(self, name: str) -> list[Any]:
            key = SAME_AS.get(name, name)
            found = self.found.get(key, [])
            return [*found, *(str(v) for v in seeds.get(key, []) if str(v) not in found)]

        def _real(self, data: st.DataObject, name: str, value: Any) -> Any:
            """A real value for ``name``, now and then the generated one (worth sending too).

            What is drawn never depends on the pools' sizes: they come from the database, which
            earlier examples changed, and hypothesis replays choices.
            """
            choices = self._choices(name)
            if isinstance(value, list):
                picks = [data.draw(PICK) for _ in value]
                return [choices[i % len(choices)] for i in picks] if choices else value
            keep, pick = data.draw(KEEP), data.draw(PICK)
            if keep or not choices:
                return value
            return choices[pick % len(choices)]

        @rule(data=st.data())
        def call(self, data: st.DataObject) -> None:
            operation = data.draw(st.sampled_from(operations), label="operation")
            case: Case[Any] = data.draw(strategies[operation.label])
            for name in list(case.path_parameters or {}):
                case.path_parameters[name] = self._real(data, name, case.path_parameters[name])
            for name in list(case.query or {}):
                case.query[name] = self._real(data, name, case.query[name])
            if isinstance(case.body, dict):
                for name in list(case.body):
                    case.body[name] = self._real(data, name, case.body[name])
            persona = data.draw(st.sampled_from(sorted(personas.people)), label="persona")
            headers = personas.headers(persona)
            # Schemathesis gives up after 10 s. Once, under the full suite's load, one request
            # took longer (the same run passes alone in under a minute); a hang still fails, after
            # a minute.
            response = case.call(headers=headers, timeout=60)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except Exception as error:
                failures.append(f"{operation.label} as {persona}: {error!r}")
                raise
            answers[(operation.label, response.status_code)] += 1
            media_type = (response.headers.get("content-type") or [""])[0]
            if 200 <= response.status_code < 300 and "json" in media_type and response.content:
                _harvest(self.found, operation.path, response.json())

    return Fuzz


def _app(db: Database, clock: SettableClock) -> Any:
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    guard = ProbingGuard.for_keys(ServerKeys.from_secret("test secret"), NO_PROBING_LIMITS)
    app.state.probing = replace(guard, sleep=_no_sleep)
    return app


async def _no_sleep(seconds: float) -> None:
    return None


def test_the_api_keeps_its_contract_with_real_objects(db: Database, clock: SettableClock) -> None:
    world = _seed(db, clock)
    app = _app(db, clock)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    answers: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    machine = make_machine(schema, Personas(db, clock, world), world, answers, failures)
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except Flaky as flaky:
        # Replaying a failure meets a database the run has changed since, so hypothesis may call
        # it flaky; the failure it saw first is the one to read.
        raise AssertionError(f"first failure: {failures[0] if failures else '?'}") from flaky
    # Real objects were reached: operations on ids in their path answered with success.
    reached = {label for (label, status) in answers if status < 300 and "{" in label}
    assert len(reached) >= REACHED, sorted(reached)
