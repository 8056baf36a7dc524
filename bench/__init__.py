"""Benchmarks: run with `uv run python -m bench.<name>`; results go to docs/benchmarks.md."""
