"""Text normalisation shared by storage and search."""

from __future__ import annotations

import unicodedata

#: The longest address SMTP carries (RFC 5321: 64 + 1 + 255).
MAX_EMAIL_LENGTH = 320


def search_key(text: str) -> str:
    """Lower case, accents removed, separators collapsed: ``"Saint-Étienne"`` -> ``"saint etienne"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() else " " for ch in stripped.casefold())
    return " ".join(cleaned.split())


def normalise_email(email: str) -> str:
    """The one normalisation of addresses (the same as ``colloque.crypto.login``'s)."""
    return email.strip().lower()


def email_is_plausible(normalised: str) -> bool:
    """A local part, one ``@`` and a dotted domain: what mail can be sent to; no more is checked,
    since only a delivered message proves an address."""
    local, at, domain = normalised.partition("@")
    return bool(at and local and "." in domain and "@" not in domain) and (
        len(normalised) <= MAX_EMAIL_LENGTH
    )
