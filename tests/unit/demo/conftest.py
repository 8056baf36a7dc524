"""One small demo, generated once per module into a migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.demo.support import Demo, make_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    made = make_demo(tmp_path_factory.mktemp("demo") / "demo.sqlite3")
    yield made
    made.db.dispose()
