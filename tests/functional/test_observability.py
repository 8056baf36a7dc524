"""Request ids, the access log, 500s in the log, and ``/metrics``, through the real app."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Environment, MailBackend, Settings
from colloque.logs import configure
from colloque.metrics import BookingAction, count_booking_on_commit
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.test_api import MON_0900, auth, booking_body

HEX_ID = re.compile(r"[0-9a-f]{32}")
PROXY = ("10.1.2.3", 40000)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """The app's log lines, rendered by the production processors (JSON)."""
    buffer = io.StringIO()
    configure(json=True, file=buffer, cache=False)
    yield buffer
    structlog.reset_defaults()


def events(buffer: io.StringIO, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line]
    return [line for line in lines if line.get("event") == name]


def make_app(db: Database, clock: SettableClock, **settings: Any) -> FastAPI:
    app = create_app(Settings(run_refresher=False, **settings), database=db, clock=clock)

    @app.get("/test-only/peer")
    def peer(request: Request) -> dict[str, str | None]:
        return {"host": request.client.host if request.client else None}

    @app.get("/test-only/boom/{thing_id}")
    def boom(thing_id: str) -> None:
        raise RuntimeError("the test route fails on purpose")

    return app


@pytest.fixture
def client(sqlite_db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with TestClient(make_app(sqlite_db, clock)) as test_client:
        yield test_client


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# Request ids


def test_every_answer_has_a_fresh_request_id(client: TestClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert HEX_ID.fullmatch(first)
    assert HEX_ID.fullmatch(second)
    assert first != second


def test_an_untrusted_client_cannot_choose_its_request_id(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"})
    assert response.headers["X-Request-ID"] != "chosen-by-the-client"
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_a_trusted_proxy_passes_its_request_id_and_the_client_address(
    sqlite_db: Database, clock: SettableClock
) -> None:
    app = make_app(sqlite_db, clock, forwarded_allow_ips="10.1.2.0/24")
    with TestClient(app, client=PROXY) as proxied:
        response = proxied.get(
            "/test-only/peer",
            headers={"X-Request-ID": "edge-7f3a.42:1", "X-Forwarded-For": "203.0.113.9"},
        )
    assert response.headers["X-Request-ID"] == "edge-7f3a.42:1"
    assert response.json() == {"host": "203.0.113.9"}


def test_proxy_headers_off_trusts_nobody(sqlite_db: Database, clock: SettableClock) -> None:
    app = make_app(sqlite_db, clock, forwarded_allow_ips="10.1.2.0/24", proxy_headers=False)
    with TestClient(app, client=PROXY) as proxied:
        response = proxied.get(
            "/test-only/peer",
            headers={"X-Request-ID": "edge-7f3a", "X-Forwarded-For": "203.0.113.9"},
        )
    assert response.headers["X-Request-ID"] != "edge-7f3a"
    assert response.json() == {"host": PROXY[0]}


@pytest.mark.parametrize(
    "bad", ["two words", "x" * 129, 'quote"d', "new\tline", "é-accent", "semi;colon"]
)
def test_a_bad_request_id_from_the_proxy_is_replaced(
    sqlite_db: Database, clock: SettableClock, bad: str
) -> None:
    app = make_app(sqlite_db, clock, forwarded_allow_ips="10.1.2.3")
    with TestClient(app, client=PROXY) as proxied:
        response = proxied.get("/healthz", headers={b"X-Request-ID": bad.encode()})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_problem_bodies_carry_the_request_id(client: TestClient) -> None:
    answers = [
        client.get("/api/v1/nothing-here"),  # the framework's 404
        client.get("/api/v1/me"),  # 401
        client.get("/api/v1/search", params={"page": 0}),  # 422
        client.get(f"/api/v1/practices/{uuid.uuid4()}/practitioners"),  # a domain 404
    ]
    for response in answers:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["request_id"] == response.headers["X-Request-ID"], response.text


# The access log


def test_the_access_log_names_the_route_not_the_path(
    sqlite_db: Database, clock: SettableClock, log_output: io.StringIO
) -> None:
    world = build_world(sqlite_db, clock)
    with TestClient(make_app(sqlite_db, clock)) as client:
        searched = client.get(
            "/api/v1/search", params={"specialty": "general_practice", "name": "Dupontel"}
        )
        practice = client.get(  # not theirs, or not there: a 404 for a known principal
            f"/api/v1/practices/{world.practice_id}/appointments/{uuid.uuid4()}",
            headers=auth(world.holder.token),
        )
        missing = client.get("/api/v1/people/jeanne.dupontel@example.org")
    lines = events(log_output, "request")
    assert [line["request_id"] for line in lines] == [
        searched.headers["X-Request-ID"],
        practice.headers["X-Request-ID"],
        missing.headers["X-Request-ID"],
    ]
    anonymous, signed_in, unmatched = lines
    assert anonymous["method"] == "GET"
    assert anonymous["route"] == "/api/v1/search"
    assert anonymous["status"] == searched.status_code == 200
    assert isinstance(anonymous["duration_ms"], float)
    assert "account_id" not in anonymous
    assert signed_in["route"] == "/api/v1/practices/{practice_id}/appointments/{appointment_id}"
    assert signed_in["status"] == 404
    assert signed_in["account_id"] == str(world.holder.account_id)
    assert unmatched["route"] == "<unmatched>"
    assert unmatched["status"] == 404
    assert set(anonymous) == {
        "event",
        "method",
        "route",
        "status",
        "duration_ms",
        "request_id",
        "level",
        "timestamp",
    }
    output = log_output.getvalue()
    for personal in ("Dupontel", "dupontel", "?", "testclient", str(world.practice_id)):
        assert personal not in output


# 500s


def test_a_500_logs_its_traceback_with_the_request_id(
    sqlite_db: Database, clock: SettableClock, log_output: io.StringIO
) -> None:
    with TestClient(make_app(sqlite_db, clock), raise_server_exceptions=False) as client:
        response = client.get("/test-only/boom/secret-looking-path-part")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    request_id = response.headers["X-Request-ID"]
    assert response.json()["request_id"] == request_id
    [error] = events(log_output, "unhandled_error")
    assert error["request_id"] == request_id
    assert error["error_type"] == "RuntimeError"
    assert "Traceback (most recent call last)" in error["exception"]
    assert "in boom" in error["exception"]
    assert "the test route fails on purpose" in error["exception"]
    [access] = events(log_output, "request")
    assert access["route"] == "/test-only/boom/{thing_id}"
    assert access["status"] == 500
    assert access["request_id"] == request_id
    assert "secret-looking-path-part" not in log_output.getvalue()


@pytest.mark.parametrize("rendered_as_json", [True, False], ids=["json", "console"])
def test_a_database_error_logs_no_personal_data(
    db: Database, clock: SettableClock, rendered_as_json: bool
) -> None:
    canary = f"Jeanne Canary {uuid.uuid4().hex}"

    def fail(session: Any) -> None:
        session.execute(text("CREATE TEMP TABLE leak_probe (name TEXT CHECK (length(name) < 3))"))
        session.execute(text("INSERT INTO leak_probe (name) VALUES (:name)"), {"name": canary})

    # The engines hide parameters from SQLAlchemy's own messages.
    with pytest.raises(IntegrityError) as caught, db.write() as session:
        fail(session)
    assert "parameters hidden" in str(caught.value)
    if db.is_sqlite:
        assert canary not in str(caught.value)
    else:  # PostgreSQL's message quotes the row: the log must leave it out
        assert canary in str(caught.value)

    app = make_app(db, clock)

    @app.post("/test-only/leak")
    def leak() -> None:
        with db.write() as session:
            fail(session)

    buffer = io.StringIO()
    configure(json=rendered_as_json, file=buffer, cache=False)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.post("/test-only/leak")
    finally:
        structlog.reset_defaults()
    output = buffer.getvalue()
    assert response.status_code == 500
    assert canary not in response.text
    assert response.headers["X-Request-ID"] in output
    assert "INSERT INTO leak_probe" in output
    assert "(message hidden)" in output
    assert "Traceback (most recent call last)" in output
    assert canary not in output
    assert "Canary" not in output


# Metrics


def test_metrics_count_requests_bookings_and_searches(db: Database, clock: SettableClock) -> None:
    world: World = build_world(db, clock)
    made = sample("colloque_bookings_total", action="made")
    moved = sample("colloque_bookings_total", action="rescheduled")
    cancelled = sample("colloque_bookings_total", action="cancelled")
    searches = sample("colloque_search_requests_total")
    booked_route = {"method": "POST", "route": "/api/v1/appointments", "status_class": "2xx"}
    posts = sample("colloque_http_request_duration_seconds_count", **booked_route)
    with TestClient(make_app(db, clock)) as client:
        created = client.post(
            "/api/v1/appointments",
            json=booking_body(world, MON_0900 + timedelta(days=1)),
            headers=auth(world.holder.token),
        )
        assert created.status_code == 201, created.text
        url = (
            f"/api/v1/practices/{world.practice_id}/appointments/{created.json()['appointment_id']}"
        )
        new_time = (MON_0900 + timedelta(days=1, hours=1)).isoformat()
        moved_answer = client.post(
            url + "/reschedule", json={"starts_at": new_time}, headers=auth(world.holder.token)
        )
        assert moved_answer.status_code == 200, moved_answer.text
        cancel = client.post(
            url + "/cancel",
            json={"reason": "patient_unavailable"},
            headers=auth(world.holder.token),
        )
        assert cancel.status_code == 200, cancel.text
        # Refused: counted as a request, not as a booking.
        refused = client.post(
            "/api/v1/appointments",
            json=booking_body(world, MON_0900 - timedelta(days=1)),
            headers=auth(world.holder.token),
        )
        assert refused.status_code == 422, refused.text
        assert client.get("/api/v1/search", params={"specialty": "general_practice"}).is_success
        clock.advance(timedelta(seconds=90))
        exposition = client.get("/metrics")
    assert exposition.status_code == 200
    assert exposition.headers["content-type"].startswith("text/plain")
    assert sample("colloque_bookings_total", action="made") == made + 1
    assert sample("colloque_bookings_total", action="rescheduled") == moved + 1
    assert sample("colloque_bookings_total", action="cancelled") == cancelled + 1
    assert sample("colloque_search_requests_total") == searches + 1
    assert sample("colloque_http_request_duration_seconds_count", **booked_route) == posts + 1
    body = exposition.text
    assert (
        'colloque_http_request_duration_seconds_bucket{le="0.005",method="POST",'
        'route="/api/v1/appointments",status_class="2xx"}'
    ) in body
    assert 'route="/api/v1/practices/{practice_id}/appointments/{appointment_id}/cancel"' in body
    assert 'colloque_bookings_total{action="made"}' in body
    assert "colloque_search_requests_total" in body
    # Three messages queued at T0, the clock 90 s later.
    assert "colloque_outbox_oldest_pending_age_seconds 90.0" in body


def test_a_rolled_back_booking_is_not_counted(sqlite_db: Database) -> None:
    before = sample("colloque_bookings_total", action="made")

    def roll_back() -> None:
        with sqlite_db.write() as session:
            count_booking_on_commit(session, BookingAction.MADE)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        roll_back()
    with sqlite_db.write() as session:
        pass
    assert sample("colloque_bookings_total", action="made") == before
    with sqlite_db.write() as session:
        count_booking_on_commit(session, BookingAction.MADE)
    assert sample("colloque_bookings_total", action="made") == before + 1


def test_metrics_with_a_token_need_it(sqlite_db: Database, clock: SettableClock) -> None:
    app = make_app(sqlite_db, clock, metrics_token=SecretStr("m" * 32))
    with TestClient(app) as client:
        missing = client.get("/metrics")
        wrong = client.get("/metrics", headers=auth("n" * 32))
        right = client.get("/metrics", headers=auth("m" * 32))
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json()["request_id"] == missing.headers["X-Request-ID"]
    assert right.status_code == 200
    assert "colloque_http_request_duration_seconds" in right.text


def test_metrics_are_off_in_production_without_a_token(
    sqlite_db: Database, clock: SettableClock
) -> None:
    production = {
        "environment": Environment.PRODUCTION,
        "secret_key": SecretStr("k" * 40),
        "database_url": "postgresql://x/y",
        "mail_backend": MailBackend.SMTP,
        "key_directory_log_key": SecretStr(bytes(range(32)).hex()),
        "audit_signing_key_file": Path("/run/keys/colloque-audit"),
    }
    app = make_app(sqlite_db, clock, **production)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 404
    # Production serves no /openapi.json (COLLOQUE_API_DOCS): the document made in-process.
    assert "/metrics" not in app.openapi()["paths"]
    with_token = make_app(sqlite_db, clock, metrics_token=SecretStr("m" * 32), **production)
    with TestClient(with_token) as client:
        assert client.get("/metrics", headers=auth("m" * 32)).status_code == 200
