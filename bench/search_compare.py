"""Search before and after a change, side by side on the same data, in one run.

    uv run python -m bench.search_compare --baseline-src /path/to/other/checkout/src

Reuses `bench.search`'s database (build it first with `python -m bench.search`). Starts three
servers at once, each with its own workers: the baseline's code (``--baseline-src``, put first on
the path), this tree's, and this tree's with the answers cache on. It checks first that the baseline
and this tree give the same answers to a sample of the searches, then runs wrk against them in turn,
round after round (the order rotating), at 4 and at 16 connections, and prints each round and the
medians, with the load average of the machine, which other jobs share.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from contextlib import ExitStack
from typing import Any

import httpx2

from bench.harness import machine, run_wrk, server, tree_cpu_seconds
from bench.search import DATABASE, LUA, ensure_data, refresh_all_caches, search_paths


def _normalised(answer: dict[str, Any]) -> dict[str, Any]:
    # The order of the visit types offered at one start time was never defined.
    for hit in answer["results"]:
        for slot in hit["next_slots"]:
            slot["visit_type_ids"] = sorted(slot["visit_type_ids"])
    return answer


def same_answers(before: str, after: str, paths: list[str]) -> tuple[int, list[str]]:
    differing: list[str] = []
    for path in paths:
        old = _normalised(httpx2.get(before + path, timeout=30).json())
        new = _normalised(httpx2.get(after + path, timeout=30).json())
        if json.dumps(old, sort_keys=True) != json.dumps(new, sort_keys=True):
            differing.append(path)
    return len(paths), differing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-src", required=True)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--answer-seconds", type=float, nargs="+", default=[2.0])
    parser.add_argument("--check", type=int, default=200, help="searches compared first")
    parser.add_argument("--no-refresh", action="store_true", help="keep the cached slots")
    args = parser.parse_args()

    url = ensure_data(10_000, 1_000_000, regenerate=False, name=args.database)
    if not args.no_refresh:
        refresh_all_caches(url)
    paths = search_paths(url, 2_000)
    script = LUA % {"queries": ", ".join(f'"{p}"' for p in paths)}
    baseline_path = os.pathsep.join(
        p for p in (args.baseline_src, os.environ.get("PYTHONPATH", "")) if p
    )
    variants = {
        "before": {"PYTHONPATH": baseline_path},
        "after": {"COLLOQUE_SEARCH_ANSWER_SECONDS": "0"},
        **{
            f"after, answers kept {seconds:g} s": {"COLLOQUE_SEARCH_ANSWER_SECONDS": str(seconds)}
            for seconds in args.answer_seconds
        },
    }
    results: dict[tuple[str, int], list[Any]] = {}
    pids: dict[str, list[int]] = {name: [] for name in variants}
    with ExitStack() as stack:
        bases = {
            name: stack.enter_context(
                server(
                    url,
                    workers=args.workers,
                    port=8770 + index,
                    settings=settings,
                    pids=pids[name],
                )
            )
            for index, (name, settings) in enumerate(variants.items())
        }
        names = list(bases)
        checked, differing = same_answers(bases["before"], bases["after"], paths[: args.check])
        print(
            f"answers compared: {checked}, differing: {len(differing)} {differing[:5]}", flush=True
        )
        for name in names:
            run_wrk(bases[name], script, connections=4, threads=1, seconds=5, label="warm-up")
        for round_ in range(args.rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                for connections in (4, 16):
                    cpu = tree_cpu_seconds(pids[name][0])
                    result = run_wrk(
                        bases[name],
                        script,
                        connections=connections,
                        threads=2,
                        seconds=args.seconds,
                        label=name,
                    )
                    # The server's own CPU per request: what other jobs on the cores do not change.
                    cpu_ms = (
                        (tree_cpu_seconds(pids[name][0]) - cpu) * 1000 / max(result.requests, 1)
                    )
                    load = os.getloadavg()[0]
                    results.setdefault((name, connections), []).append((result, load, cpu_ms))
                    print(
                        f"round {round_ + 1} {name:32} c={connections:<2} "
                        f"{result.requests_per_second:6.0f} req/s  p50 {result.p50_ms:6.1f}  "
                        f"p95 {result.p95_ms:6.1f}  p99 {result.p99_ms:6.1f} ms  "
                        f"CPU {cpu_ms:4.1f} ms/request  statuses {result.statuses}  load {load:.1f}",
                        flush=True,
                    )
    print(f"machine: {machine()}")
    print("medians over the rounds:")
    for (name, connections), runs in results.items():
        print(
            f"  {name:32} c={connections:<2} "
            f"{statistics.median(r.requests_per_second for r, _, _ in runs):6.0f} req/s  "
            f"p50 {statistics.median(r.p50_ms for r, _, _ in runs):6.1f}  "
            f"p95 {statistics.median(r.p95_ms for r, _, _ in runs):6.1f}  "
            f"p99 {statistics.median(r.p99_ms for r, _, _ in runs):6.1f} ms  "
            f"CPU {statistics.median(c for _, _, c in runs):4.1f} ms/request  "
            f"load {statistics.median(load for _, load, _ in runs):.1f}"
        )


if __name__ == "__main__":
    main()
