"""The demo's practices get their decoys, as real ones do; existing ones by the command."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from colloque.cli.main import app as cli
from colloque.clock import SettableClock
from colloque.containment.canaries import PATIENTS_PER_PRACTICE, is_canary
from colloque.containment.models import Canary
from colloque.demo.generator import generate_demo
from colloque.scheduling.models import Practice
from colloque.storage.engine import Database, sqlite_url_for
from colloque.storage.migrate import upgrade
from tests.factories import World
from tests.unit.demo.support import DEMO_NOW

KEY = bytes(range(32))


def test_each_demo_practice_gets_its_decoys(tmp_path: Path) -> None:
    url = sqlite_url_for(tmp_path / "demo.sqlite3")
    upgrade(url)
    db = Database(url)
    generate_demo(
        db, seed=1, practitioners=2, patients=2, appointments=0, now=DEMO_NOW, canary_key=KEY
    )
    with db.read() as session:
        practices = set(session.scalars(select(Practice.practice_id)))
        decoys = session.execute(select(Canary.practice_id, Canary.object_id, Canary.kind)).all()
    db.dispose()
    assert {practice for practice, _, _ in decoys} == practices
    patients = [row for row in decoys if row.kind == "patient"]
    assert len(patients) == PATIENTS_PER_PRACTICE * len(practices)
    assert all(is_canary(KEY, object_id) for _, object_id, _ in decoys)


def test_colloque_canaries_plant_gives_existing_practices_theirs(
    db: Database, clock: SettableClock, world: World
) -> None:
    url = db.url.render_as_string(hide_password=False)
    first = CliRunner().invoke(cli, ["canaries", "plant", "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "4 decoy record(s) planted" in first.output
    again = CliRunner().invoke(cli, ["canaries", "plant", "--database-url", url])
    assert "0 decoy record(s) planted" in again.output
    with db.read() as session:
        practices = set(session.scalars(select(Canary.practice_id)))
    assert practices == {world.practice_id}
