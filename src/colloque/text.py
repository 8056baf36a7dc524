"""Text normalisation shared by storage and search."""

from __future__ import annotations

import unicodedata


def search_key(text: str) -> str:
    """Lower case, accents removed, separators collapsed: ``"Saint-Étienne"`` -> ``"saint etienne"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() else " " for ch in stripped.casefold())
    return " ".join(cleaned.split())
