"""Time the benchmark data's set-up, stage by stage, then a rebuild of every search cache.

    uv run python -m bench.setup_time [--practitioners 10000] [--appointments 1000000]
        [--database colloque_bench_setup]

Recreates ``colloque_bench_setup`` on the local PostgreSQL, migrates it and runs the demo
generator (``generate_demo``, as ``bench.search`` does); prints the seconds spent in each of its
stages, then rebuilds all search caches again on the loaded data (``bench.search``'s refresh).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from bench.harness import machine, recreate_database
from bench.search import refresh_all_caches
from colloque.demo.generator import generate_demo
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade

DATABASE = "colloque_bench_setup"


class StageClock:
    """The generator's progress callback: the time between a stage's first report and the
    next stage's."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._since = time.perf_counter()

    def __call__(self, stage: str, _done: int, _total: int) -> None:
        if stage == self._stage:
            return
        self.end()
        self._stage, self._since = stage, time.perf_counter()

    def end(self) -> None:
        if self._stage is not None:
            elapsed = time.perf_counter() - self._since
            self.seconds[self._stage] = self.seconds.get(self._stage, 0.0) + elapsed
        self._stage = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--practitioners", type=int, default=10_000)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    # Another name lets two runs (this code and an older one) share the server side by side.
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    url = recreate_database(args.database)
    upgrade(url)
    database = Database(url)
    stages = StageClock()
    started = time.perf_counter()
    generate_demo(
        database,
        seed=2026,
        practitioners=args.practitioners,
        patients=max(1_000, args.appointments // 5),
        appointments=args.appointments,
        now=datetime.now(UTC),
        progress=stages,
    )
    stages.end()
    total = time.perf_counter() - started
    database.dispose()
    print(f"machine: {machine()}")
    print(f"{args.practitioners} practitioners, {args.appointments} appointments: {total:.1f} s")
    for stage, seconds in stages.seconds.items():
        print(f"  {stage}: {seconds:.1f} s")
    started = time.perf_counter()
    refresh_all_caches(url)
    print(f"every search cache again: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
