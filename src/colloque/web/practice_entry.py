"""Who enters a page of the practice section (practice_section.py): one answer for all of them."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response

from colloque.authorization.policy import Action, Denied, PracticeTarget, Reason, authorize
from colloque.principal import Principal
from colloque.web.account_pages import ACCOUNT_PATH
from colloque.web.rendering import Page, error_page, page_for, render
from colloque.web.session import SignedIn, has_account, login_redirect, private, signed_in


@dataclass(frozen=True, slots=True)
class Entered:
    """A member let into a page of the practice section."""

    page: Page
    practice_id: UUID
    signed_in: SignedIn


def enter(
    request: Request,
    principal: Principal,
    lang_cookie: str | None,
    practice_text: str,
    action: Action = Action.PRACTICE_AGENDA_VIEW,
) -> Entered | Response:
    """Signed out: to the log-in page; otherwise :func:`admitted`'s answer, or the way in."""
    who = signed_in(request)
    if who is None or not has_account(principal):
        return login_redirect(request)
    page = page_for(request, lang_cookie)
    practice_id = admitted(request, page, principal, practice_text, action)
    if isinstance(practice_id, Response):
        return practice_id
    return Entered(page, practice_id, who)


def admitted(
    request: Request,
    page: Page,
    principal: Principal,
    practice_text: str,
    action: Action = Action.PRACTICE_AGENDA_VIEW,
) -> UUID | Response:
    """The practice's id when ``principal`` may do ``action`` there, else the error page: the
    same 404 for a malformed id, an unknown practice and somebody else's; a 403 for a member
    whose role is too low, or whose second factor is missing (they already know the practice;
    that page leads to the second factor's set-up)."""
    try:
        practice_id = UUID(practice_text)
    except ValueError:
        return private(request, error_page(page, 404, "error.not_found"))
    decision = authorize(principal, action, PracticeTarget(practice_id))
    if isinstance(decision, Denied):
        if decision.reason is Reason.MFA_REQUIRED:
            return private(request, second_factor_page(request, page))
        status, key = (
            (403, "error.forbidden")
            if decision.reason is Reason.ROLE_TOO_LOW
            else (404, "error.not_found")
        )
        return private(request, error_page(page, status, key))
    return practice_id


def second_factor_page(request: Request, page: Page) -> Response:
    """The 403 of a member without the second factor, which leads to its set-up on the account
    page and from there back here."""
    here = request.url.path
    if request.url.query:
        here += "?" + request.url.query
    set_up = f"{ACCOUNT_PATH}?{urlencode({'next': here})}#totp-title"
    return render(page, "second_factor_needed.html", 403, set_up_url=set_up)
