"""The browser shell: localStorage, fetch, WebCrypto, the address bar.

With browser_page, browser_popup and browser_keys, the only modules of the package that
touch `js`. Everything here is a thin adapter to a protocol the core defines, so the core
stays testable on CPython.

An app needs three calls:

    session = await create_session()      # auth_config.json, storage, fetch, WebCrypto, lock
    result = await start_on_page(session)  # finish a login or restore one; tidy the address bar
    keep_in_step(session, on_change)       # renewals, expiry, other tabs, while the page is open

A login in a popup instead of a redirect (no page load, no second Python start):
open_popup, log_in_with_popup and end_popup_login, from oidc_spa.browser_popup.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import js  # type: ignore[import-not-found]  # Pyodide's bridge to the page
from pyodide.ffi import (  # type: ignore[import-not-found]
    JsException,
    create_once_callable,
    create_proxy,
    to_js,
)

from .browser_keys import IndexedDbKeys
from .browser_page import current_url, navigate, replace_url
from .browser_page import log_unexpected as _log_unexpected
from .browser_popup import end_popup_login, log_in_with_popup, open_popup
from .config import parse_settings
from .errors import AuthError, NetworkError, SessionEndedError
from .lock import LocalLock, LockTimeout
from .outcomes import SessionChange, StartResult
from .portable.urls import origin
from .session import Session
from .store import FallbackStorage, MemoryStorage
from .transport import HttpResponse

__all__ = [
    "LOCAL",
    "MEMORY",
    "TAB",
    "BrowserHttp",
    "WebCryptoVerifier",
    "WebLock",
    "WebStorage",
    "create_session",
    "current_url",
    "end_popup_login",
    "fetch_text",
    "keep_in_step",
    "log_in_with_popup",
    "navigate",
    "open_popup",
    "page_storage",
    "replace_url",
    "start_on_page",
]


def _js_object(value: Mapping[str, Any]) -> Any:
    return to_js(dict(value), dict_converter=js.Object.fromEntries)


class BrowserHttp:
    """Http over the page's fetch(), with a timeout through AbortController."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        timeout: float,
    ) -> HttpResponse:
        init: dict[str, Any] = {"method": method, "headers": dict(headers or {})}
        if body is not None:
            init["body"] = body
        return await self._fetch(url, init, timeout)

    async def _fetch(self, url: str, init: dict[str, Any], timeout: float) -> HttpResponse:
        options = {
            **init,
            "headers": _js_object(init["headers"]),
            # Tokens are never cached, and no cookie or referrer goes to the provider's API.
            "cache": "no-store",
            "credentials": "omit",
            "referrerPolicy": "no-referrer",
        }
        return await _fetch_within(url, options, timeout, PROVIDER_UNREACHABLE)

    def send_detached(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> None:
        """fetch() with keepalive: the browser finishes it even if the page navigates
        away at once (a revocation sent just before the provider's logout page)."""
        options: dict[str, Any] = {
            "method": method, "headers": _js_object(dict(headers or {})), "keepalive": True,
            "cache": "no-store", "credentials": "omit", "referrerPolicy": "no-referrer",
        }
        if body is not None:
            options["body"] = body
        try:
            promise = js.fetch(url, _js_object(options))
            # Nobody waits for the answer; a failure must not become an unhandled rejection.
            promise.catch(create_once_callable(lambda _error: None))
        except JsException as error:
            js.console.warn(f"oidc_spa: request to {url} not sent: {error}")


# NetworkError codes (timed out, unreachable): the provider's, and the page's own files'.
PROVIDER_UNREACHABLE = ("network.provider_timeout", "network.provider_unreachable")
SITE_FILE_UNREACHABLE = ("network.config_timeout", "network.config_unreachable")


async def _fetch_within(url: str, options: dict[str, Any], timeout: float,
                        codes: tuple[str, str]) -> HttpResponse:
    """fetch() with a timeout (AbortController); NetworkError with one of `codes` (timed
    out, unreachable) when no answer comes, or "network.blocked_by_policy" when the page's
    own Content-Security-Policy refused the request."""
    _watch_policy_violations()
    controller = js.AbortController.new()
    timer = js.setTimeout(create_once_callable(lambda: controller.abort()), int(timeout * 1000))
    try:
        response = await js.fetch(url, _js_object({**options, "signal": controller.signal}))
        text = await response.text()
    except JsException as error:
        timed_out = bool(controller.signal.aborted)
        if not timed_out and await _blocked_by_policy(url):
            raise NetworkError("network.blocked_by_policy", origin=origin(url),
                               detail=f"{url}: {error}") from None
        raise NetworkError(codes[0] if timed_out else codes[1],
                           detail=f"{url}: {error}") from None
    finally:
        js.clearTimeout(timer)
    return HttpResponse(int(response.status), str(text), _headers(response))


# The origins the page's Content-Security-Policy refused a request to, from the
# browser's securitypolicyviolation events: a refused fetch() fails like a network error,
# and only these tell the two apart.
_REFUSED_ORIGINS: set[str] = set()
_POLICY_WATCH: list[Any] = []  # the listener, kept alive and added once
# The violation event is queued as its own task: how long a failed fetch waits for it.
_VIOLATION_WAIT_SECONDS = 0.05


def _watch_policy_violations() -> None:
    if _POLICY_WATCH:
        return

    def refused(event: Any) -> None:
        blocked = str(event.blockedURI or "")
        if blocked.startswith(("https://", "http://")):
            _REFUSED_ORIGINS.add(origin(blocked))

    listener = create_proxy(refused)
    js.document.addEventListener("securitypolicyviolation", listener)
    _POLICY_WATCH.append(listener)


async def _blocked_by_policy(url: str) -> bool:
    if origin(url) not in _REFUSED_ORIGINS:
        await asyncio.sleep(_VIOLATION_WAIT_SECONDS)
    return origin(url) in _REFUSED_ORIGINS


def _headers(response: Any) -> dict[str, str]:
    """The answer's readable headers, names lowercased (fetch already lowercases them)."""
    return {str(name).lower(): str(value) for name, value in response.headers.entries()}


# JOSE algorithm family -> WebCrypto import and verify parameters.
def _webcrypto_params(algorithm: str, jwk: Mapping[str, Any]) -> tuple[dict, dict]:
    hash_name = f"SHA-{algorithm[2:]}"
    family = algorithm[:2]
    if family == "RS":
        return {"name": "RSASSA-PKCS1-v1_5", "hash": hash_name}, {"name": "RSASSA-PKCS1-v1_5"}
    if family == "PS":
        salt = int(algorithm[2:]) // 8
        return {"name": "RSA-PSS", "hash": hash_name}, {"name": "RSA-PSS", "saltLength": salt}
    return {"name": "ECDSA", "namedCurve": jwk.get("crv")}, {"name": "ECDSA", "hash": hash_name}


class WebCryptoVerifier:
    """SignatureVerifier on the browser's crypto.subtle (RSA PKCS#1 v1.5, RSA-PSS, ECDSA)."""

    async def verify(
        self, algorithm: str, jwk: Mapping[str, Any], signing_input: bytes, signature: bytes
    ) -> bool:
        # Only the public members: WebCrypto refuses a JWK whose alg/key_ops disagree
        # with the requested use, and we have already matched alg ourselves.
        public = {k: jwk[k] for k in ("kty", "n", "e", "crv", "x", "y") if k in jwk}
        import_params, verify_params = _webcrypto_params(algorithm, jwk)
        try:
            key = await js.crypto.subtle.importKey(
                "jwk", _js_object(public), _js_object(import_params), False, to_js(["verify"])
            )
            valid = await js.crypto.subtle.verify(
                _js_object(verify_params), key, to_js(signature), to_js(signing_input)
            )
        except JsException:
            return False  # a key WebCrypto cannot use verifies nothing
        return bool(valid)


class WebStorage:
    """window.localStorage or window.sessionStorage, looked up on every call.

    A browser that blocks storage throws as soon as the property is read, so the
    lookup happens inside each call, where FallbackStorage catches it.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def getItem(self, key: str) -> str | None:
        value = getattr(js.window, self.name).getItem(key)
        # A missing key is JS null, which Pyodide may hand over as jsnull, not None.
        return value if isinstance(value, str) else None

    def setItem(self, key: str, value: str) -> None:
        getattr(js.window, self.name).setItem(key, value)

    def removeItem(self, key: str) -> None:
        getattr(js.window, self.name).removeItem(key)

    def keys(self) -> list[str]:
        storage = getattr(js.window, self.name)
        return [str(storage.key(index)) for index in range(int(storage.length))]


# FallbackStorage levels of page_storage(), most durable first.
LOCAL, TAB, MEMORY = 0, 1, 2


def page_storage() -> FallbackStorage:
    """localStorage; sessionStorage when that is full or blocked; memory as the last resort."""
    return FallbackStorage([WebStorage("localStorage"), WebStorage("sessionStorage"),
                            MemoryStorage()])


class WebLock:
    """A lock shared by every tab of this origin, through the Web Locks API.

    navigator.locks.request() holds the lock until the promise its callback returns
    settles; that promise is resolved when the `async with` block ends. The request
    carries an AbortSignal.timeout, so a tab never waits without limit. Browsers
    without Web Locks get a lock for this tab only.
    """

    def __init__(self) -> None:
        self._fallback = LocalLock()

    @asynccontextmanager
    async def hold(self, name: str, *, timeout: float) -> AsyncIterator[None]:
        locks = getattr(js.navigator, "locks", None)
        if locks is None:
            async with self._fallback.hold(name, timeout=timeout):
                yield
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        release = js.Promise.withResolvers()

        def on_granted(_lock: Any) -> Any:
            if granted.done():  # granted after we stopped waiting: give it straight back
                return None
            granted.set_result(None)
            return release.promise

        def on_refused(_error: Any) -> None:
            if not granted.done():
                granted.set_exception(LockTimeout(name))

        options = _js_object({"signal": js.AbortSignal.timeout(int(timeout * 1000))})
        finished = locks.request(name, options, create_once_callable(on_granted))
        finished.catch(create_once_callable(on_refused))
        await granted
        try:
            yield
        finally:
            release.resolve()
            await finished


async def fetch_text(relative_url: str, timeout: float = 15.0) -> str | None:
    """A file beside the page (e.g. auth_config.json); None when it is not there.

    A plain same-origin request, HTTP cache included, so that a
    `<link rel="preload" as="fetch" crossorigin>` for it in index.html is used."""
    url = str(js.URL.new(relative_url, js.document.baseURI).href)
    response = await _fetch_within(url, {}, timeout, SITE_FILE_UNREACHABLE)
    return response.text if response.status == 200 else None


# -- the session, wired to this page -------------------------------------------------

TICK_SECONDS = 1.0
# The event loop holds tasks only weakly: keep_in_step's loops live here while they run.
_RUNNING: set[asyncio.Future[None]] = set()


async def create_session(settings_url: str = "auth_config.json", *,
                         page_url: str | None = None) -> Session:
    """The Session for this page, wired the one way a page should be.

    Reads the settings from `settings_url` (relative to the page) and gives the session
    page_storage() (localStorage, else sessionStorage, else memory), BrowserHttp,
    WebCryptoVerifier and WebLock, the lock that lets only one tab at a time spend a
    refresh token. `page_url` (default: the address bar) is what a relative or missing
    "redirectUri" is resolved against.

    Raises ConfigError when the settings are missing or wrong, NetworkError when they
    could not be fetched; show its `user_message`.
    """
    page_url = page_url or current_url()
    settings = parse_settings(await fetch_text(settings_url), page_url)
    keys = IndexedDbKeys(settings.client_id) if IndexedDbKeys.available() else None
    return Session(settings, storage=page_storage(), http=BrowserHttp(),
                   verifier=WebCryptoVerifier(), lock=WebLock(), dpop_keys=keys)


async def start_on_page(session: Session) -> StartResult:
    """On page load: `session.start()` on the address bar's URL, then the address bar
    tidied without a reload (the login's code and state gone, the page the login
    started from put back).

    On an AuthError (a refused or forged callback, the provider unreachable...) the
    address bar is cleaned too and the error raised: show its `user_message`. A
    session the user already had stays signed in.
    """
    page_url = current_url()
    try:
        result = await session.start(page_url)
    except AuthError:
        replace_url(Session.error_clean_url(page_url))
        raise
    if result.clean_url:
        replace_url(result.clean_url)
    return result


def keep_in_step(session: Session, on_change: Callable[[SessionChange], object], *,
                 on_tick: Callable[[], object] | None = None,
                 every: float = TICK_SECONDS) -> Callable[[], None]:
    """Keep `session` true while the page is open; returns a function that stops it.

    Every `every` seconds it runs `session.tick()` (renews ahead of expiry, ends the
    session at its expiry, adopts what other tabs did), and on the `storage` event for
    this app's keys it adopts another tab's login, logout or renewal at once. Each
    change goes to `on_change`: "signed_in", "signed_out", "renewed", "expired", or
    "ended" (the provider refused a renewal; the session is already forgotten here).
    `on_tick`, if given, runs after every tick (an "expires in" countdown). An error
    in a tick or a callback goes to the console, and the ticks go on.
    """

    def deliver(change: SessionChange | None) -> None:
        if change is not None:
            on_change(change)

    async def ticks() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                try:
                    change = await session.tick()
                except SessionEndedError as error:
                    js.console.warn(f"oidc_spa: {error.code}: {error}")
                    change = "ended"
                deliver(change)
                if on_tick is not None:
                    on_tick()
            except Exception as error:
                _log_unexpected(error)

    def on_storage(event: Any) -> None:
        key = event.key
        # key is null (None or jsnull) when another tab cleared the whole storage.
        if not isinstance(key, str) or key.startswith(session.store.prefix):
            try:
                deliver(session.sync_from_storage())
            except Exception as error:
                _log_unexpected(error)

    listener = create_proxy(on_storage)
    js.window.addEventListener("storage", listener)
    task = asyncio.ensure_future(ticks())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)

    def stop() -> None:
        if task.cancel():  # False once stopped: the listener is gone already
            js.window.removeEventListener("storage", listener)
            listener.destroy()

    return stop
