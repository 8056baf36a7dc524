"""The safe traceback formatter, request id validation, metrics exposition and serve's wiring."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from colloque.api.requestids import is_valid, new_request_id
from colloque.cli.main import app as cli
from colloque.cli.server import server_environment, uvicorn_log_config
from colloque.config import Settings
from colloque.logs import WithoutAppTracebacks, format_exception
from colloque.metrics import exposition


def _chained(link: str) -> BaseException:
    try:
        try:
            raise KeyError("first")
        except KeyError as inner:
            if link == "cause":
                raise ValueError("second") from inner
            if link == "none":
                raise ValueError("second") from None
            raise ValueError("second")  # noqa: B904 - the implicit context is the point
    except ValueError as outer:
        return outer
    raise AssertionError("unreachable")


def test_a_chained_traceback_keeps_plain_messages_in_order() -> None:
    rendered = format_exception(_chained("cause"))
    assert rendered.index("KeyError: 'first'") < rendered.index("direct cause")
    assert rendered.index("direct cause") < rendered.index("ValueError: second")
    assert rendered.count("Traceback (most recent call last)") == 2
    assert "first" not in format_exception(_chained("none"))
    implicit = format_exception(_chained("context"))
    assert "During handling of the above exception" in implicit


def test_validation_errors_do_not_repeat_their_input() -> None:
    class Person(BaseModel):
        age: int

    refused = {"age": "Jeanne " + "Dupont"}  # not in a source line the traceback quotes
    with pytest.raises(ValidationError) as caught:
        Person.model_validate(refused)
    rendered = format_exception(caught.value)
    assert "Dupont" not in rendered
    assert "ValidationError: (message hidden)" in rendered


def test_an_exception_without_traceback_is_one_line() -> None:
    assert format_exception(RuntimeError("boom")) == "RuntimeError: boom\n"


def test_request_ids() -> None:
    assert is_valid(new_request_id())
    for good in ("a", "Root=1-67891233-abcdef012345678912345678", "x" * 128, "a.b:c_d-e+f/g"):
        assert is_valid(good)
    for bad in ("", "x" * 129, "a b", "a\nb", "a;b", 'a"b', "é"):
        assert not is_valid(bad)


def test_exposition_in_multiprocess_mode_reads_the_directory(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    body = exposition(
        multiprocess_dir=tmp_path, outbox_oldest=now - timedelta(seconds=5), now=now
    ).decode()
    assert "colloque_outbox_oldest_pending_age_seconds 5.0" in body
    # No worker has written anything there yet: only the gauges read at scrape time.
    assert "colloque_http_request_duration_seconds" not in body
    idle = exposition(multiprocess_dir=None, outbox_oldest=None, now=now).decode()
    assert "colloque_outbox_oldest_pending_age_seconds 0.0" in idle
    assert "colloque_bookings_total" in idle


def test_serve_hands_its_settings_to_the_workers(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql://db/colloque",
        proxy_headers=False,
        forwarded_allow_ips="10.0.0.0/8",
    )
    assert server_environment(settings, workers=1) == {
        "COLLOQUE_PROXY_HEADERS": "false",
        "COLLOQUE_FORWARDED_ALLOW_IPS": "10.0.0.0/8",
        "COLLOQUE_DATABASE_URL": "postgresql://db/colloque",
    }
    stale = tmp_path / "prometheus" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"from an earlier run")
    environment = server_environment(settings, workers=2)
    assert environment["PROMETHEUS_MULTIPROC_DIR"] == str((tmp_path / "prometheus").resolve())
    assert list((tmp_path / "prometheus").iterdir()) == []
    assert Settings(prometheus_multiproc_dir=tmp_path).prometheus_multiproc_dir == tmp_path


def test_serve_offers_the_proxy_options() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--forwarded-allow-ips" in result.output
    assert "--proxy-headers" in result.output
    assert "--no-proxy-headers" in result.output


def test_uvicorn_drops_only_its_copy_of_application_tracebacks() -> None:
    config = uvicorn_log_config()
    assert all("without_app_tracebacks" in h["filters"] for h in config["handlers"].values())
    drop = WithoutAppTracebacks()

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, message, None, None)

    assert not drop.filter(record("Exception in ASGI application\n"))
    assert drop.filter(record("Started server process"))


@pytest.mark.parametrize("variable", ["COLLOQUE_FORWARDED_ALLOW_IPS", "COLLOQUE_METRICS_TOKEN"])
def test_the_new_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "10.9.8.7")
    settings = Settings()
    if variable == "COLLOQUE_METRICS_TOKEN":
        assert settings.metrics_token is not None
        assert settings.metrics_token.get_secret_value() == "10.9.8.7"
    else:
        assert settings.forwarded_allow_ips == "10.9.8.7"
