"""Two tabs racing renewal and logout, providers that do not rotate refresh tokens, and a
key outage during renewal: in real Chromium against the local provider process.

Timing is forced, not hoped for: the fault proxy holds token answers back on cue
(answer_late: the provider renews at once, its answer waits), and the JWKS outage is the
proxy answering 503 in the provider's place.
"""

from __future__ import annotations

import time
from typing import Any

import faults
import pytest
from fault_proxy import Answer, Fault
from helpers import (
    APP_PREFIX,
    WATCH_STATES,
    close_tab,
    has_session,
    log_in,
    open_app,
    session_record,
    stored_items,
    wait_for_state,
)

pytestmark = pytest.mark.e2e

@pytest.fixture
def lifetimes(provider):
    """set(ttl, **provider settings): short token lifetimes for the test (the page fixture
    sets the defaults back)."""

    def apply(ttl: int, **settings: Any) -> None:
        provider.settings(id_token_ttl=ttl, access_token_ttl=ttl, **settings)

    return apply


def token_requests(tab: Any) -> list[float]:
    """Times at which this tab sent a request to the provider's token endpoint."""
    sent: list[float] = []
    tab.on("request", lambda request: sent.append(time.time())
           if request.url.endswith("/token") else None)
    return sent


def test_logout_in_one_tab_while_the_other_renews_ends_the_session_everywhere(
        page, site, provider, proxy, browser_context, lifetimes):
    lifetimes(8)
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    other = browser_context.new_page()
    try:
        open_app(other, site.renewing_url, state="authenticated")
        sent = {"page": token_requests(page), "other": token_requests(other)}
        provider.reset_log()
        # Later than the click, within the page's request timeout (REQUEST_TIMEOUT).
        proxy.install(faults.answer_late("/token", 4))
        deadline = time.time() + 15
        while not any(sent.values()) and time.time() < deadline:
            page.wait_for_timeout(100)
        renewer, clicker = (page, other) if sent["page"] else (other, page)
        assert any(sent.values()), "no renewal started"
        assert APP_PREFIX + "renewing" in stored_items(page)  # its answer is still out
        renewer.evaluate(WATCH_STATES)
        clicker.click(".btn-logout")
        wait_for_state(clicker, "anonymous")
        wait_for_state(renewer, "anonymous", timeout=2000)
        # The late answer arrives, and is dropped.
        deadline = time.time() + 10
        while not provider.revocations() or len(provider.revocations()) < 2:
            assert time.time() < deadline, provider.log()
            page.wait_for_timeout(200)
        page.wait_for_timeout(500)
        assert renewer.evaluate("window.__states") == ["anonymous"]
        for tab in (page, other):
            assert not has_session(stored_items(tab))
            tab.reload()
            wait_for_state(tab, "anonymous")
        [refresh] = provider.refresh_calls()
        assert refresh["outcome"] == "ok"  # the provider did renew; the tab dropped it
        issued = refresh["issued_refresh_token_sha256_prefix"]
        assert issued in [r["token_sha256_prefix"] for r in provider.revocations()]
        assert provider.refresh_token_state(issued) == "revoked"
        assert provider.refresh_token_state(refresh["refresh_token_sha256_prefix"]) == "revoked"
        # The provider's own session ended too: logging in asks for the password again.
        page.click(".btn-login")
        page.wait_for_selector("#username")
    finally:
        close_tab(other)


@pytest.mark.parametrize("answer", ["same refresh token", "no refresh token"])
def test_two_tabs_stay_signed_in_through_several_lifetimes_without_rotation(
        page, site, provider, proxy, browser_context, lifetimes, answer):
    """A provider that does not rotate answers a refresh with the same refresh token (this
    one), or with none at all (RFC 6749 6 allows both): the tabs keep the one they have."""
    ttl = 6
    lifetimes(ttl, rotate_refresh_tokens=False)
    if answer == "no refresh token":
        proxy.install(faults.refresh_answers_without_refresh_token())
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    other = browser_context.new_page()
    try:
        open_app(other, site.renewing_url, state="authenticated")
        for tab in (page, other):
            tab.evaluate(WATCH_STATES)
        provider.reset_log()
        first = session_record(page)
        deadline = first["expires_at"] + 3 * ttl
        while time.time() < deadline:
            page.wait_for_timeout(500)
        renewals = provider.refresh_calls()
        assert len(renewals) >= 3
        assert {call["outcome"] for call in renewals} == {"ok"}
        assert len({call["refresh_token_sha256_prefix"] for call in renewals}) == 1
        for tab in (page, other):
            assert set(tab.evaluate("window.__states")) <= {"authenticated"}
            assert tab.evaluate("document.body.dataset.session") == "authenticated"
        assert session_record(page) == session_record(other)
        assert session_record(page)["expires_at"] > first["expires_at"] + 2 * ttl
    finally:
        close_tab(other)


def test_a_key_outage_during_renewal_keeps_the_session_and_renews_once_keys_are_back(
        page, site, provider, proxy, lifetimes):
    ttl = 12
    lifetimes(ttl)
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    outage = Fault("/jwks", answer=Answer.text(503, "down"))
    with proxy.injected(outage):
        page.reload()  # a new page: the keys must be read again
        wait_for_state(page, "authenticated")
        page.evaluate(WATCH_STATES)
        provider.reset_log()
        first = session_record(page)
        renew_at = first["expires_at"] - ttl / 3
        while time.time() < renew_at + 1.5:  # renewal came due during the outage
            page.wait_for_timeout(250)
        assert provider.refresh_calls() == []  # no refresh token spent while keys are missing
        assert proxy.passed("/jwks")  # the page did try them
        assert page.evaluate("document.body.dataset.session") == "authenticated"
    deadline = first["expires_at"]
    while not provider.refresh_calls() and time.time() < deadline:
        page.wait_for_timeout(200)
    page.wait_for_timeout(500)
    assert [call["outcome"] for call in provider.refresh_calls()] == ["ok"]
    assert session_record(page)["expires_at"] > first["expires_at"]
    assert set(page.evaluate("window.__states")) <= {"authenticated"}


def test_a_renewal_lock_held_forever_elsewhere_does_not_stop_the_page(
        page, site, provider, browser_context, lifetimes):
    """Every lock request has a timeout: a tab that never lets go of the renewal lock
    (hung, or hostile) cannot keep another tab's page from reaching its expiry."""
    ttl = 8
    lifetimes(ttl)
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    holder = browser_context.new_page()
    holder.goto(site.renewing_url + "avatar-placeholder.svg")  # same origin, no app
    holder.evaluate("""(name) => {
        navigator.locks.request(name, () => new Promise(() => {}));
    }""", APP_PREFIX + "renew")
    provider.reset_log()
    # The page keeps ticking: at expiry it says so, though renewal never got the lock.
    wait_for_state(page, "anonymous", timeout=(ttl + 8) * 1000)
    assert "expired" in page.text_content("#auth-error")
    assert provider.refresh_calls() == []
    assert not has_session(stored_items(page))
