"""The mail a suspension sends: to the owner, and to the practice's admins. No person, no
patient, no time: what happened in general terms and what to do."""

from __future__ import annotations

from uuid import UUID

from colloque.notifications.interfaces import MailMessage

_SIGNATURE = "\n\n-- \nColloque"


def suspended_notice(to: str, *, account_id: UUID, language: str, owner: bool) -> MailMessage:
    if language == "en":
        if owner:
            text = (
                "One of your Colloque sessions read far more records than usual, and was "
                "suspended. Sign in again, with your second factor for a practice account. If "
                "this was not you, change your password: your practice's admins were told."
            )
        else:
            text = (
                "A session of one of your practice's accounts read far more records than usual, "
                "and was suspended; an incident was opened. Check the practice's access log, and "
                "with its owner whether the reading was theirs."
            )
        subject = "A session was suspended"
    else:
        if owner:
            text = (
                "Une de vos sessions Colloque a consulté bien plus de dossiers que d'habitude et "
                "a été suspendue. Reconnectez-vous, avec votre second facteur pour un compte de "
                "cabinet. Si ce n'était pas vous, changez votre mot de passe : les "
                "administrateurs de votre cabinet ont été prévenus."
            )
        else:
            text = (
                "Une session d'un compte de votre cabinet a consulté bien plus de dossiers que "
                "d'habitude et a été suspendue ; un incident a été ouvert. Consultez le journal "
                "des accès du cabinet, et voyez avec son titulaire si c'était lui."
            )
        subject = "Une session a été suspendue"
    return MailMessage(
        to=to, subject=subject, text=text + _SIGNATURE, account_id=account_id, language=language
    )
