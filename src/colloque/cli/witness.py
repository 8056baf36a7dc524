"""``colloque witness serve | key``: run a key directory witness, print its key line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from colloque.client.pins import pinned_log_key
from colloque.config import WitnessSettings
from colloque.witness.keys import WitnessKey, WitnessKeyError, load_or_create_seed

witness_app = typer.Typer(
    help="A key directory witness: cosigns checkpoints that extend the last one it cosigned.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        help="Where the witness keeps its key (witness-key, made at first start unless "
        "COLLOQUE_WITNESS_KEY is set) and its SQLite state.",
    ),
]
Name = Annotated[
    str,
    typer.Option(
        help="The witness's name, as servers and clients configure it (e.g. a host name)."
    ),
]


def _fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


def _key(data_dir: Path, name: str) -> WitnessKey:
    if not name or any(ch.isspace() or ch in "+=@" for ch in name):
        raise _fail("--name must be non-empty, without spaces, '+', '=' or '@'")
    given = WitnessSettings().key  # any text: decode_seed says what is wrong with it
    try:
        seed = load_or_create_seed(data_dir, given.get_secret_value() if given else None)
        return WitnessKey(name, seed)
    except WitnessKeyError as error:
        raise _fail(str(error)) from None


def parse_logs(entries: list[str]) -> dict[str, bytes]:
    """``ORIGIN=LOG_PUBLIC_KEY_B64`` entries, as a mapping; raises ValueError with the reason."""
    logs = {}
    for entry in entries:
        origin, equals, key = entry.partition("=")
        if not equals:
            raise ValueError(f"--log {entry!r} is not ORIGIN=LOG_PUBLIC_KEY")
        try:
            logs[origin] = pinned_log_key(origin, key)
        except ValueError as error:
            raise ValueError(f"--log {entry!r}: {error}") from None
    return logs


@witness_app.command()
def key(data_dir: DataDir, name: Name) -> None:
    """Print the NAME=PUBLIC_KEY line servers configure (append @URL), making the key if needed."""
    console.print(_key(data_dir, name).config_line(), soft_wrap=True, highlight=False)


@witness_app.command()
def serve(
    data_dir: DataDir,
    name: Name,
    log: Annotated[
        list[str],
        typer.Option(help="A log to witness, ORIGIN=LOG_PUBLIC_KEY_B64; repeat for several."),
    ],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8100,
) -> None:
    """Serve POST /add-checkpoint until stopped."""
    import uvicorn

    from colloque.clock import SystemClock
    from colloque.witness.app import create_witness_app
    from colloque.witness.services import Witness
    from colloque.witness.storage import Store

    witness_key = _key(data_dir, name)
    try:
        logs = parse_logs(log)
        store = Store(data_dir)
    except (ValueError, OSError) as error:
        raise _fail(str(error)) from None
    witness = Witness(key=witness_key, logs=logs, store=store, clock=SystemClock())
    errors.print(f"witness {witness_key.config_line()} on {host}:{port}", highlight=False)
    # As `colloque serve` (cli.common.SERVER_OPTIONS): no `server` header, no access log.
    uvicorn.run(
        create_witness_app(witness),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
