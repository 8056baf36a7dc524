"""Shared pieces of the benchmarks: scratch PostgreSQL databases, a real server, wrk, pgbench.

Every figure is measured on this machine in one run, side by side with its baseline, and printed
as medians and ratios. Nothing here runs in the test suite.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from colloque.storage.engine import normalise_url

ADMIN_URL = os.environ.get(
    "COLLOQUE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpus = os.cpu_count()
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except OSError:  # not Linux
        pass
    model = ""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:  # not Linux
        pass
    return (
        f"{cpus} cores ({model}){memory}, Python {platform.python_version()}, {platform.system()}"
    )


def postgres_version() -> str:
    engine = create_engine(normalise_url(ADMIN_URL))
    with engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar())
    engine.dispose()
    return version


def database_url(name: str) -> str:
    return normalise_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def database_exists(name: str) -> bool:
    engine = create_engine(normalise_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar()
    engine.dispose()
    return found is not None


def recreate_database(name: str) -> str:
    engine = create_engine(normalise_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return database_url(name)


@contextmanager
def server(
    url: str,
    *,
    workers: int,
    port: int = 8765,
    settings: dict[str, str] | None = None,
    audit: bool = True,
    pids: list[int] | None = None,
) -> Iterator[str]:
    """`colloque serve` in a subprocess, as in production, without the upkeep loop (and so
    without the outbox worker) unless ``settings`` turn them on. ``audit=False`` runs it through
    ``bench.without_audit``, which writes no audit event: a baseline, never a product setting."""
    env = {
        **os.environ,
        "COLLOQUE_DATABASE_URL": url,
        "COLLOQUE_RUN_REFRESHER": "false",
        "COLLOQUE_RUN_OUTBOX_WORKER": "false",
        "COLLOQUE_ENVIRONMENT": "development",
        **(settings or {}),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "colloque.cli" if audit else "bench.without_audit",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    if pids is not None:
        pids.append(process.pid)
    try:
        # Starting takes ~30 s when other jobs share the cores: leave room.
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx2.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its live children (a server's workers), from
    /proc: what the server itself spent, whatever else shares the cores."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        process_id, parent = int(stat.parent.name), int(fields[1])
        if process_id == pid or parent == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _process_cpu(pid: int, ticks: int) -> float | None:
    """User and system CPU seconds of one PostgreSQL process, or None if it is gone (or is not
    PostgreSQL: the pids come from the server, and /proc must be the same machine's)."""
    try:
        command, fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
    except OSError:
        return None
    if not command.endswith("(postgres"):
        return None
    values = fields.split()
    return (int(values[11]) + int(values[12])) / ticks


#: PostgreSQL's shared processes that work for every database's commits: the WAL writer
#: flushes the WAL that commits wait on, the checkpointer and background writer write the
#: dirty pages back.
SHARED_PROCESSES = ("walwriter", "checkpointer", "background writer")


@dataclass(frozen=True)
class PostgresCpu:
    """PostgreSQL's CPU at one instant (seconds of user and system time, from /proc)."""

    #: The backends connected to one database, by pid.
    backends: dict[int, float]
    #: The shared processes (``SHARED_PROCESSES``) together: they serve all databases.
    shared: float
    #: ``pg_stat_database.sessions`` of the database: the connections ever opened to it.
    sessions: int


def postgres_cpu(database: str) -> PostgresCpu:
    """The CPU so far of ``database``'s backends and of the shared processes. The pids are read
    over a connection to the admin database, so that the reading itself is not one of them.
    PostgreSQL must run on this machine."""
    engine = create_engine(normalise_url(ADMIN_URL), poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT pid, datname, backend_type FROM pg_stat_activity"
                " WHERE datname = :d OR backend_type = ANY(:shared)"
            ),
            {"d": database, "shared": list(SHARED_PROCESSES)},
        ).all()
        sessions = connection.execute(
            text("SELECT sessions FROM pg_stat_database WHERE datname = :d"), {"d": database}
        ).scalar()
    engine.dispose()
    ticks = os.sysconf("SC_CLK_TCK")
    backends: dict[int, float] = {}
    shared = 0.0
    found_shared = 0
    for pid, datname, _ in rows:
        cpu = _process_cpu(pid, ticks)
        if cpu is None:
            continue
        if datname == database:
            backends[pid] = cpu
        else:
            shared += cpu
            found_shared += 1
    if found_shared == 0:
        raise RuntimeError("PostgreSQL's processes are not in this machine's /proc")
    return PostgresCpu(backends=backends, shared=shared, sessions=int(sessions or 0))


@dataclass(frozen=True)
class CpuPerRequest:
    """Milliseconds of CPU per request during one run."""

    #: The server's processes (``tree_cpu_seconds``).
    server: float
    #: The database's backends that were alive at the run's end: those that appeared during it
    #: count from zero; those that ended during it are lost (see ``ended``).
    database: float
    #: PostgreSQL's shared processes, for every database on the machine: not in ``total``.
    shared: float
    #: Backends opened during the run (``pg_stat_database.sessions``) and backends that ended
    #: during it, whose CPU is missing from ``database``. A server whose pool keeps its
    #: connections opens a few at its first requests and ends none.
    opened: int
    ended: int

    @property
    def total(self) -> float:
        return self.server + self.database


@dataclass
class CpuMeter:
    """What ``cpu_during`` measured; ``per_request`` is valid once its block has ended."""

    server: float = 0.0
    database: float = 0.0
    shared: float = 0.0
    opened: int = 0
    ended: int = 0

    def per_request(self, requests: int) -> CpuPerRequest:
        scale = 1000 / max(1, requests)
        return CpuPerRequest(
            server=self.server * scale,
            database=self.database * scale,
            shared=self.shared * scale,
            opened=self.opened,
            ended=self.ended,
        )


@contextmanager
def cpu_during(server_pid: int, database: str) -> Iterator[CpuMeter]:
    """The CPU a block (a wrk run) cost the server, the database's backends and PostgreSQL's
    shared processes, each read before and after it."""
    meter = CpuMeter()
    server_before = tree_cpu_seconds(server_pid)
    before = postgres_cpu(database)
    yield meter
    after = postgres_cpu(database)
    meter.server = tree_cpu_seconds(server_pid) - server_before
    meter.database = sum(cpu - before.backends.get(pid, 0.0) for pid, cpu in after.backends.items())
    meter.shared = after.shared - before.shared
    meter.opened = after.sessions - before.sessions
    # Every backend alive before or opened since is either alive now or has ended.
    meter.ended = len(before.backends) + meter.opened - len(after.backends)


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    statuses: dict[str, int]


WRK_DONE = """
done = function(summary, latency, requests)
  if threads ~= nil then
    for _, t in ipairs(threads) do
      for _, code in ipairs({"200", "201", "409", "422", "404", "401", "500"}) do
        local n = t:get("c" .. code)
        if n ~= nil and n > 0 then io.write("STATUS " .. code .. " " .. n .. "\\n") end
      end
    end
  end
  io.write("WRK_JSON ")
  io.write(string.format('{"p50": %d, "p95": %d, "p99": %d, "requests": %d, "duration_us": %d}\\n',
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.duration))
end
"""


def run_wrk(
    base: str, script: str, *, connections: int, threads: int, seconds: int, label: str
) -> WrkResult:
    """Run wrk with a Lua script (which must not define `done`) and collect its numbers."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script + WRK_DONE)
        path = handle.name
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            path,
            "--timeout",
            "10s",
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(path)
    match = re.search(r"WRK_JSON (\{.*\})", output)
    if match is None:
        raise RuntimeError(f"wrk gave no summary for {label}:\n{output}")
    numbers = json.loads(match.group(1))
    statuses: dict[str, int] = {}
    for status, count in re.findall(r"STATUS (\d+) (\d+)", output):
        statuses[status] = statuses.get(status, 0) + int(count)
    return WrkResult(
        requests_per_second=numbers["requests"] / (numbers["duration_us"] / 1e6),
        p50_ms=numbers["p50"] / 1000,
        p95_ms=numbers["p95"] / 1000,
        p99_ms=numbers["p99"] / 1000,
        requests=numbers["requests"],
        statuses=statuses,
    )


def run_pgbench(url: str, script: str, *, clients: int, threads: int, seconds: int) -> float:
    """Transactions per second of a custom pgbench script against the same database."""
    if shutil.which("pgbench") is None:
        raise SystemExit("pgbench is not installed: apt-get install postgresql-client")
    parsed = normalise_url(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
        path = handle.name
    completed = subprocess.run(
        [
            "pgbench",
            "-n",
            "-f",
            path,
            "-c",
            str(clients),
            "-j",
            str(threads),
            "-T",
            str(seconds),
            "-h",
            parsed.host or "127.0.0.1",
            "-p",
            str(parsed.port or 5432),
            "-U",
            parsed.username or "postgres",
            parsed.database or "",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    os.unlink(path)
    output = completed.stdout
    if completed.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{completed.stderr[-2000:]}")
    match = re.search(r"tps = ([0-9.]+)", output)
    if match is None:
        raise RuntimeError(f"pgbench gave no tps:\n{output}")
    return float(match.group(1))


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
