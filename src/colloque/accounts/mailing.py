"""Account mail: what is said (never a secret other than the code or invitation meant for the
reader), queued in the outbox with the change that decided it, and sent after the response so
that timing reveals nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from colloque.clock import Clock
from colloque.notifications.account_mail import enqueue_account_mail
from colloque.notifications.interfaces import MailMessage

SIGNATURE = "\n\n-- \nColloque\n"


class MailQueue:
    """Account mail of one request: queued in the outbox inside the request's transaction, then
    handed to ``send_now`` once the response has gone (FastAPI background tasks).

    The outbox row is what makes the mail dependable: if the process dies before ``send_now``
    runs, or the mail server is down, the outbox worker sends it later. ``send_now`` only saves
    the wait for the worker's next round (a sign-up code is awaited by a person). The account
    routes attach ``background`` to error responses too (``AccountsRoute``), so that a notice
    decided by a refused request (an account just locked) is still sent at once.
    """

    def __init__(
        self,
        *,
        key: bytes,
        clock: Clock,
        background: BackgroundTasks,
        send_now: Callable[[list[UUID]], object] | None = None,
        inbox_url: str | None = None,
    ) -> None:
        self._key = key
        self._inbox_url = inbox_url
        self._clock = clock
        self._send_now = send_now
        self._queued: list[UUID] = []
        self.background = background

    def queue(self, session: Session, message: MailMessage | None) -> None:
        if message is None:
            return
        mail_id = enqueue_account_mail(
            session,
            message,
            at=self._clock.now(),
            kind=kind_of(message),
            key=self._key,
            inbox_url=self._inbox_url,
        )
        if self._send_now is not None:
            if not self._queued:
                self.background.add_task(self._send_now, self._queued)
            # Read when the task runs: every mail of the request, committed by then.
            self._queued.append(mail_id)


def kind_of(message: MailMessage) -> str:
    """The notice's kind for counts: its fixed subject line, never the address or a code."""
    return message.subject[:48]


def when(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC")


def signup_code(to: str, code: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Votre code Colloque",
        text=(
            f"Votre code de vérification : {code}\n\n"
            "Il est valable 10 minutes. Si vous n'avez pas demandé à créer un compte Colloque, "
            "ignorez ce message." + SIGNATURE
        ),
    )


def signup_existing(to: str, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Votre compte Colloque",
        text=(
            "Quelqu'un a demandé à créer un compte Colloque avec cette adresse, qui en a déjà un. "
            "Si c'était vous, connectez-vous avec votre mot de passe. Sinon, ignorez ce message."
            + SIGNATURE
        ),
    )


def email_change_code(to: str, code: str, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Confirmez votre nouvelle adresse",
        text=(
            f"Votre code de confirmation : {code}\n\n"
            "Il est valable 10 minutes. Si vous n'avez rien demandé, ignorez ce message."
            + SIGNATURE
        ),
    )


def email_changed(to: str, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Votre adresse Colloque a changé",
        text=(
            "L'adresse de connexion de votre compte Colloque vient d'être remplacée. Si ce n'est "
            "pas vous, contactez le support." + SIGNATURE
        ),
    )


def key_reset_code(to: str, code: str, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Réinitialisation de vos clés Colloque",
        text=(
            f"Votre code de réinitialisation : {code}\n\n"
            "Il est valable 10 minutes. À n'utiliser que si vous avez perdu à la fois votre mot de "
            "passe et votre code de récupération : vous recevrez de nouvelles clés, et vos "
            "documents chiffrés resteront illisibles jusqu'à ce que vos cabinets vous les "
            "partagent de nouveau. Si vous n'avez rien demandé, ignorez ce message." + SIGNATURE
        ),
    )


def keys_reset(to: str, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Vos clés Colloque ont été réinitialisées",
        text=(
            "Les clés de chiffrement de votre compte Colloque viennent d'être remplacées, avec un "
            "nouveau mot de passe et un nouveau code de récupération ; toutes vos sessions ont été "
            "fermées. Vos cabinets doivent vous partager de nouveau vos documents : ils le feront "
            "après avoir vérifié votre identité. Si ce n'est pas vous, contactez sans attendre "
            "vos cabinets et le support de Colloque." + SIGNATURE
        ),
    )


def account_locked(to: str, until: datetime, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Connexion à votre compte bloquée",
        text=(
            "Après plusieurs essais de mot de passe erronés, la connexion à votre compte Colloque "
            f"est bloquée jusqu'à {when(until)}. Si ce n'était pas vous, quelqu'un essaie "
            "peut-être de deviner votre mot de passe : choisissez-en un long et unique, et "
            "activez la double authentification." + SIGNATURE
        ),
    )


def password_changed(to: str, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Votre mot de passe Colloque a changé",
        text=(
            "Le mot de passe de votre compte Colloque vient d'être changé et toutes vos sessions "
            "ont été fermées. Si ce n'est pas vous, utilisez votre code de récupération."
            + SIGNATURE
        ),
    )


def recovery_code_renewed(to: str, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Nouveau code de récupération Colloque",
        text=(
            "Un nouveau code de récupération vient d'être créé pour votre compte Colloque ; "
            "l'ancien ne fonctionne plus. Si ce n'est pas vous, changez votre mot de passe et "
            "créez un nouveau code depuis la page de votre compte." + SIGNATURE
        ),
    )


def mfa_disabled(to: str, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Double authentification désactivée",
        text=(
            "La double authentification de votre compte Colloque vient d'être désactivée. Si ce "
            "n'est pas vous, changez votre mot de passe." + SIGNATURE
        ),
    )


def invitation(
    to: str, *, practice_name: str, role: str, token: str, practises_elsewhere: bool = False
) -> MailMessage:
    how = (
        "Vous exercez déjà dans un autre cabinet sur Colloque : connectez-vous avec le compte "
        "de praticien que vous y utilisez. Votre profil vous suit ; ce cabinet fixera vos "
        "horaires chez lui. Saisissez ensuite ce code"
        if practises_elsewhere
        else "Connectez-vous (ou créez un compte) avec cette adresse, puis saisissez ce code"
    )
    return MailMessage(
        to=to,
        subject="Invitation à rejoindre un cabinet sur Colloque",
        text=(
            f"Le cabinet « {practice_name} » vous invite à le rejoindre sur Colloque ({role}).\n\n"
            f"{how} d'invitation, valable 7 jours et une seule fois :\n\n{token}" + SIGNATURE
        ),
    )


def account_deleted(to: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Votre compte Colloque a été supprimé",
        text=(
            "Votre compte Colloque et ses données personnelles ont été supprimés. Les rendez-vous "
            "déjà pris restent connus des cabinets concernés." + SIGNATURE
        ),
    )


def new_device(to: str, *, label: str, at: datetime, account_id: UUID) -> MailMessage:
    software = "un logiciel non reconnu" if label == "unknown" else label
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Nouvelle connexion à votre compte Colloque",
        text=(
            f"Votre compte Colloque vient d'être ouvert depuis un appareil inconnu ({software}), "
            f"le {when(at)}.\n\nSi c'est vous, vous n'avez rien à faire. Sinon, changez votre mot "
            "de passe et fermez les autres sessions depuis la page de votre compte, puis activez "
            "la double authentification." + SIGNATURE
        ),
    )


def sessions_ended_by_admin(
    to: str, *, practice_name: str, at: datetime, account_id: UUID
) -> MailMessage:
    """What the new-device notice tells, and no more: when, and which practice's admin."""
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Vos sessions Colloque ont été fermées",
        text=(
            f"Un administrateur du cabinet « {practice_name} » a fermé toutes vos sessions "
            f"Colloque le {when(at)} (navigateurs, applications et jetons d'accès).\n\n"
            "Reconnectez-vous avec votre mot de passe et votre code de double authentification. "
            "Si vous ne savez pas pourquoi, parlez-en à votre cabinet." + SIGNATURE
        ),
    )
