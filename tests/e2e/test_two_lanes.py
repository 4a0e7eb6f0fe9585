"""The two lanes (docs/two-lanes.md): MicroPython paints and handles Log in and Log out,
Pyodide starts only when needed, and the switch loses no click and shows no wrong state."""

from __future__ import annotations

import json
import time

import pytest
from app import page_text
from helpers import (
    APP_PREFIX,
    WATCH_STATES,
    alert_text,
    close_tab,
    has_session,
    log_in,
    open_app,
    session_record,
    stored_items,
    wait_for_lane,
    wait_for_state,
)

pytestmark = pytest.mark.e2e


def pyodide_requests(requests: list[str]) -> list[str]:
    return [url for url in requests if "/vendor/pyodide/" in url]


def full_lane_reason(page) -> str | None:
    return page.evaluate("document.body.getAttribute('data-full-lane')")


def test_a_signed_out_visitor_who_never_clicks_downloads_no_pyodide(page, site):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_app(page, site.on_demand_url, lane="first")
    page.wait_for_timeout(3000)  # longer than the idle policy would wait
    assert full_lane_reason(page) is None
    assert pyodide_requests(requests) == []
    assert any(url.endswith("/vendor/micropython/micropython.wasm") for url in requests)


def test_the_idle_policy_starts_pyodide_after_the_first_paint(page, site):
    page.goto(site.url)
    wait_for_state(page, "anonymous")
    wait_for_lane(page, "full")
    assert full_lane_reason(page) == "idle"


def test_the_first_lane_logs_in_and_out_without_pyodide(page, site, provider):
    open_app(page, site.on_demand_url, lane="first")
    log_in(page, "alice", "alice-demo")  # the click is the first lane's
    assert full_lane_reason(page) == "callback"  # only the full lane reads the answer
    wait_for_lane(page, "full")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.reload()
    wait_for_state(page, "authenticated")
    wait_for_lane(page, "first")
    assert page.text_content(".nickname") == "ali"
    assert page.text_content(".session-expiry").startswith("Session renews automatically")
    kept = session_record(page)
    with page.expect_navigation():
        page.click(".btn-logout")  # the first lane's: gone here, then the provider's end
    page.wait_for_url(site.on_demand_url)
    wait_for_state(page, "anonymous")
    assert not has_session(stored_items(page))
    assert [url for url in requests if url.startswith(provider.issuer + "/end_session?")]
    assert pyodide_requests(requests) == []
    # The refresh token was revoked on the way out (RFC 7009), by the first lane.
    deadline = time.monotonic() + 10
    while not provider.revocations() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert provider.revocations(), "no revocation reached the provider"
    assert kept["refresh_token"]
    # The provider's session is over too: a new login asks for the password.
    page.click(".btn-login")
    page.wait_for_selector("#password")


def test_a_renewal_coming_due_with_only_the_first_lane_starts_the_full_lane(page, site,
                                                                            provider):
    open_app(page, site.on_demand_url, lane="first")
    log_in(page, "alice", "alice-demo")
    wait_for_lane(page, "full")
    before = session_record(page)
    # The access token's end moved near in the stored record: renewal comes due in 3 s.
    soon = time.time() + 3 + 1
    page.evaluate("""([key, soon]) => {
        const record = JSON.parse(localStorage.getItem(key));
        record.access_token_expires_at = soon;
        record.issued_at = soon - 3600;
        localStorage.setItem(key, JSON.stringify(record));
    }""", [f"{APP_PREFIX}session:{before['session_id']}", soon])
    page.reload()
    wait_for_state(page, "authenticated")
    wait_for_lane(page, "first")
    wait_for_lane(page, "full")
    assert full_lane_reason(page) == "renewal"
    deadline = time.monotonic() + 20
    while session_record(page)["generation"] == before["generation"]:
        assert time.monotonic() < deadline, "the full lane did not renew"
        page.wait_for_timeout(250)
    assert provider.refresh_calls()
    assert page.evaluate("document.body.dataset.session") == "authenticated"


def test_a_click_while_pyodide_loads_is_queued_and_done(page, site):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    held = []
    page.route("**/pyodide-fast.mjs", lambda route: held.append(route))
    page.reload()
    wait_for_state(page, "authenticated")
    wait_for_lane(page, "first")
    page.click(".btn-call-api")  # only the full lane sends tokens: it waits for it
    page.wait_for_selector("body[data-queued='call-api']", state="attached")
    assert page.text_content(".api-result") == "Calling…"
    page.wait_for_timeout(300)
    for route in held:
        route.continue_()
    page.unroute("**/pyodide-fast.mjs")
    page.wait_for_selector(".api-result:text-matches('^HTTP 200')", timeout=30_000)
    assert json.loads(page.text_content(".api-result").split("\n", 1)[1])["sub"] == "alice"
    assert page.evaluate("document.body.getAttribute('data-queued')") is None


def test_the_switch_shows_no_wrong_state_and_repaints_nothing(page, site):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    page.add_init_script("""
        window.__profileWrites = 0;
        document.addEventListener('DOMContentLoaded', () => {
            new MutationObserver(records => { window.__profileWrites += records.length; })
                .observe(document.querySelector('.profile-area'),
                         {subtree: true, childList: true, characterData: true,
                          attributes: true, attributeFilter: ['src']});
        });
    """)
    page.add_init_script(f"document.addEventListener('DOMContentLoaded', {WATCH_STATES})")
    held = []  # Pyodide held back until the first lane's paint has been looked at
    page.route("**/pyodide-fast.mjs", lambda route: held.append(route))
    page.reload()
    wait_for_state(page, "authenticated")
    wait_for_lane(page, "first")
    painted = page.evaluate("window.__profileWrites")
    for route in held:
        route.continue_()
    page.unroute("**/pyodide-fast.mjs")
    wait_for_lane(page, "full")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__states") == ["authenticated"]
    # The full lane found the same profile on screen and wrote nothing (the expiry
    # countdown lives outside the profile's texts and may tick).
    writes_after = page.evaluate("window.__profileWrites")
    countdown = page.evaluate("document.querySelector('.session-expiry') !== null")
    assert countdown and writes_after - painted <= 1  # at most the countdown's text


def test_a_first_lane_that_cannot_start_leaves_the_page_to_the_full_lane(page, site):
    """MicroPython's WebAssembly not there (a failed download): the boot module starts the
    full lane, which decides and handles Log in; the page never stays on "checking"."""
    page.route("**/vendor/micropython/micropython.wasm", lambda route: route.fulfill(status=503))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_app(page, site.on_demand_url)  # on-demand: only the failure can start Pyodide
    assert full_lane_reason(page) == "no-first-lane"
    wait_for_state(page, "anonymous")
    assert pyodide_requests(requests)
    log_in(page, "alice", "alice-demo")
    assert page.text_content(".nickname") == "ali"


def test_the_first_lane_needs_no_pyscript(page, site):
    """PyScript loads with the full lane: a signed-out visitor on on-demand fetches none of
    it, and no config file (the configs are in the page)."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_app(page, site.on_demand_url, lane="first")
    page.wait_for_timeout(1000)
    assert not [url for url in requests if "/vendor/pyscript/" in url]
    assert not [url for url in requests if url.endswith(".toml")]


# Another tab's end of the login, as the full lane writes it when the provider refuses a
# renewal (oidc_spa.portable.record.end_login with "ended"): the reason, then the login gone.
END_BY_PROVIDER = """([prefix, sessionId]) => {
    localStorage.setItem(prefix + 'ended',
        JSON.stringify({session_id: sessionId, reason: 'ended', at: Date.now() / 1000}));
    localStorage.removeItem(prefix + 'current');
    localStorage.removeItem(prefix + 'session:' + sessionId);
}"""


@pytest.mark.parametrize("how", ["logout", "provider"])
def test_the_first_lane_says_why_another_tab_ended_the_login(page, site, browser_context,
                                                             how):
    # A signed-in tab on the on-demand build: MicroPython alone runs it (nothing due).
    open_app(page, site.on_demand_url, lane="first")
    log_in(page, "alice", "alice-demo")
    wait_for_lane(page, "full")  # the login's answer took the full lane, in this tab
    other = browser_context.new_page()
    open_app(other, site.on_demand_url, state="authenticated", lane="first")
    if how == "logout":
        with page.expect_navigation():  # to the provider's end-session page
            page.click(".btn-logout")
        expected = page_text.CHANGE_MESSAGES["signed_out"]
    else:
        page.evaluate(END_BY_PROVIDER, [APP_PREFIX, session_record(page)["session_id"]])
        expected = page_text.CHANGE_MESSAGES["ended"]
    wait_for_state(other, "anonymous", timeout=5000)
    assert alert_text(other) == expected
    assert other.evaluate("document.body.dataset.lane") == "first"  # no Pyodide for it
    close_tab(other)


# This app's login moved from localStorage to sessionStorage, as the full lane keeps it
# when localStorage refuses it (oidc_spa.store.FallbackStorage).
MOVE_TO_SESSION_STORAGE = """(prefix) => {
    for (const key of Object.keys(localStorage).filter((key) => key.startsWith(prefix))) {
        sessionStorage.setItem(key, localStorage.getItem(key));
        localStorage.removeItem(key);
    }
}"""


def test_a_login_kept_in_session_storage_is_left_to_the_full_lane(page, site):
    """localStorage says signed out, sessionStorage holds the login: only the full lane
    reads both, so the first lane paints nothing and hands over."""
    open_app(page, site.on_demand_url, lane="first")
    log_in(page, "alice", "alice-demo")
    wait_for_lane(page, "full")
    page.evaluate(MOVE_TO_SESSION_STORAGE, APP_PREFIX)
    page.add_init_script(f"document.addEventListener('DOMContentLoaded', {WATCH_STATES})")
    page.reload()
    wait_for_state(page, "authenticated")
    assert full_lane_reason(page) == "storage"
    assert page.evaluate("window.__states") == ["authenticated"]  # never signed out
    assert page.text_content(".nickname") == "ali"


def test_a_live_login_in_local_storage_is_the_first_lanes_whatever_session_storage_holds(
        page, site):
    """The full lane reads localStorage first: a live login there is its decision too, so
    the first lane paints it without looking at sessionStorage."""
    open_app(page, site.on_demand_url, lane="first")
    log_in(page, "alice", "alice-demo")
    wait_for_lane(page, "full")
    page.evaluate("(key) => sessionStorage.setItem(key, '{}')", APP_PREFIX + "ended")
    page.reload()
    wait_for_state(page, "authenticated")
    wait_for_lane(page, "first")
    assert full_lane_reason(page) is None  # on-demand: nothing called the full lane
    assert page.text_content(".nickname") == "ali"
