"""GET /api/v1/places: the city picker's suggestions, public, with a problem for a bad query."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from colloque.clock import SettableClock
from colloque.storage.engine import Database
from tests.functional.http import app_client, problem


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def test_suggestions_carry_coordinates_and_time_zone(client: TestClient) -> None:
    response = client.get("/api/v1/places", params={"q": "fort-de-fr"})
    assert response.status_code == 200
    [place] = response.json()
    assert place["name"] == "Fort-de-France"
    assert place["insee_code"] == "97209"
    assert place["timezone"] == "America/Martinique"
    assert "97200" in place["postcodes"]
    assert 14 < place["latitude"] < 15
    assert -62 < place["longitude"] < -60


def test_limit_and_bad_queries(client: TestClient) -> None:
    assert len(client.get("/api/v1/places", params={"q": "saint", "limit": 3}).json()) == 3
    problem(client.get("/api/v1/places", params={"q": ""}), 422, field="q")
    problem(client.get("/api/v1/places"), 422, field="q")
    problem(client.get("/api/v1/places", params={"q": "lyon", "limit": 0}), 422, field="limit")
