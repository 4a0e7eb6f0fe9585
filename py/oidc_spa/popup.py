"""Popup login's pure rules: where the popup returns, and which message is its answer.

The popup returns to a tiny static page beside index.html, `popup_callback.html`, whose
script (`popup_callback.js`) only carries the URL it was given back to the page that
opened it: `window.opener.postMessage(location.href, location.origin)`, or, when the
opener is gone, a BroadcastChannel named for the app (`channel_name`). Everything that
arrives that way is checked here and then by `Session.finish_login`, as the redirect
login's answer is. oidc_spa.browser.log_in_with_popup does the browser's part.

A popup that reports `closed` may still be open: a `Cross-Origin-Opener-Policy:
same-origin` on a page it shows moves it to another browsing context group, where the
opener sees it closed and the callback page has no opener (so it answers on the channel).
PopupWatch decides what such a look at the window means.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from .authorize import CallbackResponse, read_callback
from .errors import CallbackError, PopupError
from .portable.urls import origin, without_query_and_fragment
from .urls import is_secure_url

__all__ = ["POPUP_CALLBACK_PAGE", "POPUP_CLOSE_GRACE_SECONDS", "POPUP_FEATURES", "POPUP_NAME",
           "POPUP_TIMEOUT_SECONDS", "PopupWatch", "channel_name", "check_popup_redirect_uri",
           "popup_answer", "popup_redirect_uri", "state_of"]

POPUP_CALLBACK_PAGE = "popup_callback.html"
# The window's name: the first lane opens it at the click, the full lane reuses it by name.
POPUP_NAME = "oidc_spa_login"
POPUP_FEATURES = "popup,width=520,height=680"
POPUP_TIMEOUT_SECONDS = 120.0
# How long a message may still arrive after the popup closed (the callback page posts,
# then closes itself).
POPUP_CLOSE_GRACE_SECONDS = 0.5
CHANNEL_PREFIX = "oidc_spa:popup:"


def popup_redirect_uri(redirect_uri: str) -> str:
    """The popup's redirect URI: the page's (settings.redirect_uri) with its last path
    segment replaced by popup_callback.html, e.g. https://u.github.io/repo/ ->
    https://u.github.io/repo/popup_callback.html. Register it at the provider too."""
    base = without_query_and_fragment(redirect_uri)
    return base[: base.rfind("/") + 1] + POPUP_CALLBACK_PAGE


def check_popup_redirect_uri(candidate: str, page_redirect_uri: str) -> str:
    """A redirect URI for one login: an http(s) URL on the page's own origin, no fragment."""
    if (not is_secure_url(candidate) or "#" in candidate
            or origin(candidate) != origin(page_redirect_uri)):
        raise PopupError("popup.redirect_uri", origin=origin(page_redirect_uri),
                         detail=candidate)
    return candidate


def channel_name(redirect_uri: str) -> str:
    """The BroadcastChannel the callback page falls back on: named for the app by the
    folder it is served from, as popup_callback.js names it
    ("oidc_spa:popup:" + new URL(".", location.href).pathname)."""
    path = urlsplit(redirect_uri).path or "/"
    return CHANNEL_PREFIX + path[: path.rfind("/") + 1]


def state_of(authorization_url: str) -> str:
    """The state of an authorization URL the library built (sent after the endpoint's
    own query, so the last one)."""
    states = [value for name, value in parse_qsl(urlsplit(authorization_url).query)
              if name == "state"]
    return states[-1]


def popup_answer(data: object, redirect_uri: str, state: str) -> CallbackResponse | None:
    """The authorization response in a message, when it is the answer to this login: a
    string, the popup's redirect URI with a response whose state is this login's.
    None for anything else (another login's answer, noise): the caller waits on."""
    if not isinstance(data, str) or len(data) > 16_384:
        return None
    if without_query_and_fragment(data) != without_query_and_fragment(redirect_uri):
        return None
    try:
        response = read_callback(data)
    except CallbackError:
        return None
    if response is None or response.state != state:
        return None
    return response


@dataclass
class PopupWatch:
    """What each look at a waiting popup login's window means (`look`).

    `hears_channel`: the page listens on the app's BroadcastChannel, so a popup cut off
    from it (reported closed, maybe still open) can still answer: the login waits on until
    `deadline`. Without the channel a closed popup can send nothing more.
    """

    deadline: float
    hears_channel: bool
    grace: float = POPUP_CLOSE_GRACE_SECONDS
    closed_since: float | None = None
    cut_off: bool = False

    def look(self, closed: bool, now: float) -> str | None:
        """None: wait on. "popup.cut_off": tell the app (once), then wait on.
        "popup.closed" or "popup.timeout": the login ends with that error."""
        if now >= self.deadline:
            return "popup.timeout"
        if not closed or self.cut_off:
            return None
        if self.closed_since is None:
            self.closed_since = now
        if now - self.closed_since < self.grace:
            return None  # the callback page's message may be on its way
        if not self.hears_channel:
            return "popup.closed"
        self.cut_off = True
        return "popup.cut_off"
