"""Account mail in the outbox: queued in the transaction that decided it, sealed at rest.

An account notice's text is fixed by the request that decides it: a sign-up code or an invitation
token exists in clear only then (the database keeps their hashes). So the row holds the address,
subject and text, sealed under a key derived from the server secret (``ServerKeys
.account_mail_seal``): a stolen database or backup without the secret reads none of them. The
worker opens the row, sends it, and wipes the sealed content once it is sent or given up.
"""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.crypto.server_secrets import open_server_secret, seal_server_secret
from colloque.ids import new_id
from colloque.notifications.interfaces import MailMessage
from colloque.notifications.models import AccountMail
from colloque.notifications.rendering import reference_code

_PURPOSE = "account-mail"


#: Where the reference line goes: before the signature, or at the end.
_SIGNATURE = "\n\n-- \n"


def enqueue_account_mail(
    session: Session,
    message: MailMessage,
    *,
    at: datetime,
    kind: str,
    key: bytes,
    inbox_url: str | None = None,
) -> UUID:
    """Queue the notice; one about an existing account names its reference (the code the
    account's inbox shows for it) and where to check it."""
    mail_id = new_id()
    text = message.text
    if message.account_id is not None:
        text = _with_reference(text, reference_code(mail_id), inbox_url, message.language)
    payload = json.dumps(
        {"to": message.to, "subject": message.subject, "text": text}, ensure_ascii=False
    ).encode("utf-8")
    session.add(
        AccountMail(
            mail_id=mail_id,
            account_id=message.account_id,
            created_at=at,
            kind=kind,
            sealed=seal_server_secret(payload, key=key, purpose=_PURPOSE, subject_id=mail_id),
            status="pending",
            attempts=0,
            due_at=at,
        )
    )
    return mail_id


def _with_reference(text: str, reference: str, inbox_url: str | None, language: str) -> str:
    if language == "en":
        where = f": {inbox_url}" if inbox_url else ""
        line = (
            f"Reference {reference}. This message is listed in the notifications of your "
            f"Colloque account{where}; if it is not there, it is not from us: do not follow its "
            "links."
        )
    else:
        where = f" : {inbox_url}" if inbox_url else ""
        line = (
            f"Référence {reference}. Ce message figure dans les notifications de votre espace "
            f"Colloque{where} ; s'il n'y est pas, il ne vient pas de nous : n'en suivez pas les "
            "liens."
        )
    body, signature, rest = text.partition(_SIGNATURE)
    return f"{body}\n\n{line}{signature}{rest}"


def open_account_mail(row: AccountMail, *, key: bytes) -> MailMessage:
    """Raise ``CryptoError`` when the row was sealed under another key (a rotated secret)."""
    if row.sealed is None:
        raise ValueError("this account mail was already sent or given up")
    fields = json.loads(
        open_server_secret(row.sealed, key=key, purpose=_PURPOSE, subject_id=row.mail_id)
    )
    return MailMessage(to=fields["to"], subject=fields["subject"], text=fields["text"])
