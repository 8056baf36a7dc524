"""The demo's printed "Try:" lines work first time, run as printed against a fresh demo."""

from __future__ import annotations

import shlex
from datetime import datetime
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.demo.welcome import example_booking, issue_demo_logins, try_lines, welcome_lines
from tests.unit.demo.support import DEMO_NOW, Demo

BASE = "http://127.0.0.1:8000"


def _run(http: TestClient, line: str) -> object:
    """One printed curl line, as curl would send it (``curl -s [-H h]... [-d body] URL | ...``)."""
    words = shlex.split(line.split(" | ")[0])
    assert words[:2] == ["curl", "-s"], line
    headers: dict[str, str] = {}
    body = None
    args = iter(words[2:])
    url = ""
    for word in args:
        if word == "-H":
            name, value = next(args).split(": ", 1)
            headers[name] = value
        elif word == "-d":
            body = next(args)
        else:
            url = word
    target = urlsplit(url)
    assert f"{target.scheme}://{target.netloc}" == BASE
    path = target.path + (f"?{target.query}" if target.query else "")
    if body is None:
        answer = http.get(path, headers=headers)
    else:
        answer = http.post(path, content=body, headers=headers)
    assert answer.status_code < 300, (line, answer.text)
    return answer.json()


def test_the_try_lines_work_as_printed(demo: Demo) -> None:
    clock = SettableClock(DEMO_NOW)
    logins = issue_demo_logins(demo.db, now=DEMO_NOW)
    assert [login.role for login in logins] == ["patient", "secretary", "practitioner", "admin"]
    example = example_booking(demo.db, now=DEMO_NOW)
    assert example is not None
    lines = try_lines(BASE, logins=logins, example=example)
    printed = welcome_lines(
        BASE, logins=logins, example=example, log_origin="o", log_public_key="k"
    )
    assert all(f"  {line}" in printed for line in lines)
    app = create_app(Settings(run_refresher=False), database=demo.db, clock=clock)
    with TestClient(app) as http:
        search, slots, _, booked, mine = (
            _run(http, line) if not line.startswith("#") else None for line in lines
        )
    assert isinstance(search, dict)
    assert search["results"]
    assert isinstance(slots, list)
    assert datetime.fromisoformat(slots[0]["starts_at"]) == example.starts_at
    assert isinstance(booked, dict)
    assert booked["status"] == "booked"
    assert booked["practitioner_id"] == str(example.practitioner_id)
    assert isinstance(mine, list)
    assert booked["appointment_id"] in {a["appointment_id"] for a in mine}


def test_each_start_issues_new_tokens_and_an_empty_database_has_none(demo: Demo) -> None:
    first = issue_demo_logins(demo.db, now=DEMO_NOW)
    second = issue_demo_logins(demo.db, now=DEMO_NOW)
    assert {login.token for login in first}.isdisjoint(login.token for login in second)
    lines = welcome_lines(BASE, logins=(), example=None, log_origin="o", log_public_key="k")
    assert "This database holds no demo logins." in lines
    assert not any("Bearer" in line for line in lines)
