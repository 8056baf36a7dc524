"""``python -m colloque.cli``."""

from colloque.cli.main import app

app()
