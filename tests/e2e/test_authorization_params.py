"""Every provider's knobs in real Chromium against the local provider: authorizationParams
reach it from either lane, max_age makes a stale sign-in (auth_time) refused and a fresh
one pass, and a login that asked for offline_access without getting a refresh token says
so in the console, not on the page."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from helpers import (
    KNOBS,
    alert_text,
    has_session,
    log_in,
    open_app,
    session_record,
    start_login,
    stored_items,
    wait_for_lane,
    wait_for_state,
)

from oidc_spa.messages import MESSAGES

pytestmark = pytest.mark.e2e

# What KNOBS look like in the request: every value a string, max_age too.
SENT = {name: str(value) for name, value in KNOBS.items()}


def lane(page: Any) -> str | None:
    return page.evaluate("document.body.getAttribute('data-lane')")


def provider_received(provider: Any) -> dict[str, str]:
    """The query of the last authorization request the provider received."""
    return provider.log()["authorizations"][-1]["query"]


def finish_sign_in(page: Any, password: str) -> None:
    """On the provider's sign-in form, whose username login_hint filled in."""
    page.fill("#password", password)
    page.click("button[value='sign-in']")


def test_authorization_params_reach_the_provider_from_the_first_lane(page, site, provider):
    provider.reset_log()
    # node-oidc-provider's own rule: offline_access only with prompt=consent, which KNOBS send.
    provider.settings(offline_access_needs_consent=True)
    open_app(page, site.knobs_url, lane="first")
    assert lane(page) == "first"  # fullLane on-demand: the click is MicroPython's
    sent = start_login(page)
    assert {name: sent[name] for name in SENT} == SENT
    received = provider_received(provider)
    assert {name: received[name] for name in SENT} == SENT
    assert received["response_type"] == "code" and received["code_challenge_method"] == "S256"
    assert page.input_value("#username") == "bob"  # login_hint, as the provider read it
    finish_sign_in(page, "bob-demo")
    wait_for_state(page, "authenticated")
    assert page.text_content(".nickname") == "bobby"
    record = session_record(page)
    assert record["refresh_token"]  # prompt=consent got offline_access
    assert "offline_access" in record["scope"].split()


def test_max_age_refuses_a_stale_sign_in_and_takes_a_fresh_one(page, site, provider):
    provider.settings(login_age=3600)  # the provider says the user signed in an hour ago
    open_app(page, site.knobs_url, lane="first")
    start_login(page)
    finish_sign_in(page, "bob-demo")
    wait_for_lane(page, "full")  # the callback is the full lane's
    wait_for_state(page, "anonymous")
    page.wait_for_selector("#auth-error", state="visible")
    assert alert_text(page) == MESSAGES["id_token.auth_time_too_old"]
    assert not has_session(stored_items(page))
    assert set(parse_qsl(urlsplit(page.url).query)) == set()  # the answer is gone

    provider.settings(login_age=0)
    assert lane(page) == "full"  # this time the full lane builds the request
    sent = start_login(page)
    assert {name: sent[name] for name in SENT} == SENT
    assert {name: provider_received(provider)[name] for name in SENT} == SENT
    # The provider's session is an hour old for max_age=300: it asks for the password again.
    finish_sign_in(page, "bob-demo")
    wait_for_state(page, "authenticated")
    assert alert_text(page) == ""
    assert page.text_content(".nickname") == "bobby"


def test_no_refresh_token_for_offline_access_is_a_console_note_not_a_page_error(
        page, site, provider):
    provider.settings(offline_access_needs_consent=True)  # renewing/ sends no prompt=consent
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text)
            if message.type == "warning" else None)
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    page.wait_for_timeout(200)  # the note is written just before the page is painted
    assert alert_text(page) == ""
    assert session_record(page)["refresh_token"] is None
    notes = [text for text in warnings if text.startswith("token.no_refresh_token: ")]
    assert notes == ["token.no_refresh_token: " + MESSAGES["token.no_refresh_token"]]
    assert '"prompt": "consent"' in notes[0]
