"""The popup login in the browser: the window, its answer, the wait (Pyodide only).

    popup = open_popup()                              # inside the click handler, synchronously
    result = await log_in_with_popup(session, popup)  # the same checks, then stored
    end_popup_login(session)                          # before another login: the old wait ends

The checks of what arrives are oidc_spa.popup's (pure, tested on CPython); this module
does the browser's part. oidc_spa.browser re-exports the three functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import js  # type: ignore[import-not-found]  # Pyodide's bridge to the page
from pyodide.ffi import create_proxy  # type: ignore[import-not-found]

from .authorize import CallbackResponse
from .browser_page import current_url, log_unexpected
from .errors import PopupError
from .outcomes import StartResult
from .popup import (
    POPUP_FEATURES,
    POPUP_NAME,
    POPUP_TIMEOUT_SECONDS,
    PopupWatch,
    channel_name,
    popup_answer,
    popup_redirect_uri,
    state_of,
)
from .session import Session

__all__ = ["end_popup_login", "log_in_with_popup", "open_popup"]

# How often the popup's `closed` is looked at.
_POPUP_POLL_SECONDS = 0.25


def open_popup() -> Any:
    """The login's popup window (about:blank until log_in_with_popup sends it to the
    provider), or None when the browser blocked it. Call it synchronously in the click's
    handler: a popup opened later is blocked. A window of the same name already open (the
    first lane opens it at the click and the full lane takes it over) is reused as it is."""
    popup = js.window.open("", POPUP_NAME, POPUP_FEATURES)
    return popup if popup else None  # null comes as None or jsnull


def _same_window(one: Any, other: Any) -> bool:
    return other is not None and bool(getattr(js.Object, "is")(one, other))


# The popup login of each session still waiting, by id(session) (a wait holds its
# session, so the id stays that session's while the wait is here).
_WAITING: dict[int, _PopupWait] = {}


class _PopupWait:
    """One popup login waiting for its answer: it takes the answer only from the window it
    opened (a message on this origin) or from the app's BroadcastChannel, with its state.
    A session has one at a time: a newer login ends the older one's (end_popup_login)."""

    def __init__(self, session: Session, popup: Any) -> None:
        end_popup_login(session, keep_window=popup)
        self.session, self.popup = session, popup
        self.answer: asyncio.Future[CallbackResponse] = (
            asyncio.get_running_loop().create_future())
        self.state: str | None = None
        self.superseded = False
        self._owns_window = True
        self._listeners: list[tuple[Any, Any]] = []  # (target, proxy)
        self._channel: Any = None
        _WAITING[id(session)] = self

    def listen(self, redirect_uri: str, state: str) -> None:
        """Take this login's answer from now on (state: its authorization request's)."""
        self.state = state
        if self.superseded:  # a newer login started while this one was being built
            raise PopupError("popup.superseded")
        own_origin = str(js.window.location.origin)

        def offer(data: Any) -> None:
            response = popup_answer(data, redirect_uri, state)
            if response is not None and not self.answer.done():
                self.answer.set_result(response)

        def on_message(event: Any) -> None:
            # Only this page's origin, and only the window this login opened.
            if str(event.origin) == own_origin and _same_window(event.source, self.popup):
                offer(event.data)

        self._add_listener(js.window, on_message)
        if getattr(js, "BroadcastChannel", None) is not None:
            # The callback page's way when it has no opener; this origin's pages only.
            self._channel = js.BroadcastChannel.new(channel_name(redirect_uri))
            self._add_listener(self._channel, lambda event: offer(event.data))

    def _add_listener(self, target: Any, handler: Callable[[Any], None]) -> None:
        proxy = create_proxy(handler)
        target.addEventListener("message", proxy)
        self._listeners.append((target, proxy))

    async def wait(self, timeout: float,
                   on_cut_off: Callable[[PopupError], None] | None) -> CallbackResponse:
        """The answer; PopupError "popup.closed", "popup.timeout" or "popup.superseded"
        instead. A popup cut off (closed, the channel listening) is told to `on_cut_off`
        once, and the wait goes on until the deadline."""
        loop = asyncio.get_running_loop()
        watch = PopupWatch(loop.time() + timeout, hears_channel=self._channel is not None)
        while not self.answer.done():
            outcome = watch.look(bool(self.popup.closed), loop.time())
            if outcome == "popup.cut_off":
                _notify(on_cut_off, PopupError(outcome))
            elif outcome == "popup.timeout":
                raise PopupError(outcome, seconds=f"{timeout:g}")
            elif outcome is not None:
                raise PopupError(outcome)
            await asyncio.wait([self.answer], timeout=_POPUP_POLL_SECONDS)
        if self.superseded:  # an answer that came just before a newer login started
            raise PopupError("popup.superseded")
        return self.answer.result()

    def stop_listening(self) -> None:
        """No answer is taken any more (idempotent); the session's slot is freed."""
        for target, proxy in self._listeners:
            target.removeEventListener("message", proxy)
            proxy.destroy()
        self._listeners.clear()
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if _WAITING.get(id(self.session)) is self:
            del _WAITING[id(self.session)]

    def give_up(self, keep_window: Any = None) -> None:
        """Forget the started login, and close its window unless a newer login took it
        over by name (`keep_window`); the window is closed once at most."""
        if self.state is not None:
            self.session.store.take_transaction(self.state, self.session.clock())
        if (self._owns_window and not self.popup.closed
                and not _same_window(self.popup, keep_window)):
            self.popup.close()
        self._owns_window = False

    def supersede(self, keep_window: Any) -> None:
        """A newer login started: end this wait now, with nothing left to complete it."""
        self.superseded = True
        self.stop_listening()
        self.give_up(keep_window)
        self.answer.cancel()  # wakes wait() up; a no-op once the answer is in


def _notify(callback: Callable[[PopupError], None] | None, notice: PopupError) -> None:
    """The app's callback; its own failure must not end the login."""
    if callback is None:
        return
    try:
        callback(notice)
    except Exception as error:
        log_unexpected(error)


def end_popup_login(session: Session, *, keep_window: Any = None) -> None:
    """End the session's popup login that still waits for its answer, if any: its pending
    login is forgotten, its listeners and channel closed (a late answer is ignored), its
    window closed unless it is `keep_window` (the one a new popup login took over by name);
    its log_in_with_popup raises PopupError "popup.superseded". log_in_with_popup calls it
    itself; call it before any other login (e.g. the redirect's), best right in the click."""
    wait = _WAITING.get(id(session))
    if wait is not None:
        wait.supersede(keep_window)


async def log_in_with_popup(session: Session, popup: Any = None, *,
                            timeout: float = POPUP_TIMEOUT_SECONDS,
                            redirect_uri: str | None = None,
                            on_cut_off: Callable[[PopupError], None] | None = None,
                            ) -> StartResult:
    """Log in in a popup; the page stays as it is (no reload, address bar untouched).

    `popup`: the window open_popup() opened in the click (None: opened here, or the one of
    that name reused). It goes to the provider with `redirect_uri` (default: the settings'
    redirect URI with its last path segment replaced by popup_callback.html, a static page
    that hands the URL back); the answer is accepted only from this page's origin and from
    that very window (or, when the popup lost its opener, on the app's BroadcastChannel),
    and only with this login's state. Then `session.finish_login` does what the redirect
    login does (state, iss, code exchange, ID token, DPoP) and stores the session.

    A popup that reports closed while the channel listens may be open still, cut off from
    this page by a Cross-Origin-Opener-Policy: `on_cut_off` gets PopupError
    "popup.cut_off" (a notice, not raised) and the login waits on for its answer on the
    channel until `timeout`.

    PopupError "popup.blocked", "popup.closed" (closed, and no channel to answer on),
    "popup.timeout" (no answer within `timeout` seconds) or "popup.superseded" (a newer
    login started: end_popup_login): the started login is forgotten, nothing is stored.
    Any AuthError of the login itself as for the redirect login.
    """
    popup = popup or open_popup()
    if not popup:
        raise PopupError("popup.blocked")
    redirect_uri = redirect_uri or popup_redirect_uri(session.settings.redirect_uri)
    wait = _PopupWait(session, popup)  # ends the session's older popup login, if any
    try:
        url = await session.login_url(current_url(), redirect_uri=redirect_uri)
        wait.listen(redirect_uri, state_of(url))
        if popup.closed:  # e.g. closed while the full lane was starting
            raise PopupError("popup.closed")
        popup.location.replace(url)
        response = await wait.wait(timeout, on_cut_off)
    except BaseException:
        wait.give_up()
        raise
    finally:
        wait.stop_listening()
    if not popup.closed:
        popup.close()
    result = await session.finish_login(response)
    return result._replace(clean_url=None)  # the page never left: its address stays
