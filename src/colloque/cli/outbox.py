"""``colloque outbox failed | held``: the messages given up, and those the mass-change breaker
holds. Ids, templates and counts only: never a recipient or a content."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from colloque.cli.common import DatabaseOption, database_of, fail, settings_of

outbox_app = typer.Typer(
    help="The outbox: messages that could not be sent, or that the mass-change breaker holds.",
    no_args_is_help=True,
)


@outbox_app.command("failed")
def outbox_failed(
    database_url: DatabaseOption = None,
    practice_id: Annotated[
        str | None, typer.Option(help="Only this practice's messages (its id).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
) -> None:
    """List the messages given up after their retries (ids, template, error; no content)."""
    from colloque.delivery.queries import failed_account_mail, failed_messages

    try:
        practice = uuid.UUID(practice_id) if practice_id else None
    except ValueError:
        raise fail("--practice-id must be a UUID") from None
    settings = settings_of(database_url)
    database = database_of(settings)
    with database.read() as session:
        messages = failed_messages(session, practice_id=practice, limit=limit)
        account = [] if practice else failed_account_mail(session, limit=limit)
    for m in messages:
        typer.echo(
            f"{m.created_at:%Y-%m-%d %H:%M}Z practice {m.practice_id} message {m.message_id} "
            f"{m.template} attempts={m.attempts} error={m.last_error}"
        )
    for a in account:
        typer.echo(
            f"{a.created_at:%Y-%m-%d %H:%M}Z account-mail {a.mail_id} "
            f"attempts={a.attempts} error={a.last_error}"
        )
    typer.echo(f"{len(messages)} failed messages, {len(account)} failed account mails")
    database.dispose()


@outbox_app.command("held")
def outbox_held(
    database_url: DatabaseOption = None,
    practice_id: Annotated[
        str | None, typer.Option(help="Only this practice's pauses (its id).")
    ] = None,
) -> None:
    """List the open pauses of the mass-change breaker: which practice, which account tripped
    it, how many messages wait. Only the practice's admins release or discard them (the API and
    the practice's outbox page): the decision about its patients' messages is theirs."""
    from colloque.delivery.pauses import pauses

    try:
        practice = uuid.UUID(practice_id) if practice_id else None
    except ValueError:
        raise fail("--practice-id must be a UUID") from None
    settings = settings_of(database_url)
    database = database_of(settings)
    with database.read() as session:
        found = pauses(session, practice_id=practice)
    for p in found:
        who = f"account {p.principal_account_id}" if p.principal_account_id else "the practice"
        alerted = "alerted" if p.alerted_at else "not yet alerted"
        typer.echo(
            f"{p.tripped_at:%Y-%m-%d %H:%M}Z practice {p.practice_id} pause {p.pause_id} "
            f"by {who}: {p.held} held ({p.held_cancellations} cancellations, "
            f"{p.held_moves} moves), {alerted}"
        )
    typer.echo(f"{len(found)} open pauses, {sum(p.held for p in found)} messages held")
    database.dispose()
