"""Popup login (oidc_spa.browser.log_in_with_popup, issue #12 part 2): the provider's
sign-in in a popup that returns to public/popup_callback.html, which hands the URL back;
the page checks it, exchanges the code and shows the profile without a reload. A message
from any other window or origin is ignored; a blocked popup, or one left open past the
timeout, says so and stores nothing. A Cross-Origin-Opener-Policy of `same-origin` on the
provider's sign-in page or on the app's pages cuts the popup off (the page sees it closed,
the callback page has no opener): the page says so, waits on, and takes the answer from the
app's BroadcastChannel. A new login ends such a wait; its late answer logs nobody in.
Two single-tab races, with the timing forced: Log in clicked while the popup's login is
still building its authorization URL (discovery answers late), and the popup's answer
arriving in the same task as a Log in click; either way the popup's login ends in silence
and only the newer one goes on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import faults
import pytest
from helpers import (
    APP_PREFIX,
    alert_text,
    close_tab,
    has_session,
    open_app,
    session_record,
    sign_in_at_provider,
    stored_items,
    wait_for_lane,
    wait_for_state,
)

from oidc_spa.messages import MESSAGES
from oidc_spa.popup import POPUP_CALLBACK_PAGE, POPUP_TIMEOUT_SECONDS, channel_name

pytestmark = pytest.mark.e2e

PENDING_KEY = APP_PREFIX + "pending_logins"


def main_frame_navigations(page) -> list[str]:
    """The URLs the tab's own page goes to from now on (a popup login makes none)."""
    urls: list[str] = []
    page.on("framenavigated",
            lambda frame: urls.append(frame.url) if frame == page.main_frame else None)
    return urls


def open_login_popup(page):
    """Click "Log in in a popup"; the popup, once it shows the provider's sign-in form."""
    with page.expect_popup() as opened:
        page.click(".btn-login-popup")
    popup = opened.value
    popup.wait_for_selector("#username")
    return popup


def pending_states(page) -> list[str]:
    return list(json.loads(stored_items(page).get(PENDING_KEY, "{}")))


def authorization_redirect_uris(provider) -> list[str]:
    return [entry["query"].get("redirect_uri") for entry in provider.log()["authorizations"]]


def assert_nothing_stored(page) -> None:
    """No session and no pending login that a later answer could complete."""
    items = stored_items(page)
    assert PENDING_KEY not in items and not has_session(items)


# Every answer that reaches the page from now on, by way of arrival: ["message", url] from
# a window (postMessage) or ["channel", url] on the app's BroadcastChannel.
RECORD_ANSWERS = """channel => {
    window.__answers = [];
    const note = way => event => window.__answers.push([way, String(event.data)]);
    window.addEventListener('message', note('message'));
    new BroadcastChannel(channel).addEventListener('message', note('channel'));
}"""


def record_answers(page, site) -> None:
    page.evaluate(RECORD_ANSWERS, channel_name(site.url))


def recorded_answers(page, within: float = 5.0) -> list[tuple[str, str]]:
    """The answers recorded, once there is one (or `within` seconds passed): polled, as
    the page's policy blocks wait_for_function."""
    deadline = time.monotonic() + within
    while True:
        answers = [tuple(a) for a in page.evaluate("window.__answers")]
        if answers or time.monotonic() > deadline:
            return answers
        page.wait_for_timeout(100)


def wait_for_alert(page, text: str, within: float = 10.0) -> None:
    """Until #auth-error shows `text`: polled, as the page's policy blocks
    wait_for_function."""
    deadline = time.monotonic() + within
    while alert_text(page) != text:
        assert time.monotonic() < deadline, alert_text(page)
        page.wait_for_timeout(100)


# Every text #auth-error shows from now on ("" when hidden).
RECORD_ALERTS = """() => {
    window.__alerts = [];
    const alert = document.querySelector('#auth-error');
    new MutationObserver(() => window.__alerts.push(alert.hidden ? '' : alert.textContent))
        .observe(alert, {attributes: true, childList: true, characterData: true});
}"""


def record_alerts(page) -> None:
    page.evaluate(RECORD_ALERTS)


def alerts_shown(page) -> set[str]:
    return set(page.evaluate("window.__alerts")) - {""}


def assert_both_buttons_usable(page) -> None:
    assert page.locator(".btn-login-popup").is_enabled()
    assert page.locator(".btn-login").is_enabled()


def callback_state(url: str) -> str | None:
    """The state of an authorization response sent to the popup's callback page."""
    parts = urlsplit(url)
    assert parts.path.endswith("/" + POPUP_CALLBACK_PAGE) and "code=" in parts.query
    return dict(parse_qsl(parts.query)).get("state")


@pytest.mark.parametrize("lane", ["full", "first"])
def test_popup_login_shows_the_profile_without_a_reload(page, site, provider, lane):
    # "first": the on-demand build, where MicroPython opens the popup at the click and
    # Pyodide starts to take it over and finish the login.
    url = site.url if lane == "full" else site.on_demand_url
    open_app(page, url, lane=lane)
    provider.reset_log()
    navigations = main_frame_navigations(page)
    popup = open_login_popup(page)
    if lane == "first":
        assert page.evaluate("document.body.getAttribute('data-full-lane')") == "login-popup"
    with popup.expect_event("close"):
        sign_in_at_provider(popup, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    wait_for_lane(page, "full")
    assert page.text_content(".nickname") == "ali"
    assert navigations == [] and page.url == url  # the page never reloaded
    assert session_record(page)["id_token"]
    assert PENDING_KEY not in stored_items(page)
    assert authorization_redirect_uris(provider) == [url + "popup_callback.html"]
    assert [c["outcome"] for c in provider.log()["token_calls"]] == ["ok"]
    assert alert_text(page) == ""


def test_a_message_from_another_window_or_origin_is_ignored(page, site, provider):
    open_app(page, site.url)
    provider.reset_log()
    popup = open_login_popup(page)
    [state] = pending_states(page)
    forged = f"{site.url}popup_callback.html?code=forged-code&state={state}"
    # The page's own window (same origin, not the popup).
    page.evaluate("url => window.postMessage(url, location.origin)", forged)
    # The real callback page in another window of the same origin: its opener is this
    # page, so it posts here, but from a window this login did not open.
    with page.expect_popup() as other:
        page.evaluate("url => { window.open(url, 'another-window'); }", forged)
    other.value.wait_for_event("close")
    # The popup itself, while it is at the provider: another origin.
    popup.evaluate("url => window.opener.postMessage(url, '*')", forged)
    page.wait_for_timeout(1500)
    assert page.evaluate("document.body.dataset.session") == "anonymous"
    assert provider.log()["token_calls"] == []  # no forged code was ever exchanged
    assert pending_states(page) == [state]  # the login still waits for its own answer
    with popup.expect_event("close"):
        sign_in_at_provider(popup, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    assert [c["outcome"] for c in provider.log()["token_calls"]] == ["ok"]




@pytest.mark.parametrize("lane", ["full", "first"])
def test_a_blocked_popup_says_so_and_stores_nothing(page, site, lane):
    # Fault injection: the browser's popup blocker, as window.open answers it (null).
    page.add_init_script("window.open = function () { return null; };")
    url = site.url if lane == "full" else site.on_demand_url
    open_app(page, url, lane=lane)
    page.click(".btn-login-popup")
    page.wait_for_selector("#auth-error:not([hidden])")
    assert alert_text(page) == MESSAGES["popup.blocked"]
    assert page.evaluate("document.body.dataset.session") == "anonymous"
    assert_nothing_stored(page)
    assert page.url == url


# performance.now() a given number of seconds ahead, on demand. Pyodide's time.monotonic(),
# so asyncio's loop.time() the popup's deadline is measured by, reads it: the timeout passes
# without waiting for it. Date.now() stays true, and with it every token time.
SKIP_AHEAD = """(() => {
    const now = performance.now.bind(performance);
    let ahead = 0;
    performance.now = () => now() + ahead;
    window.__skipAhead = seconds => { ahead += seconds * 1000; };
})();"""


def test_a_popup_left_open_times_out_and_its_late_answer_logs_nobody_in(page, site, provider):
    page.add_init_script(SKIP_AHEAD)
    open_app(page, site.url)
    provider.reset_log()
    with page.context.expect_event(
            "request", lambda r: urlsplit(r.url).path == "/authorize") as authorization:
        popup = open_login_popup(page)
    [state] = pending_states(page)
    page.evaluate("seconds => window.__skipAhead(seconds)", POPUP_TIMEOUT_SECONDS + 1)
    page.wait_for_selector("#auth-error:not([hidden])")
    seconds = f"{POPUP_TIMEOUT_SECONDS:g}"
    assert alert_text(page) == MESSAGES["popup.timeout"].format(seconds=seconds)
    if not popup.is_closed():
        popup.wait_for_event("close")  # the page closed it
    assert page.evaluate("document.body.dataset.session") == "anonymous"
    assert_nothing_stored(page)
    assert page.locator(".btn-login-popup").is_enabled()
    # The user finishes that very sign-in afterwards, in a window without an opener: its
    # callback page sends the answer on the app's channel, the way that checks no window
    # (a popup cut off by a Cross-Origin-Opener-Policy answers so).
    record_answers(page, site)
    with page.context.expect_page() as late:
        page.evaluate("url => { window.open(url, '_blank', 'noopener'); }",
                      authorization.value.url)
    with late.value.expect_event("close"):
        sign_in_at_provider(late.value, "alice", "alice-demo")
    [(way, url)] = recorded_answers(page)
    assert way == "channel" and callback_state(url) == state  # the timed-out login's answer
    page.wait_for_timeout(1000)
    assert page.evaluate("document.body.dataset.session") == "anonymous"
    assert provider.log()["token_calls"] == []  # its code was never exchanged
    assert_nothing_stored(page)


def assert_cut_off_then_login_completes(page, site, provider) -> None:
    """What a popup in another browsing context group (COOP) does: the page sees it closed
    as soon as it reaches the provider, while its sign-in form is still open. The page says
    it no longer hears from the window and keeps the login; the user signs in there, the
    callback page (no opener) sends the answer on the app's channel, and the login
    completes: code exchanged, profile shown, no reload, the notice gone."""
    provider.reset_log()
    record_answers(page, site)
    record_alerts(page)
    navigations = main_frame_navigations(page)
    popup = open_login_popup(page)
    [state] = pending_states(page)
    wait_for_alert(page, MESSAGES["popup.cut_off"])
    assert not popup.is_closed() and popup.evaluate("window.opener === null")
    assert pending_states(page) == [state] and not has_session(stored_items(page))
    assert_both_buttons_usable(page)
    with popup.expect_event("close"):  # the callback page still closes itself
        sign_in_at_provider(popup, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    [(way, url)] = recorded_answers(page)
    assert way == "channel" and callback_state(url) == state
    assert page.text_content(".nickname") == "ali"
    assert [c["outcome"] for c in provider.log()["token_calls"]] == ["ok"]
    assert session_record(page)["id_token"] and PENDING_KEY not in stored_items(page)
    assert navigations == [] and alert_text(page) == ""
    assert alerts_shown(page) == {MESSAGES["popup.cut_off"]}  # and never popup.closed


def test_coop_same_origin_on_the_providers_sign_in_page_cuts_the_popup_off(
        page, site, provider, proxy):
    proxy.install(faults.opener_policy("same-origin"))
    open_app(page, site.url)
    assert_cut_off_then_login_completes(page, site, provider)


@pytest.fixture
def app_opener_policy(browser_context, site) -> Iterator[Callable[[str], None]]:
    """Serve the app's pages (index.html, popup_callback.html) with a given
    Cross-Origin-Opener-Policy, as a host that sets it site-wide would; the static server
    itself sends none. Playwright fulfils those documents, which then have no network
    address: Chromium's Local Network Access counts them public and would block their
    calls to the loopback provider, so the site's origin is granted that access."""
    pages = {site.url, site.url + "index.html", site.url + POPUP_CALLBACK_PAGE}

    def is_page(url: str) -> bool:
        return url.partition("?")[0] in pages

    def serve(policy: str) -> None:
        def with_policy(route: Any) -> None:
            response = route.fetch()
            route.fulfill(response=response, headers={
                **response.headers, "cross-origin-opener-policy": policy})

        browser_context.grant_permissions(["local-network-access"], origin=site.origin)
        browser_context.route(is_page, with_policy)

    yield serve
    browser_context.unroute(is_page)
    browser_context.clear_permissions()


def test_coop_same_origin_on_the_apps_pages_cuts_the_popup_off(
        page, site, provider, app_opener_policy):
    app_opener_policy("same-origin")
    open_app(page, site.url)
    assert_cut_off_then_login_completes(page, site, provider)


def test_coop_same_origin_allow_popups_on_the_apps_pages_keeps_the_popup_login(
        page, site, provider, app_opener_policy):
    app_opener_policy("same-origin-allow-popups")
    open_app(page, site.url)
    provider.reset_log()
    record_answers(page, site)
    popup = open_login_popup(page)
    with popup.expect_event("close"):
        sign_in_at_provider(popup, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    [(way, _url)] = recorded_answers(page)
    assert way == "message"  # the popup kept its opener
    assert [c["outcome"] for c in provider.log()["token_calls"]] == ["ok"]
    assert alert_text(page) == ""


def test_a_popup_closed_by_the_user_says_what_to_do_and_stores_nothing(page, site, provider):
    # A popup the user closed looks to the page just as a cut-off one does (closed), so it
    # gets the same notice, whose words fit both; the login waits on until the deadline.
    page.add_init_script(SKIP_AHEAD)
    open_app(page, site.url)
    provider.reset_log()
    popup = open_login_popup(page)
    [state] = pending_states(page)
    close_tab(popup)
    wait_for_alert(page, MESSAGES["popup.cut_off"])
    assert page.evaluate("document.body.dataset.session") == "anonymous"
    assert pending_states(page) == [state] and not has_session(stored_items(page))
    assert_both_buttons_usable(page)
    page.evaluate("seconds => window.__skipAhead(seconds)", POPUP_TIMEOUT_SECONDS + 1)
    seconds = f"{POPUP_TIMEOUT_SECONDS:g}"
    wait_for_alert(page, MESSAGES["popup.timeout"].format(seconds=seconds))
    assert page.evaluate("document.body.dataset.session") == "anonymous"
    assert_nothing_stored(page)
    assert provider.log()["token_calls"] == []
    # A new login works.
    again = open_login_popup(page)
    with again.expect_event("close"):
        sign_in_at_provider(again, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    assert [c["outcome"] for c in provider.log()["token_calls"]] == ["ok"]
    assert alert_text(page) == ""


@pytest.mark.parametrize("button", ["popup", "redirect"])
def test_a_new_login_ends_a_cut_off_popups_wait_and_its_late_answer_is_ignored(
        page, site, provider, proxy, button):
    proxy.install(faults.opener_policy("same-origin"))
    open_app(page, site.url)
    provider.reset_log()
    record_answers(page, site)
    old_popup = open_login_popup(page)
    [old_state] = pending_states(page)
    wait_for_alert(page, MESSAGES["popup.cut_off"])
    if button == "redirect":
        page.click(".btn-login")
        page.wait_for_selector("#username")  # the page itself is at the provider now
        sign_in_at_provider(page, "bob", "bob-demo")
        wait_for_state(page, "authenticated")
        assert PENDING_KEY not in stored_items(page)  # the popup's login was forgotten
        record_answers(page, site)  # the page loaded anew: listen again
    else:
        record_alerts(page)
        new_popup = open_login_popup(page)  # a new window: the old one is out of reach
        [new_state] = pending_states(page)  # the old login forgotten at the click
        assert new_state != old_state
        wait_for_alert(page, MESSAGES["popup.cut_off"])  # the new popup is cut off too
    # The user finishes the old sign-in after all: its answer reaches the page and is
    # ignored (the page listens no more, and no pending login matches it).
    with old_popup.expect_event("close"):
        sign_in_at_provider(old_popup, "alice", "alice-demo")
    [(way, url)] = recorded_answers(page)
    assert way == "channel" and callback_state(url) == old_state
    page.wait_for_timeout(1000)
    if button == "redirect":
        assert page.text_content(".nickname") == "bobby"
        assert [c["outcome"] for c in provider.log()["token_calls"]] == ["ok"]
        return
    assert page.evaluate("document.body.dataset.session") == "anonymous"
    assert provider.log()["token_calls"] == []  # the old code was never exchanged
    assert pending_states(page) == [new_state]
    # The new login still works, and only with its own answer.
    with new_popup.expect_event("close"):
        sign_in_at_provider(new_popup, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    assert callback_state(recorded_answers(page)[-1][1]) == new_state
    assert [c["outcome"] for c in provider.log()["token_calls"]] == ["ok"]
    assert PENDING_KEY not in stored_items(page) and alert_text(page) == ""
    assert alerts_shown(page) == {MESSAGES["popup.cut_off"]}  # the old login said nothing


def test_log_in_while_the_popups_login_is_still_being_built_leaves_only_the_redirect(
        page, site, provider, proxy):
    # Forced timing: discovery answers 1.5 s late, so the popup's login is still building
    # its authorization URL (Session.login_url awaits the endpoints) when Log in is clicked.
    open_app(page, site.url)
    provider.reset_log()
    proxy.install(faults.slow(faults.DISCOVERY, 1.5))
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    with page.expect_popup() as opened:
        page.click(".btn-login-popup")
    popup = opened.value
    assert popup.url == "about:blank" and pending_states(page) == []  # still being built
    with popup.expect_event("close"):  # the newer login ends the popup's at the click
        page.click(".btn-login")
    page.wait_for_selector("#username", timeout=15_000)  # the page itself at the provider
    # The popup's login was never sent anywhere, and nothing of it is left to complete.
    assert authorization_redirect_uris(provider) == [site.url]
    # It ended as superseded, which the page takes in silence: no error said, not even
    # the popup's "closed" that its window being shut would otherwise bring.
    assert not [text for text in console if text.startswith("popup.")], console
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    assert page.text_content(".nickname") == "ali"
    assert PENDING_KEY not in stored_items(page) and alert_text(page) == ""
    assert [c["outcome"] for c in provider.log()["token_calls"]] == ["ok"]


# Every window the page opens, the last one as window.__lastPopup (the popup's own
# WindowProxy, which a forged message must name as its source to be heard at all).
REMEMBER_POPUP = """(() => {
    const open = window.open;
    window.open = function (...args) {
        const opened = open.apply(this, args);
        window.__lastPopup = opened;
        return opened;
    };
})();"""

# The popup's answer and a Log in click in one task: the answer is in before the popup
# login's wait can take it, and the click's newer login comes right after.
ANSWER_THEN_LOG_IN = """url => {
    window.dispatchEvent(new MessageEvent('message',
        {data: url, origin: location.origin, source: window.__lastPopup}));
    document.querySelector('.btn-login').click();
}"""


def test_an_answer_that_comes_just_before_a_new_login_is_not_taken(page, site, provider):
    page.add_init_script(REMEMBER_POPUP)
    open_app(page, site.url)
    provider.reset_log()
    popup = open_login_popup(page)
    [state] = pending_states(page)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    answer = f"{site.url}{POPUP_CALLBACK_PAGE}?code=answered-too-late&state={state}"
    with popup.expect_event("close"):
        page.evaluate(ANSWER_THEN_LOG_IN, answer)
    page.wait_for_selector("#username")  # the newer login: the page itself at the provider
    assert provider.log()["token_calls"] == []  # the answer's code was never exchanged
    assert not [text for text in console if text.startswith(("popup.", "callback."))], console
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    assert [c["outcome"] for c in provider.log()["token_calls"]] == ["ok"]
    assert PENDING_KEY not in stored_items(page) and alert_text(page) == ""
