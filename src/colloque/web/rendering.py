"""What every page shares: the Jinja2 templates, the language, the headers, the error page.

Pages parse their own inputs rather than leave it to FastAPI's validation, so that a bad query or
an unknown id answers with a page in the patient's language (400 or 404), never with the API's
JSON problem or a 500: :class:`BadRequest` carries the field that was wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from babel.dates import format_date, format_time
from fastapi import Cookie, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.datastructures import URL

from colloque.config import Environment as Deployment
from colloque.scheduling.models import Practitioner
from colloque.scheduling.specialties import SPECIALTY_LABELS, Specialty
from colloque.web import practice_section
from colloque.web.assets import Assets
from colloque.web.i18n import Language, Translator, pick_language
from colloque.web.security import page_headers
from colloque.web.session import SignedIn, signed_in

LANG_COOKIE = "lang"
#: The pages' own styles: every page links them.
STYLES_ENTRY = "src/pages.css"

_templates = Environment(
    loader=PackageLoader("colloque.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

LangParam = Annotated[str | None, Cookie(alias=LANG_COOKIE)]


class BadRequest(Exception):
    """A query a person could have typed wrong: answered with a 400 page naming the field."""

    def __init__(self, field: str, *, reason: str | None = None) -> None:
        super().__init__(field)
        self.field = field
        #: Why, when one field can be wrong in more than one way that a person fixes differently.
        self.reason = reason


def json_for_html(value: object) -> Markup:
    # Inside <script type="application/json"> the only danger is text closing the element early;
    # escaping <, > and & keeps it one JSON string whatever a label holds.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script element it goes in


@dataclass(frozen=True, slots=True)
class Page:
    request: Request
    language: Language
    set_cookie: bool

    @property
    def t(self) -> Translator:
        return Translator(self.language)


#: The signed-in screens, in the header of every page (path, catalogue key).
SIGNED_IN_LINKS = (
    ("/me/appointments", "nav.appointments"),
    ("/me/records", "nav.records"),
    ("/me/relatives", "nav.relatives"),
    ("/me/notifications", "nav.notifications"),
    ("/me/access-history", "nav.access_history"),
)


#: The header's link to a member's practice agenda, and to the list of their practices when they
#: work at several (catalogue keys).
AGENDA_LINK = "nav.agenda"
PRACTICES_LINK = "nav.practices"


def signed_in_links(who: SignedIn | None) -> list[tuple[str, str]]:
    """The header's links: the personal pages, and the agenda of the practice a member works at
    (the list of their practices, when several)."""
    if who is None:
        return list(SIGNED_IN_LINKS)
    agendas = practice_section.member_agendas(who.resolved.principal)
    if len(agendas) > 1:
        return [*SIGNED_IN_LINKS, (practice_section.PRACTICES_PATH, PRACTICES_LINK)]
    extra = [(practice_section.agenda_url(agendas[0]), AGENDA_LINK)] if agendas else []
    return [*SIGNED_IN_LINKS, *extra]


def page_for(request: Request, lang_cookie: str | None) -> Page:
    asked = request.query_params.get("lang")
    language = pick_language(asked, lang_cookie)
    return Page(request, language, set_cookie=asked == language.value and asked != lang_cookie)


def render(
    page: Page, template: str, status: int = 200, *, same_page: str | None = None, **context: Any
) -> HTMLResponse:
    """``same_page``: this page's address as the page itself would write it (a relative URL),
    for the language switch, when the request's own URL may hold more than the page keeps."""
    request = page.request
    assets: Assets = request.app.state.web_assets
    other = Language.EN if page.language is Language.FR else Language.FR
    switch = (
        request.url.include_query_params(lang=other.value)
        if same_page is None
        else URL(same_page).include_query_params(lang=other.value)
    )
    who = signed_in(request)
    html = _templates.get_template(template).render(
        t=page.t,
        lang=page.language.value,
        other_lang=other.value,
        switch_url=f"{switch.path}?{switch.query}",
        styles=assets.entry(STYLES_ENTRY).styles,
        signed_in=who,
        signed_in_links=signed_in_links(who),
        here=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    production = request.app.state.settings.environment is Deployment.PRODUCTION
    page_headers(response.headers, production=production)
    if who is not None:
        # The header names the person: not for a shared computer's cache.
        response.headers["Cache-Control"] = "no-store"
    if page.set_cookie:
        response.set_cookie(
            LANG_COOKIE,
            page.language.value,
            max_age=365 * 86_400,
            samesite="lax",
            httponly=True,
            secure=production,
        )
    return response


def error_page(page: Page, status: int, key: str) -> HTMLResponse:
    return render(page, "error.html", status, status_code=status, message_key=key)


def specialty_label(code: str, language: Language) -> str:
    english, french = SPECIALTY_LABELS[Specialty(code)]
    return english if language is Language.EN else french


def full_name(practitioner: Practitioner) -> str:
    return " ".join(
        part
        for part in (practitioner.title, practitioner.first_name, practitioner.last_name)
        if part
    )


def practitioner_url(practice_id: UUID, practitioner_id: UUID) -> str:
    return f"/practitioners/{practice_id}/{practitioner_id}"


def slot_text(moment: datetime, language: Language) -> dict[str, str]:
    return {
        "iso": moment.isoformat(),
        "day": format_date(moment.date(), format="EEE d MMM", locale=language.value),
        "time": format_time(moment, format="HH:mm", locale=language.value),
    }
