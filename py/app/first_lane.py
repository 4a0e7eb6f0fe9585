"""The page's first lane, on MicroPython: the right state painted at once.

first_lane.mjs (py/boot/first_lane_boot.mjs) boots MicroPython (about 0.4 MB of runtime)
and awaits main() here; PyScript is not loaded yet. It reads the kept session with the rules
the full lane uses (oidc_spa.portable), paints `authenticated` with the profile or
`anonymous`, and handles Log in and Log out, so a visitor can sign in and out without
Pyodide ever loading. It starts the full lane (PyScript, then Pyodide with PyJWT: main.py
and sample_page) when that is needed: a login's answer in the address bar, a renewal
coming due, Call API, Log in in a popup (it opens the popup at the click; the full lane
finishes the login), settings or storage it cannot use, and otherwise as the `fullLane`
setting says (eager, idle, on-demand). The full lane sets data-lane="full" when it has
taken over; from then on this lane does nothing.

Anything unforeseen here hands over to the full lane, which reports errors in words:
no traceback reaches the page.
"""

import json
import time

import js
import page_text

from oidc_spa.portable import record
from oidc_spa.portable.settings import read_settings
from oidc_spa.portable.strict_json import json_object
from oidc_spa.portable.urls import form_encode, query_names, split_url

# The page's document, set by main(): importing this module touches no JavaScript object,
# so the build can import it ahead of time (devtools/build/first_lane_snapshot.mjs).
document = None
FULL_LANE_SCRIPT = "./main.py"
# PyScript, which runs the full lane's script (and reads its <py-config> when it loads).
PYSCRIPT = "./vendor/pyscript/core.js"
TICK_SECONDS = 1
# How long "idle" waits for the browser to be idle before it starts the full lane anyway.
IDLE_TIMEOUT_MS = 2000
RUNNING: list = []


def body_flag(name: str) -> str | None:
    """A data-* attribute of <body> (getAttribute: a missing one is None in both lanes)."""
    return document.body.getAttribute("data-" + name)


def full_lane_running() -> bool:
    return body_flag("lane") == "full"


def start_full_lane(reason: str, queued: str | None = None) -> None:
    """Add the full lane's script (once); `queued` is a click it runs when it is up."""
    if queued and not full_lane_running():
        document.body.setAttribute("data-queued", queued)
    if body_flag("full-lane"):
        return
    document.body.setAttribute("data-full-lane", reason)
    script = document.createElement("script")
    script.type = "py"
    script.src = FULL_LANE_SCRIPT
    document.body.append(script)
    pyscript = document.createElement("script")
    pyscript.type = "module"
    pyscript.src = PYSCRIPT
    document.head.append(pyscript)


async def js_call(function: object) -> object:
    """Call a JS function so that a throw becomes a Python exception. MicroPython's js
    module lets an exception thrown by a JS call or getter escape past any `except`
    (a blocked localStorage throws on access, a full one on setItem); a rejected promise
    that is awaited is caught as usual, so the call runs inside one."""
    return await js.Promise.resolve().then(function)


class StagedWrites:
    """A storage whose writes wait for `commit()`, which makes each through js_call: the
    portable rules write synchronously, and a refused write must reach `except`."""

    def __init__(self, storage: object) -> None:
        self.storage = storage
        self.writes = []

    def getItem(self, key: str) -> str | None:
        for written, value in reversed(self.writes):
            if written == key:
                return value
        return self.storage.getItem(key)

    def setItem(self, key: str, value: str) -> None:
        self.writes.append((key, value))

    def removeItem(self, key: str) -> None:
        self.writes.append((key, None))

    async def commit(self) -> None:
        storage = self.storage
        for key, value in self.writes:
            if value is None:
                await js_call(storage.removeItem.bind(storage, key))
            else:
                await js_call(storage.setItem.bind(storage, key, value))
        self.writes = []


def random_bytes(count: int) -> bytes:
    """crypto.getRandomValues: MicroPython has no os.urandom."""
    values = js.Uint8Array.new(count)
    js.crypto.getRandomValues(values)
    return bytes([values[i] for i in range(count)])


def js_object(data: dict) -> object:
    return js.JSON.parse(json.dumps(data))


def next_task() -> object:
    """A promise the next macrotask settles (setTimeout 0): awaiting it ends this task."""
    return js.Promise.new(lambda resolve, *_reject: js.setTimeout(resolve, 0))


async def fetch_text(url: str) -> str | None:
    response = await js.fetch(url)  # as the <link rel=preload> asked: one request
    return await response.text() if response.ok else None


def is_callback(page_url: str) -> bool:
    """A login's answer in the address bar: only the full lane may read it."""
    if "?" not in page_url:  # no query at all (the usual visit): nothing to parse
        return False
    return any(name in ("code", "error") for name, _ in query_names(split_url(page_url)[3]))


class FirstLane:
    def __init__(self, settings: dict, storage: object) -> None:
        self.settings = settings
        self.storage = storage
        self.keys = record.Keys(settings["client_id"])
        self.shown_id = None  # the login on screen, None when signed out
        self.shown_ends = 0.0  # and its end
        self.endpoints = None

    # -- deciding and painting

    def live(self) -> dict | None:
        s = self.settings
        return record.live_record(self.storage, self.keys, time.time(), s["issuer"],
                                  s["client_id"])

    def paint(self) -> dict | None:
        """The start-up decision, painted. Returns the login shown (None: signed out)."""
        return self.paint_decided(self.live())

    def paint_decided(self, current: dict | None) -> dict | None:
        """Paint what live() said; a kept login that is over is ended as the full lane
        would."""
        if current is None and self.storage.getItem(self.keys.current) is not None:
            record.end_login(self.storage, self.keys, None, "expired", time.time())
        self.show(current)
        return current

    def show(self, current: dict | None) -> None:
        if current is None:
            self.shown_id = None
            document.querySelector(".api-result").textContent = ""
            page_text.show_state(document, "anonymous")
            return
        self.shown_id = current["session_id"]
        self.shown_ends = current["expires_at"]
        page_text.show_profile(document, current["profile"])
        self.show_expiry(current)
        page_text.show_state(document, "authenticated")

    def show_expiry(self, current: dict) -> None:
        s = self.settings
        page_text.show_expiry(document, current["expires_at"] - time.time(),
                              record.can_renew(current, s["renew"], s["renew_margin"]))

    def renewal_due(self, current: dict) -> bool:
        s = self.settings
        return (record.can_renew(current, s["renew"], s["renew_margin"])
                and time.time() >= record.renew_at(current, s["renew_margin"]) - TICK_SECONDS)

    def follow(self) -> None:
        """Once a second and on other tabs' writes, until the full lane takes over:
        what other tabs did, the session's end, and a renewal coming due."""
        if full_lane_running():
            return
        current = self.live()
        if current is None and self.shown_id is not None:
            page_text.show_message(document, page_text.CHANGE_MESSAGES[self.ending()])
            self.paint()
        elif current is not None and current["session_id"] != self.shown_id:
            self.show(current)
        elif current is not None:
            self.show_expiry(current)
        if current is not None and self.renewal_due(current):
            start_full_lane("renewal")

    def ending(self) -> str:
        """Why the login on screen is gone (record.why_ended, as the full lane says it)."""
        ended = json_object(self.storage.getItem(self.keys.ended))
        ours = ended is not None and ended.get("session_id") == self.shown_id
        return record.why_ended(self.shown_ends, time.time(), ended.get("reason") if ours else None)

    # -- clicks

    async def provider_endpoints(self) -> dict:
        import asyncio  # after the first paint, as the modules only clicks need

        from oidc_spa.portable import provider

        if self.endpoints is None:
            s = self.settings
            if s["auth0_domain"]:
                self.endpoints = provider.auth0_endpoints(s["auth0_domain"])
            else:
                text = await asyncio.wait_for(fetch_text(provider.discovery_url(s["issuer"])),
                                              s["timeout"])
                self.endpoints = provider.read_discovery(text, s["issuer"])
        return self.endpoints

    async def prefetch_endpoints(self) -> None:
        """Read discovery while the visitor looks, so Log in navigates at once."""
        try:
            await self.provider_endpoints()
        except Exception as error:  # the click tries again, and hands over if it fails
            js.console.warn("first lane: discovery not read yet: " + repr(error))

    async def log_in(self) -> None:
        from oidc_spa.portable import login

        s = self.settings
        endpoints = await self.provider_endpoints()
        transaction = login.new_transaction(random_bytes, s["redirect_uri"],
                                            js.location.href, time.time())
        url = login.authorization_url(endpoints["authorization_endpoint"], s["client_id"],
                                      s["scope"], s["audience"], transaction,
                                      s["authorization_params"])
        staged = StagedWrites(self.storage)
        login.remember_login(staged, self.keys, transaction, time.time())
        await staged.commit()  # a full storage refuses here: the full lane takes over
        js.location.assign(url)

    async def log_out(self) -> None:
        """The local session first (nothing can keep it), then revocation, then the provider."""
        from oidc_spa.portable import logout

        kept = record.current_record(self.storage, self.keys)
        record.end_login(self.storage, self.keys, None, "logout", time.time())
        self.storage.removeItem(self.keys.pending_logins)
        page_text.show_message(document, None)
        self.show(None)
        await delete_dpop_keys(self.keys)
        endpoints = await self.provider_endpoints()
        if kept is not None and kept["refresh_token"] and endpoints["revocation_endpoint"]:
            form = logout.revocation_form(self.settings["client_id"], kept["refresh_token"])
            send_detached(endpoints["revocation_endpoint"], form_encode(form))
        url = logout.provider_logout_url(endpoints, self.settings["client_id"],
                                         self.settings["redirect_uri"],
                                         kept["id_token"] if kept else None)
        if url:
            js.location.assign(url)



def on_click(selector: str, action: str) -> None:
    """Until the full lane is up, a click is this lane's (`ACTIONS[action]` of the lane
    once it has painted); one it cannot do (not painted, or it failed) is queued for
    the full lane, which does it and reports any error in words."""

    async def act() -> None:
        handler = ACTIONS.get(action) if LANE else None
        try:
            if handler is None:
                raise LookupError("the first lane has not painted")
            await handler(LANE[0])
        except Exception as error:
            js.console.warn("first lane: " + action + " handed over: " + repr(error))
            start_full_lane(action, queued=action)

    def clicked(_event: object) -> None:
        if not full_lane_running():
            if action in AT_CLICK:
                AT_CLICK[action]()  # now, inside the click, or the browser refuses it
            keep(act())

    document.querySelector(selector).addEventListener("click", clicked)


async def delete_dpop_keys(keys: record.Keys) -> None:
    """The logins' DPoP keys go at logout (the full lane keeps them: oidc_spa.browser_keys);
    the next login makes a new one. Nothing to wait for: the deletion finishes on its own."""
    try:
        databases = await js_call(js.Reflect.get.bind(None, js.window, "indexedDB"))
        if databases:
            await js_call(databases.deleteDatabase.bind(databases, keys.dpop_keys))
    except Exception as error:  # no IndexedDB here: there were no keys either
        js.console.warn("first lane: DPoP keys not deleted: " + repr(error))


def keep(coroutine: object) -> None:
    """Run it as a task, held until done: a task nobody holds may be collected."""
    import asyncio  # after the first paint: see follow_until_handed_over()

    RUNNING[:] = [task for task in RUNNING if not task.done()]
    RUNNING.append(asyncio.create_task(coroutine))


def send_detached(url: str, body: str) -> None:
    """A form POST the page does not wait for (keepalive: it survives the navigation)."""
    options = {"method": "POST", "body": body, "keepalive": True, "cache": "no-store",
               "credentials": "omit", "referrerPolicy": "no-referrer",
               "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    js.fetch(url, js_object(options)).catch(lambda _error: None)


async def call_api_later(_lane: FirstLane) -> None:
    """Only the full lane sends tokens to an API: the click waits for it."""
    document.querySelector(".api-result").textContent = "Calling…"
    start_full_lane("call-api", queued="call-api")


# The popup login's window, as oidc_spa.popup names it (POPUP_NAME, POPUP_FEATURES; a
# CPython test keeps them equal): opened here at the click, about:blank, and taken over by
# name by the full lane, which sends it to the provider and finishes the login.
POPUP_NAME = "oidc_spa_login"
POPUP_FEATURES = "popup,width=520,height=680"


def open_login_popup() -> None:
    """A browser opens a popup only inside the user's click: this lane opens it, and the
    full lane (which alone can finish a login) navigates it. A blocked popup (null) is the
    full lane's to report: it finds no window of that name and says so."""
    js.window.open("", POPUP_NAME, POPUP_FEATURES)


async def login_popup_later(_lane: FirstLane) -> None:
    """The full lane finishes a popup login (the code exchange, the ID token): queued."""
    start_full_lane("login-popup", queued="login-popup")


ACTIONS = {"login": FirstLane.log_in, "logout": FirstLane.log_out, "call-api": call_api_later,
           "login-popup": login_popup_later}
AT_CLICK = {"login-popup": open_login_popup}
# The painted lane, once there is one (a list: module globals are not rebound).
LANE: list = []


def probe_storage(found: list) -> None:
    """localStorage, read once, into `found`, for one js_call (a JS callback gets no return
    value through here): a blocked one throws on the first access."""
    storage = js.window.localStorage
    storage.getItem(record.KEY_PREFIX)
    found.append(storage)


async def usable_storage() -> object | None:
    """localStorage when it can be read; None otherwise: then only the full lane can tell
    where the session is."""
    found = []
    try:
        # A promise's undefined value reaches a Python callback as no argument at all.
        await js_call(lambda *_value: probe_storage(found))
    except Exception:
        return None
    return found[0] if found else None


def list_tab_storage(found: list) -> None:
    tab = js.window.sessionStorage
    found.extend([tab.key(i) for i in range(tab.length)])


async def tab_storage_may_hold_ours() -> bool:
    """Whether sessionStorage holds anything of this app's, where the full lane keeps a
    login localStorage refused (oidc_spa.store.FallbackStorage); True when it cannot be
    read either, so that the full lane decides."""
    names = []
    try:
        await js_call(lambda *_value: list_tab_storage(names))
    except Exception:
        return True
    return any(name and name.startswith(record.KEY_PREFIX + ":") for name in names)


async def run(settings_text: str | None) -> None:
    on_click(".btn-login", "login")
    on_click(".btn-logout", "logout")
    on_click(".btn-call-api", "call-api")
    on_click(".btn-login-popup", "login-popup")
    page_url = js.location.href
    if is_callback(page_url):
        start_full_lane("callback")
        return
    settings = read_settings(settings_text, page_url)
    storage = await usable_storage()
    if storage is None:
        start_full_lane("storage")
        return
    lane = FirstLane(settings, storage)
    current = lane.live()
    # The full lane reads localStorage first (FallbackStorage), so a live login found there
    # is its decision too. Anything less may be a login kept in sessionStorage: then
    # the full lane decides (reading sessionStorage costs a new tab about 1.5 ms).
    if current is None and await tab_storage_may_hold_ours():
        start_full_lane("storage")
        return
    document.querySelector(".api-area").hidden = settings["api_url"] is None
    shown = lane.paint_decided(current)
    LANE.append(lane)
    document.body.setAttribute("data-lane", "first")
    js.window.addEventListener("storage", lambda _event: lane.follow())
    # The decision is on the page: end this task so the browser shows it, and set up the
    # rest (idle work, the policy, asyncio for the once-a-second look) in the next one.
    await next_task()
    if lane.shown_id is None:
        js.requestIdleCallback(lambda _deadline: keep(lane.prefetch_endpoints()),
                               js_object({"timeout": IDLE_TIMEOUT_MS}))
    policy = settings["full_lane"]
    if policy == "eager":
        start_full_lane("eager")
    elif policy == "idle":
        js.requestIdleCallback(lambda _deadline: start_full_lane("idle"),
                               js_object({"timeout": IDLE_TIMEOUT_MS}))
    if shown is not None and lane.renewal_due(shown):
        start_full_lane("renewal")
    await follow_until_handed_over(lane)


async def follow_until_handed_over(lane: FirstLane) -> None:
    """The first look comes a tick after the paint: run at once, it read and parsed the
    stored login a second time before the browser could show the first. asyncio is
    imported here, after the paint: importing it cost about 2 ms of a new tab's start."""
    import asyncio

    while True:
        await asyncio.sleep(TICK_SECONDS)
        if full_lane_running():
            return
        lane.follow()


async def main(settings_text: str | None) -> None:
    """The lane, from auth_config.json's text (None: it could not be read), which the
    boot module fetched while MicroPython started: the first paint waits for no request
    of its own."""
    global document
    document = js.document
    try:
        await run(settings_text)
    except Exception as error:  # settings, storage, anything: the full lane says it in words
        js.console.warn("first lane: handing over: " + repr(error))
        start_full_lane("fallback")

