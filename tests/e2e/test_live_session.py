"""A session that stays true while the page is open: expiry, silent renewal, other tabs,
the API. Time is driven by token lifetimes of a few seconds set at the provider; faults
come from the fault proxy in front of it."""

from __future__ import annotations

import json
import re
import time

import faults
import pytest
from helpers import (
    WATCH_STATES,
    alert_text,
    close_tab,
    has_session,
    log_in,
    open_app,
    session_record,
    stored_items,
    wait_for_state,
)

pytestmark = pytest.mark.e2e

SHORT_TTL = 4  # seconds: long enough for a login, short enough for quick tests


@pytest.fixture
def short_lived(provider):
    """Short lifetimes for this test; the page fixture sets the defaults back."""
    provider.settings(id_token_ttl=SHORT_TTL, access_token_ttl=SHORT_TTL)
    return provider


def test_page_flips_to_logged_out_at_expiry_without_a_reload(page, site, short_lived):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    page.evaluate("window.__same_document = true")
    wait_for_state(page, "anonymous", timeout=(SHORT_TTL + 5) * 1000)
    assert page.evaluate("window.__same_document") is True
    assert "expired" in alert_text(page)
    assert not has_session(stored_items(page))


def test_background_renewal_keeps_the_session_past_several_lifetimes(page, site, short_lived):
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    page.evaluate(WATCH_STATES)
    first = session_record(page)
    short_lived.reset_log()
    deadline = first["expires_at"] + 2 * SHORT_TTL
    while time.time() < deadline:
        page.wait_for_timeout(500)
    # Never left the logged-in page, not even for a frame.
    assert set(page.evaluate("window.__states")) <= {"authenticated"}
    assert page.evaluate("document.body.dataset.session") == "authenticated"
    renewals = short_lived.refresh_calls()
    assert len(renewals) >= 3
    assert {call["outcome"] for call in renewals} == {"ok"}
    assert session_record(page)["expires_at"] > first["expires_at"] + SHORT_TTL
    assert page.text_content(".nickname") == "ali"
    assert alert_text(page) == ""


def test_refused_renewal_logs_out_with_a_message(page, site, short_lived, proxy):
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    proxy.install(faults.token_invalid_grant())
    wait_for_state(page, "anonymous", timeout=(SHORT_TTL + 5) * 1000)
    assert "ended by the sign-in provider" in alert_text(page)
    assert not has_session(stored_items(page))


def test_expiry_indicator_counts_down(page, site, short_lived):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    first = page.text_content(".session-expiry")
    assert re.fullmatch(r"Session expires in \d s\.", first)
    page.wait_for_timeout(1500)
    assert page.text_content(".session-expiry") != first


def test_logout_in_one_tab_shows_in_the_other_at_once(page, site, browser_context):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    other = browser_context.new_page()
    open_app(other, site.url, state="authenticated")
    page.click(".btn-logout")
    wait_for_state(other, "anonymous", timeout=2000)
    assert "another tab" in alert_text(other)
    close_tab(other)


def test_login_in_one_tab_shows_in_the_other(page, site, browser_context):
    other = browser_context.new_page()
    open_app(other, site.url)
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    wait_for_state(other, "authenticated", timeout=2000)
    assert other.text_content(".nickname") == "ali"
    close_tab(other)


def test_concurrent_renewal_in_two_tabs_uses_each_refresh_token_once(
    page, site, provider, proxy, browser_context
):
    # Lifetimes of 6 s give a 2 s renewal margin; a token endpoint that takes 1.2 s
    # keeps each renewal in flight longer than the tabs' one-second tick, so both
    # tabs do reach for the refresh token at the same time.
    provider.settings(id_token_ttl=6, access_token_ttl=6)
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    other = browser_context.new_page()
    open_app(other, site.renewing_url, state="authenticated")
    proxy.install(faults.slow("/token", 1.2))
    provider.reset_log()
    deadline = session_record(page)["expires_at"] + 12
    while time.time() < deadline:
        page.wait_for_timeout(500)
    renewals = provider.refresh_calls()
    used = [call["refresh_token_sha256_prefix"] for call in renewals]
    assert len(used) >= 2
    assert len(used) == len(set(used))  # each refresh token presented once
    for tab in (page, other):
        assert tab.evaluate("document.body.dataset.session") == "authenticated"
    assert session_record(page) == session_record(other)
    close_tab(other)


def test_call_api_shows_the_protected_answer(page, site):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    page.click(".btn-call-api")
    page.wait_for_selector(".api-result:text('HTTP 200')")
    answer = json.loads(page.text_content(".api-result").split("\n", 1)[1])
    assert answer["sub"] == "alice"
    assert "alice" in answer["message"]  # the API learns whose the token is by introspection


def test_call_api_renews_and_retries_once_after_a_401(page, site, provider, proxy):
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    provider.reset_log()
    # The API asks the provider (through the proxy, the issuer) whose the token is: it
    # now hears "not active", so it answers 401.
    proxy.install(faults.introspection_inactive())
    page.click(".btn-call-api")
    page.wait_for_selector(".api-result:text('HTTP 401')")
    assert [c["outcome"] for c in provider.refresh_calls()] == ["ok"]
    assert len(proxy.passed("/token/introspection")) == 2  # the call and its one retry


def test_call_api_without_a_session_says_so(page, site):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    # The session disappears (as if another tab logged out) just before the click:
    # this tab gets no storage event for its own change, so the click still happens.
    page.evaluate("""() => {
        for (const key of Object.keys(localStorage)) localStorage.removeItem(key);
        document.querySelector('.btn-call-api').click();
    }""")
    page.wait_for_selector("#auth-error:not([hidden])")
    assert "not logged in" in alert_text(page)
