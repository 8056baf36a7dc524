"""``colloque canaries plant``: give existing practices their decoy records (docs/containment.md).

New practices get theirs when created and when a practitioner joins; this is the upkeep step
for practices made before, and after a rotation of the secret key: the old decoys are no longer
recognised (they stay, still left out of counts), new ones are planted beside them.
"""

from __future__ import annotations

import typer
from sqlalchemy import select

from colloque.cli.common import DatabaseOption, database_of, settings_of
from colloque.clock import SystemClock

canaries_app = typer.Typer(
    help="Decoy patients and appointments: reading one suspends the credential that did.",
    no_args_is_help=True,
)


@canaries_app.command("plant")
def canaries_plant(database_url: DatabaseOption = None) -> None:
    """Plant the decoys every practice lacks (idempotent)."""
    from colloque.containment.canaries import do_plant_canaries
    from colloque.scheduling.models import Practice

    settings = settings_of(database_url)
    database = database_of(settings)
    key = settings.server_keys.canary_tag
    now = SystemClock().now()
    planted = 0
    try:
        with database.write() as session:
            for practice_id in session.scalars(select(Practice.practice_id)).all():
                planted += do_plant_canaries(session, now=now, practice_id=practice_id, key=key)
    finally:
        database.dispose()
    typer.echo(f"{planted} decoy record(s) planted")
