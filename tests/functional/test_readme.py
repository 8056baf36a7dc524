"""Every Python block of README.md runs, in order, against a server over a fresh demo database
(``URL``, ``ORIGIN`` and ``LOG_KEY`` are what ``colloque demo`` prints)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.keydirectory.config import LogKey
from tests.server import running_server
from tests.unit.demo.support import DEMO_NOW, make_demo

README = Path(__file__).parents[2] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_examples_run(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 3
    demo = make_demo(tmp_path / "demo.sqlite3")
    settings = Settings(run_refresher=False, data_dir=tmp_path)
    log = LogKey.from_settings(settings)
    app = create_app(settings, database=demo.db, clock=SettableClock(DEMO_NOW))
    try:
        with running_server(app) as url:
            namespace: dict[str, object] = {
                "URL": url,
                "ORIGIN": log.origin,
                "LOG_KEY": base64.b64encode(log.public_key).decode(),
            }
            for block in blocks:
                exec(compile(block, str(README), "exec"), namespace)
    finally:
        demo.db.dispose()
