"""Popup login's pure rules (oidc_spa.popup) and the session's part in it: the popup's
redirect URI, which messages are the answer, and a login finished with that answer."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from async_runner import run
from inprocess_provider import (
    CLIENT_ID,
    ISSUER,
    PAGE_URL,
    FakeClock,
    InProcessProvider,
    PyJwtVerifier,
    has_session,
)

from oidc_spa import CallbackError, MemoryStorage, PopupError, Session, parse_settings
from oidc_spa.authorize import read_callback
from oidc_spa.popup import (
    POPUP_CLOSE_GRACE_SECONDS,
    POPUP_FEATURES,
    POPUP_NAME,
    POPUP_TIMEOUT_SECONDS,
    PopupWatch,
    channel_name,
    check_popup_redirect_uri,
    popup_answer,
    popup_redirect_uri,
    state_of,
)

ROOT = Path(__file__).resolve().parents[2]
POPUP_URI = PAGE_URL + "popup_callback.html"


@pytest.mark.parametrize(("redirect_uri", "expected"), [
    ("https://u.github.io/repo/", "https://u.github.io/repo/popup_callback.html"),
    ("https://u.github.io/repo/index.html", "https://u.github.io/repo/popup_callback.html"),
    ("https://app.test/a/b/page?x=1", "https://app.test/a/b/popup_callback.html"),
    ("http://127.0.0.1:8000/pyscript-login/knobs/",
     "http://127.0.0.1:8000/pyscript-login/knobs/popup_callback.html"),
])
def test_the_popup_returns_to_the_callback_page_beside_the_page(redirect_uri, expected):
    assert popup_redirect_uri(redirect_uri) == expected


def test_the_channel_is_named_for_the_app_folder_as_the_callback_script_names_it():
    assert channel_name(POPUP_URI) == "oidc_spa:popup:/repo/"
    script = (ROOT / "public" / "popup_callback.js").read_text()
    assert '"oidc_spa:popup:" + new URL(".", url).pathname' in script
    assert "postMessage(url, location.origin)" in script  # the exact origin, never "*"


@pytest.mark.parametrize("candidate", [
    "https://evil.test/repo/popup_callback.html",  # another origin
    "http://app.example.test/repo/popup_callback.html",  # another scheme
    "https://app.example.test/repo/popup_callback.html#x",
    "javascript:alert(1)",
])
def test_a_popup_redirect_uri_off_the_page_origin_is_refused(candidate):
    with pytest.raises(PopupError) as caught:
        check_popup_redirect_uri(candidate, PAGE_URL)
    assert caught.value.code == "popup.redirect_uri"


def test_state_of_takes_the_librarys_own_state():
    url = "https://op.test/authorize?state=theirs&client_id=c&state=ours"
    assert state_of(url) == "ours"


def test_only_this_logins_answer_at_the_popup_page_is_accepted():
    good = POPUP_URI + "?code=abc&state=s1&iss=x"
    assert popup_answer(good, POPUP_URI, "s1") == read_callback(good)
    assert popup_answer(POPUP_URI + "?error=access_denied&state=s1", POPUP_URI, "s1")
    for data in (POPUP_URI + "?code=abc&state=s2",  # another login's
                 PAGE_URL + "?code=abc&state=s1",  # not the popup's page
                 "https://evil.test/repo/popup_callback.html?code=abc&state=s1",
                 POPUP_URI + "?state=s1",  # no answer in it
                 POPUP_URI + "?code=a&code=b&state=s1",  # malformed
                 {"url": good}, None, 42, good + "&x=" + "a" * 20_000):
        assert popup_answer(data, POPUP_URI, "s1") is None, data


# -- what a look at the waiting popup's window means (PopupWatch) --------------------

DEADLINE = POPUP_TIMEOUT_SECONDS
GRACE = POPUP_CLOSE_GRACE_SECONDS


def looks(watch: PopupWatch, closed_at: float | None, times: list[float]) -> list[str | None]:
    """The outcome of a look at each time; the window reports closed from `closed_at` on."""
    return [watch.look(closed_at is not None and now >= closed_at, now) for now in times]


def test_an_open_popup_is_waited_for_until_the_deadline():
    watch = PopupWatch(DEADLINE, hears_channel=True)
    assert looks(watch, None, [0.0, 60.0, DEADLINE - 0.01, DEADLINE]) == [
        None, None, None, "popup.timeout"]


def test_a_closed_popup_is_cut_off_once_while_the_channel_listens_and_waited_for():
    # Closed may mean cut off by a Cross-Origin-Opener-Policy, the window still open: its
    # answer can still come on the channel, so the login waits on until the deadline.
    watch = PopupWatch(DEADLINE, hears_channel=True)
    times = [1.0, 1.0 + GRACE / 2, 1.0 + GRACE, 1.0 + GRACE + 0.25, 100.0, DEADLINE]
    assert looks(watch, 1.0, times) == [None, None, "popup.cut_off", None, None,
                                        "popup.timeout"]


def test_a_closed_popup_ends_the_login_when_no_channel_listens():
    watch = PopupWatch(DEADLINE, hears_channel=False)
    assert looks(watch, 5.0, [4.0, 5.0, 5.0 + GRACE - 0.01, 5.0 + GRACE]) == [
        None, None, None, "popup.closed"]


def test_a_popup_closed_just_before_the_deadline_times_out():
    watch = PopupWatch(DEADLINE, hears_channel=True)
    assert looks(watch, DEADLINE - 0.1, [DEADLINE - 0.1, DEADLINE]) == [None, "popup.timeout"]


def test_the_first_lane_opens_the_window_the_full_lane_takes_over():
    tree = ast.parse((ROOT / "py" / "app" / "first_lane.py").read_text())
    constants = {node.targets[0].id: node.value.value for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                 and isinstance(node.targets[0], ast.Name)}
    assert constants["POPUP_NAME"] == POPUP_NAME
    assert constants["POPUP_FEATURES"] == POPUP_FEATURES


def test_the_callback_page_has_a_strict_policy_and_no_inline_script():
    html = (ROOT / "public" / "popup_callback.html").read_text()
    assert "default-src 'none'; script-src 'self'" in html
    assert '<script src="./popup_callback.js"></script>' in html
    assert html.count("<script") == 1


# -- the session: a login whose answer comes to the popup's page ---------------------

@pytest.fixture
def session(provider: InProcessProvider, clock: FakeClock) -> Session:
    settings = parse_settings(json.dumps({"issuer": ISSUER, "clientId": CLIENT_ID}), PAGE_URL)
    return Session(settings, storage=MemoryStorage(), http=provider.http,
                   verifier=PyJwtVerifier(), clock=clock)


def test_a_popup_login_remembers_its_redirect_uri_and_finishes_with_the_same_checks(
        session, provider):
    url = run(session.login_url(PAGE_URL, redirect_uri=POPUP_URI))
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [POPUP_URI]
    callback = provider.authorize(url)  # the provider checks the exchange's redirect_uri
    assert callback.startswith(POPUP_URI + "?")
    response = popup_answer(callback, POPUP_URI, state_of(url))
    assert response is not None
    run(session.finish_login(response))
    assert session.is_authenticated and session.user == provider.user
    assert has_session(session.store.storage)


def test_a_popup_answer_is_used_once(session, provider):
    url = run(session.login_url(PAGE_URL, redirect_uri=POPUP_URI))
    response = popup_answer(provider.authorize(url), POPUP_URI, state_of(url))
    run(session.finish_login(response))
    with pytest.raises(CallbackError) as caught:
        run(session.finish_login(response))
    assert caught.value.code == "callback.state_unknown"


def test_login_url_refuses_a_redirect_uri_of_another_origin_and_remembers_nothing(session):
    with pytest.raises(PopupError):
        run(session.login_url(PAGE_URL, redirect_uri="https://evil.test/cb"))
    assert session.store.storage.keys() == []
