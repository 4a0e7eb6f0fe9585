"""The working app end to end: real Chromium, the real provider process, the built site
served from a sub-path. Each test starts logged out (see the `page` fixture)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from helpers import (
    alert_text,
    close_tab,
    log_in,
    open_app,
    session_record,
    sign_in_at_provider,
    stored_items,
    wait_for_state,
)

pytestmark = pytest.mark.e2e

CAROL = {
    "name": "Carol Example",
    "nickname": "carol",
    "email": "carol@example.test",
    "email_verified": True,
    "locale": "en-GB",
}


def session_keys(page) -> list[str]:
    return [key for key in stored_items(page) if key.startswith("oidc_spa:")]


def test_first_visit_shows_the_logged_out_page(page, site):
    open_app(page, site.url)
    assert page.locator(".btn-login").is_visible()
    assert page.locator("#login-message").is_visible()
    for hidden in (".btn-logout", "#logged-in-message", ".profile-area", "#checking-message"):
        assert not page.locator(hidden).is_visible(), hidden
    assert alert_text(page) == ""


def test_while_python_starts_the_page_says_checking_and_shows_no_button(page, site):
    # The first lane paints within milliseconds: its script is held back here (and let
    # go below) so that the moment before Python decides can be looked at.
    held = []
    page.route("**/first_lane.json", lambda route: held.append(route))
    page.goto(site.url, wait_until="domcontentloaded")
    assert page.evaluate("document.body.dataset.session") == "checking"
    assert page.locator("#checking-message").is_visible()
    assert not page.locator(".btn-login").is_visible()
    assert not page.locator(".btn-logout").is_visible()
    page.wait_for_timeout(200)
    assert page.evaluate("document.body.dataset.session") == "checking"
    for route in held:
        route.continue_()
    page.unroute("**/first_lane.json")
    wait_for_state(page, "anonymous")
    assert not page.locator("#checking-message").is_visible()


def test_login_shows_the_profile_the_provider_holds(page, site, provider):
    password = provider.add_user("carol", CAROL)
    open_app(page, site.url)
    log_in(page, "carol", password)
    assert page.locator("#logged-in-message").is_visible()
    assert page.locator(".btn-logout").is_visible()
    assert not page.locator(".btn-login").is_visible()
    assert page.text_content(".nickname") == "carol"
    assert page.text_content(".email") == "carol@example.test"
    # The provider's released claims, as userinfo sent them.
    profile = json.loads(page.text_content(".full-profile"))
    assert profile == {"sub": "carol", **CAROL}
    assert urlsplit(page.url).query == ""  # code, state and iss are gone from the address bar


def test_avatar_comes_from_the_profile_picture(page, site, provider):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    picture = json.loads(page.text_content(".full-profile"))["picture"]
    assert page.get_attribute(".avatar", "src") == picture
    assert page.evaluate("document.querySelector('.avatar').naturalWidth") > 0


def test_after_login_the_user_is_back_where_they_started(page, site):
    start = site.url + "?tab=settings#advanced"
    open_app(page, start)
    log_in(page, "alice", "alice-demo")
    assert page.url == start


def test_reload_keeps_the_session_without_asking_the_provider(page, site, provider):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    to_provider = []

    def note_api_call(request) -> None:  # the avatar image may come from the provider's host
        if request.url.startswith(provider.issuer) and request.resource_type != "image":
            to_provider.append(request.url)

    page.on("request", note_api_call)
    page.reload()
    wait_for_state(page, "authenticated")
    assert page.text_content(".nickname") == "ali"
    assert to_provider == []


def test_expired_id_token_gives_the_logged_out_page_and_is_removed(page, site, provider):
    provider.settings(id_token_ttl=3)
    try:
        open_app(page, site.url)
        log_in(page, "alice", "alice-demo")
    finally:
        provider.settings(id_token_ttl=3600)
    expires_at = session_record(page)["expires_at"]
    time.sleep(max(0.0, expires_at - time.time() + 0.5))
    page.reload()
    wait_for_state(page, "anonymous")
    assert session_keys(page) == []
    assert not page.locator(".profile-area").is_visible()


def test_logout_clears_storage_and_ends_the_provider_session(page, site, provider):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    with page.expect_navigation():  # to the provider's end_session, then back
        page.click(".btn-logout")
    page.wait_for_url(site.url)
    wait_for_state(page, "anonymous")
    assert session_keys(page) == []
    # Logging in again must ask for credentials: the provider's session is over too.
    page.click(".btn-login")
    page.wait_for_selector("#password")
    assert page.url.startswith(provider.issuer)


def test_without_logout_the_provider_session_signs_in_straight_away(page, site):
    """The counterpart of the test above: the provider does keep a session otherwise."""
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    page.evaluate("localStorage.clear()")
    page.reload()
    wait_for_state(page, "anonymous")
    page.click(".btn-login")
    wait_for_state(page, "authenticated")


def test_wrong_code_verifier_is_refused_and_nothing_is_stored(
    page, site, provider, browser_context
):
    open_app(page, site.url)
    page.click(".btn-login")
    page.wait_for_selector("#username")
    # While the user is at the provider, another tab of the app tampers with the
    # stored login: the verifier sent at the exchange no longer fits the challenge.
    other = browser_context.new_page()
    open_app(other, site.url)
    other.evaluate("""() => {
        const key = Object.keys(localStorage).find(k => k.endsWith(':pending_logins'));
        const pending = JSON.parse(localStorage.getItem(key));
        for (const login of Object.values(pending)) login.code_verifier = 'x'.repeat(43);
        localStorage.setItem(key, JSON.stringify(pending));
    }""")
    close_tab(other)
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "anonymous")
    assert "invalid_grant" in alert_text(page)
    assert session_keys(page) == []
    assert provider.log()["token_calls"][-1]["outcome"] == "invalid_grant"


def test_cancel_at_the_provider_shows_a_message_and_the_logged_out_page(page, site):
    open_app(page, site.url)
    page.click(".btn-login")
    page.click("button[value='cancel']")
    wait_for_state(page, "anonymous")
    assert "cancelled" in alert_text(page)
    assert urlsplit(page.url).query == ""


def test_replayed_callback_url_is_refused_and_keeps_the_session(page, site):
    open_app(page, site.url)
    callbacks = []
    page.on("framenavigated", lambda f: "code=" in f.url and callbacks.append(f.url))
    log_in(page, "alice", "alice-demo")
    page.goto(callbacks[0])
    wait_for_state(page, "authenticated")
    assert "already used" in alert_text(page)
    assert urlsplit(page.url).query == ""


def test_missing_settings_file_gets_a_clear_message(page, site):
    # Fault injection: the host answers 404 for auth_config.json.
    page.route("**/auth_config.json", lambda route: route.fulfill(status=404, body="not found"))
    open_app(page, site.url)
    assert "auth_config.json" in alert_text(page)
    assert page.locator(".btn-login").is_disabled()


def test_profile_markup_is_shown_as_text(page, site, provider):
    hostile = '<img src=x onerror="document.title=\'pwned\'">'
    password = provider.add_user("mallory", {"nickname": hostile, "email": "m@example.test",
                                             "picture": "javascript:alert(1)"})
    open_app(page, site.url)
    log_in(page, "mallory", password)
    assert page.text_content(".nickname") == hostile
    assert page.locator(".nickname img").count() == 0
    assert page.title() != "pwned"
    assert page.get_attribute(".avatar", "src") == "./avatar-placeholder.svg"


def test_nothing_is_loaded_from_outside_the_site_and_the_provider(page, site, provider):
    origins = set()
    page.on("request", lambda r: origins.add("{0.scheme}://{0.netloc}".format(urlsplit(r.url))))
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    assert origins <= {site.origin, provider.issuer}
