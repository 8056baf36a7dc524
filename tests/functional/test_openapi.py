"""The OpenAPI document tells the truth: descriptions, problem responses, security marking, and
a docs page that loads nothing from elsewhere. The schemathesis test (test_api_fuzz.py) checks
that the answers keep to the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from tests.functional.http import app_client

PROBLEM = "application/problem+json"

#: Operations anyone may call, signed in or not (``security: []``).
PUBLIC = {
    ("get", "/healthz"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/specialties"),
    ("get", "/api/v1/places"),
    ("get", "/api/v1/practices/{practice_id}"),
    ("get", "/api/v1/practices/{practice_id}/practitioners"),
    ("get", "/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/slots"),
    ("post", "/api/v1/auth/prelogin"),
    ("post", "/api/v1/auth/signup"),
    ("post", "/api/v1/auth/signup/verify"),
    ("post", "/api/v1/auth/signup/complete"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/recovery"),
    ("post", "/api/v1/auth/recovery/complete"),
    ("post", "/api/v1/auth/keys/reset"),
    ("post", "/api/v1/auth/keys/reset/verify"),
    ("post", "/api/v1/auth/keys/reset/complete"),
}
#: Public too, but a token or session, when sent, is used (and must be valid).
OPTIONAL = {
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/key-directory"),
    ("get", "/api/v1/key-directory/consistency"),
}
#: Operations that can meet a conflicting state (409), each for a reason its service raises.
CONFLICTS = {
    ("post", "/api/v1/appointments"),
    ("post", "/api/v1/waitlist"),
    ("post", "/api/v1/practices/{practice_id}/patients"),
    ("post", "/api/v1/practices/{practice_id}/appointments"),
    ("post", "/api/v1/practices/{practice_id}/appointments/{appointment_id}/reschedule"),
    ("post", "/api/v1/auth/signup/complete"),
    ("delete", "/api/v1/me"),
    ("post", "/api/v1/me/mfa/totp"),
    ("post", "/api/v1/invitations/accept"),
    ("delete", "/api/v1/practices/{practice_id}/operator-grants/{grant_id}"),
    ("post", "/api/v1/practices/{practice_id}/outbox/pauses/{pause_id}/release"),
    ("post", "/api/v1/practices/{practice_id}/outbox/pauses/{pause_id}/discard"),
    ("post", "/api/v1/practices/{practice_id}/key-group"),
    ("post", "/api/v1/practices/{practice_id}/key-group/wraps"),
    ("post", "/api/v1/practices/{practice_id}/key-group/rotations"),
    ("post", "/api/v1/practices/{practice_id}/key-group/memberships"),
    ("post", "/api/v1/practices/{practice_id}/clinical-key-group"),
    ("post", "/api/v1/practices/{practice_id}/clinical-key-group/wraps"),
    ("post", "/api/v1/practices/{practice_id}/clinical-key-group/rotations"),
    ("delete", "/api/v1/practices/{practice_id}/members/{account_id}"),
    ("patch", "/api/v1/practices/{practice_id}/members/{account_id}"),
    ("post", "/api/v1/practices/{practice_id}/patients/{patient_id}/notes"),
    ("post", "/api/v1/practices/{practice_id}/patients/{patient_id}/messages"),
    ("post", "/api/v1/me/patients/{patient_id}/practices/{practice_id}/messages"),
    ("post", "/api/v1/practices/{practice_id}/patients/{patient_id}/documents"),
    ("post", "/api/v1/me/patients/{patient_id}/practices/{practice_id}/documents"),
    # Time off over booked appointments not confirmed (appointments-affected).
    ("post", "/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/overrides"),
    ("put", "/api/v1/practices/{practice_id}/overrides/{override_id}"),
    # Time freed at one practice over the practitioner's extra opening at another.
    ("delete", "/api/v1/practices/{practice_id}/breaks/{break_id}"),
    ("delete", "/api/v1/practices/{practice_id}/overrides/{override_id}"),
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = create_app(Settings(run_refresher=False)).openapi()
    return document


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


def _response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("$ref")
    if ref is None:
        return response
    found: dict[str, Any] = spec["components"]["responses"][ref.rsplit("/", 1)[-1]]
    return found


def test_every_operation_has_a_description(spec: dict[str, Any]) -> None:
    missing = [(m, p) for m, p, op in _operations(spec) if len(op.get("description", "")) < 20]
    assert not missing


def test_every_error_is_a_declared_problem(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "field", "rule", "errors", "request_id"} <= set(
        problem["properties"]
    )
    for method, path, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                content = _response(spec, response)["content"]
                assert content == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}, (
                    method,
                    path,
                    status,
                )


def test_operations_declare_the_problems_they_can_return(spec: dict[str, Any]) -> None:
    for method, path, operation in _operations(spec):
        statuses = set(operation["responses"])
        where = (method, path, sorted(statuses))
        secured = bool(operation["security"])
        if "{" in path:
            assert "404" in statuses, where
        if secured:
            assert {"401", "429"} <= statuses, where
            if method != "get":
                assert "403" in statuses, where  # the CSRF check of cookie sessions
        if "requestBody" in operation:
            assert {"413", "422"} <= statuses, where
        if operation.get("parameters"):
            assert "422" in statuses, where
        assert ("409" in statuses) == ((method, path) in CONFLICTS), where
    unauthorized = spec["components"]["responses"]["Unauthorized"]
    assert "WWW-Authenticate" in unauthorized["headers"]
    assert "Retry-After" in spec["components"]["responses"]["TooManyRequests"]["headers"]


def test_public_operations_are_marked_public(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["csrfHeader"]["in"] == "header"
    for method, path, operation in _operations(spec):
        security = operation["security"]
        if (method, path) in PUBLIC:
            assert security == [], (method, path)
        elif (method, path) in OPTIONAL:
            assert security[0] == {}, (method, path)
            assert {"bearerAuth": []} in security, (method, path)
        else:
            assert {} not in security, (method, path)
            assert {"bearerAuth": []} in security, (method, path)
            cookie: dict[str, list[str]] = (
                {"sessionCookie": []}
                if method == "get"
                else {
                    "sessionCookie": [],
                    "csrfHeader": [],
                }
            )
            assert cookie in security, (method, path)


def test_byte_email_and_cross_field_rules_are_in_the_schema(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    head = schemas["LogHeadOut"]["properties"]["public_key"]
    assert head["contentEncoding"] == "base64url"
    assert head["pattern"].startswith("^")
    assert schemas["EmailIn"]["properties"]["email"]["format"] == "email"
    slots = spec["paths"]["/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/slots"]
    notes = {p["name"]: p.get("description", "") for p in slots["get"]["parameters"]}
    assert "duration_minutes" in notes["visit_type_id"]
    search = {
        p["name"]: p.get("description", "")
        for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]
    }
    assert "longitude" in search["latitude"]
    assert "latitude" in search["longitude"]


@pytest.fixture
def client(sqlite_db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(sqlite_db, clock) as client:
        yield client


def test_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text
    assert "https://" not in page.text
    assert "cdn" not in page.text
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/docs/assets/swagger-editor.js").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    answer = client.options("/api/v1/me")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "DELETE, GET"
    assert answer.headers["content-type"] == PROBLEM


def test_401_names_the_bearer_scheme(client: TestClient) -> None:
    answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    answer = client.get("/api/v1/me", headers={"Authorization": "Bearer clq_not-a-token"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["request_id"] == answer.headers["x-request-id"]
