"""Signing up in the browser, as a person does it: details, the code mailed to a real SMTP inbox,
then the recovery code shown once and two of its groups typed back. Shared by the account tests
and the full journey; the caller opens the sign-up form (its page, or inline on the booking page)
and checks where it lands."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.smtp import Inbox
from tests.web_login import PASSWORD


def sign_up(
    page: Page, inbox: Inbox, email: str, *, keyboard: bool = False, within: str = "#account-island"
) -> str:
    """From the sign-up form to the confirmed recovery code; returns the code it showed. With the
    mouse, a wrong group is typed first (caught before anything is sent); ``keyboard`` does it
    all with the keyboard, from the skip link on the sign-up page, from the focused form heading
    elsewhere. ``within``: the element that holds the form (its submit buttons are the form's)."""
    submit = f"{within} form button[type=submit]"
    fields = [
        ("#signup-email", email),
        ("#signup-name", "Ana Martin"),
        ("#signup-password", PASSWORD),
    ]
    if keyboard:
        page.locator("#signup-email").wait_for()
        if within == "#account-island":
            page.locator("a.skip").focus()
            page.keyboard.press("Enter")  # the skip link, to the main content
        for _, value in fields:
            page.keyboard.press("Tab")
            page.keyboard.type(value)
        page.keyboard.press("Enter")
    else:
        for selector, value in fields:
            page.fill(selector, value)
        page.click(submit)
    code_field = page.locator("#signup-code")
    expect(code_field).to_be_visible()
    if keyboard:
        expect(page.locator(f"{within} form h2")).to_be_focused()
        page.keyboard.press("Tab")
        page.keyboard.type(inbox.wait_for_code(email))
        page.keyboard.press("Enter")
    else:
        code_field.fill(inbox.wait_for_code(email))
        page.click(submit)
    shown = page.get_by_test_id("recovery-code")
    expect(shown).to_be_visible(timeout=30_000)
    code = shown.inner_text().strip()
    groups = code.split("-")
    assert len(groups) == 8
    asked = asked_groups(page, "recovery-group")
    if keyboard:
        expect(page.locator(f"{within} form h2")).to_be_focused()
        page.keyboard.press("Tab")
        page.keyboard.type(groups[asked[0]])
        page.keyboard.press("Tab")
        page.keyboard.type(groups[asked[1]].lower())
        page.keyboard.press("Enter")
    else:
        page.fill("#recovery-group-0", groups[asked[0]])
        page.fill("#recovery-group-1", "ZZZZ" if groups[asked[1]] != "ZZZZ" else "YYYY")
        page.click(submit)
        expect(page.get_by_role("alert")).to_contain_text("ne correspondent pas")
        page.fill("#recovery-group-1", groups[asked[1]].lower())
        page.click(submit)
    return code


def asked_groups(page: Page, prefix: str) -> list[int]:
    """Which groups of the code the page asks to type back (0-based), read from its labels."""
    labels = " ".join(page.locator(f"label[for^={prefix}]").all_inner_texts())
    return [int(n) - 1 for n in re.findall(r"(\d+)", labels)]
