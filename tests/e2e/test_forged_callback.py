"""Addresses a person (or an attacker's link) can open by hand: never a session, always a
clear message, and the address bar cleaned."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from helpers import alert_text, has_session, open_app, start_login, stored_items, wait_for_state

pytestmark = pytest.mark.e2e

FORGED = {
    "code-without-state": ("?code=abc", "missing its security check"),
    "state-never-issued": ("?code=abc&state=made-up", "does not belong"),
    "error-for-a-login-never-started": ("?error=access_denied&state=made-up", "does not belong"),
    "repeated-parameters": ("?code=a&code=b&state=s", "malformed"),
    "markup-in-the-error": ("?error=%3Cimg+src%3Dx%3E&state=made-up", "does not belong"),
}


@pytest.mark.parametrize("case", FORGED, ids=list(FORGED))
def test_forged_callback_url_is_refused_and_cleaned(page, site, case):
    query, message = FORGED[case]
    open_app(page, site.url + query + "#keep")
    assert message in alert_text(page)
    assert urlsplit(page.url).query == ""
    assert urlsplit(page.url).fragment == "keep"
    assert not has_session(stored_items(page))


def test_provider_error_text_is_shown_as_text(page, site, provider):
    # A real login, so the state is known; the provider's description carries markup.
    open_app(page, site.url)
    state = start_login(page)["state"]
    page.goto(f"{site.url}?error=access_denied&error_description=%3Cb%3Ehi%3C%2Fb%3E"
              f"&state={state}&iss={quote(provider.issuer, safe='')}")
    wait_for_state(page, "anonymous")
    assert "<b>hi</b>" in alert_text(page)
    assert page.locator("#auth-error b").count() == 0
