"""Account mail: what is said (never a secret other than the code or invitation meant for the
reader), through which sender, and sent after the response so that timing reveals nothing."""

from __future__ import annotations

from datetime import datetime

import structlog
from fastapi import BackgroundTasks

from colloque.config import MailBackend, Settings
from colloque.notifications.interfaces import DeliveryError, MailMessage, MailSender
from colloque.notifications.mail import ConsoleMailSender, SmtpMailSender

log = structlog.get_logger("colloque.accounts")

_SIGNATURE = "\n\n-- \nColloque\n"


def sender_from_settings(settings: Settings) -> MailSender:
    if settings.effective_mail_backend is MailBackend.CONSOLE:
        return ConsoleMailSender()
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=password,
        starttls=settings.effective_smtp_starttls,
    )


def send_quietly(sender: MailSender, message: MailMessage) -> None:
    """Deliver, or log the failure with the fixed subject only (never the address or the text)."""
    try:
        sender.send(message)
    except DeliveryError as exc:
        log.warning("mail_delivery_failed", subject=message.subject, error=str(exc))


class MailQueue:
    """Mail to send once the response has gone (FastAPI background tasks).

    The account routes attach ``background`` to error responses too (``AccountsRoute``), so that
    a notice decided by a refused request (an account just locked) still goes, after the answer.
    """

    def __init__(self, sender: MailSender, background: BackgroundTasks) -> None:
        self._sender = sender
        self.background = background

    def send_later(self, message: MailMessage | None) -> None:
        if message is not None:
            self.background.add_task(send_quietly, self._sender, message)


def _when(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC")


def signup_code(to: str, code: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Votre code Colloque",
        text=(
            f"Votre code de vérification : {code}\n\n"
            "Il est valable 10 minutes. Si vous n'avez pas demandé à créer un compte Colloque, "
            "ignorez ce message." + _SIGNATURE
        ),
    )


def signup_existing(to: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Votre compte Colloque",
        text=(
            "Quelqu'un a demandé à créer un compte Colloque avec cette adresse, qui en a déjà un. "
            "Si c'était vous, connectez-vous avec votre mot de passe. Sinon, ignorez ce message."
            + _SIGNATURE
        ),
    )


def email_change_code(to: str, code: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Confirmez votre nouvelle adresse",
        text=(
            f"Votre code de confirmation : {code}\n\n"
            "Il est valable 10 minutes. Si vous n'avez rien demandé, ignorez ce message."
            + _SIGNATURE
        ),
    )


def email_changed(to: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Votre adresse Colloque a changé",
        text=(
            "L'adresse de connexion de votre compte Colloque vient d'être remplacée. Si ce n'est "
            "pas vous, contactez le support." + _SIGNATURE
        ),
    )


def key_reset_code(to: str, code: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Réinitialisation de vos clés Colloque",
        text=(
            f"Votre code de réinitialisation : {code}\n\n"
            "Il est valable 10 minutes. À n'utiliser que si vous avez perdu à la fois votre mot de "
            "passe et votre code de récupération : vous recevrez de nouvelles clés, et vos "
            "documents chiffrés resteront illisibles jusqu'à ce que vos cabinets vous les "
            "partagent de nouveau. Si vous n'avez rien demandé, ignorez ce message." + _SIGNATURE
        ),
    )


def keys_reset(to: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Vos clés Colloque ont été réinitialisées",
        text=(
            "Les clés de chiffrement de votre compte Colloque viennent d'être remplacées, avec un "
            "nouveau mot de passe et un nouveau code de récupération ; toutes vos sessions ont été "
            "fermées. Vos cabinets doivent vous partager de nouveau vos documents : ils le feront "
            "après avoir vérifié votre identité. Si ce n'est pas vous, contactez sans attendre "
            "vos cabinets et le support de Colloque." + _SIGNATURE
        ),
    )


def account_locked(to: str, until: datetime) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Connexion à votre compte bloquée",
        text=(
            "Après plusieurs essais de mot de passe erronés, la connexion à votre compte Colloque "
            f"est bloquée jusqu'à {_when(until)}. Si ce n'était pas vous, quelqu'un essaie "
            "peut-être de deviner votre mot de passe : choisissez-en un long et unique, et "
            "activez la double authentification." + _SIGNATURE
        ),
    )


def password_changed(to: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Votre mot de passe Colloque a changé",
        text=(
            "Le mot de passe de votre compte Colloque vient d'être changé et toutes vos sessions "
            "ont été fermées. Si ce n'est pas vous, utilisez votre code de récupération."
            + _SIGNATURE
        ),
    )


def recovery_code_renewed(to: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Nouveau code de récupération Colloque",
        text=(
            "Un nouveau code de récupération vient d'être créé pour votre compte Colloque ; "
            "l'ancien ne fonctionne plus. Si ce n'est pas vous, changez votre mot de passe et "
            "créez un nouveau code depuis la page de votre compte." + _SIGNATURE
        ),
    )


def mfa_disabled(to: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Double authentification désactivée",
        text=(
            "La double authentification de votre compte Colloque vient d'être désactivée. Si ce "
            "n'est pas vous, changez votre mot de passe." + _SIGNATURE
        ),
    )


def invitation(to: str, *, practice_name: str, role: str, token: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Invitation à rejoindre un cabinet sur Colloque",
        text=(
            f"Le cabinet « {practice_name} » vous invite à le rejoindre sur Colloque ({role}).\n\n"
            "Connectez-vous (ou créez un compte) avec cette adresse, puis saisissez ce code "
            f"d'invitation, valable 7 jours et une seule fois :\n\n{token}" + _SIGNATURE
        ),
    )


def account_deleted(to: str) -> MailMessage:
    return MailMessage(
        to=to,
        subject="Votre compte Colloque a été supprimé",
        text=(
            "Votre compte Colloque et ses données personnelles ont été supprimés. Les rendez-vous "
            "déjà pris restent connus des cabinets concernés." + _SIGNATURE
        ),
    )
