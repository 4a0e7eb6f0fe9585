"""Popup login (oidc_spa.browser.log_in_with_popup, issue #12 part 2): the provider's
sign-in in a popup that returns to public/popup_callback.html, which hands the URL back;
the page checks it, exchanges the code and shows the profile without a reload. A message
from any other window or origin is ignored; a blocked or closed popup says so and stores
nothing."""

from __future__ import annotations

import json

import pytest
from helpers import (
    APP_PREFIX,
    alert_text,
    has_session,
    open_app,
    session_record,
    sign_in_at_provider,
    stored_items,
    wait_for_lane,
    wait_for_state,
)

from oidc_spa.messages import MESSAGES

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


def test_a_popup_closed_by_the_user_says_so_and_stores_nothing(page, site):
    open_app(page, site.url)
    popup = open_login_popup(page)
    assert pending_states(page)
    popup.close()
    page.wait_for_selector("#auth-error:not([hidden])")
    assert alert_text(page) == MESSAGES["popup.closed"]
    assert page.evaluate("document.body.dataset.session") == "anonymous"
    items = stored_items(page)
    assert PENDING_KEY not in items and not has_session(items)
    assert page.locator(".btn-login-popup").is_enabled()


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
    items = stored_items(page)
    assert PENDING_KEY not in items and not has_session(items)
    assert page.url == url
