"""Who enters a page of the practice section (practice_section.py): one answer for all of them."""

from __future__ import annotations

from uuid import UUID

from fastapi import Request
from fastapi.responses import Response

from colloque.authorization.policy import Action, Denied, PracticeTarget, Reason, authorize
from colloque.principal import Principal
from colloque.web.rendering import Page, error_page
from colloque.web.session import private


def admitted(
    request: Request,
    page: Page,
    principal: Principal,
    practice_text: str,
    action: Action = Action.PRACTICE_AGENDA_VIEW,
) -> UUID | Response:
    """The practice's id when ``principal`` may do ``action`` there, else the error page: the
    same 404 for a malformed id, an unknown practice and somebody else's; a 403 for a member
    whose second factor is missing (they already know the practice)."""
    try:
        practice_id = UUID(practice_text)
    except ValueError:
        return private(request, error_page(page, 404, "error.not_found"))
    decision = authorize(principal, action, PracticeTarget(practice_id))
    if isinstance(decision, Denied):
        forbidden = decision.reason in (Reason.MFA_REQUIRED, Reason.ROLE_TOO_LOW)
        status, key = (403, "error.forbidden") if forbidden else (404, "error.not_found")
        return private(request, error_page(page, status, key))
    return practice_id
