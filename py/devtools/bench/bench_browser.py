"""One measured page load, or one login round trip, in Chromium (devtools/bench/bench.py
runs them).

Times are page-side (performance.now(), zero = navigation start), recorded by an init
script (bench_assets/probe.js), so Playwright's own overhead is not counted. Bytes are
counted twice: all of a load (DevTools' encoded lengths of every finished request) and,
from resource timing on the page's clock, what arrived before the right state showed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.bench.bench_site import BenchError, asset
from devtools.chromium import CHROMIUM_ARGS, chromium_executable
from devtools.page_steps import close_tab, log_in, sign_in_at_provider

DEMO_USER = ("alice", "alice-demo")
LOAD_TIMEOUT_MS = 120_000
# Frames keep being checked this long after the last awaited moment, to catch late flicker.
SETTLE_MS = 300
# An on-demand page is watched this long after the right state for a Pyodide request:
# past the idle policy's longest wait (IDLE_TIMEOUT_MS, 2 s, in py/app/first_lane.py).
WATCH_MS = 3000
# DevTools throttling takes bytes per second.
LINK = {"offline": False, "latency": 40,
        "downloadThroughput": 20_000_000 / 8, "uploadThroughput": 5_000_000 / 8}
# What the full lane's runtime is: any file of the vendored Pyodide.
PYODIDE_FILES = "vendor/pyodide/"

PROBE_SCRIPT = asset("probe.js")
STORAGE_SCRIPT = asset("storage.js")
RESOURCES_SCRIPT = asset("resources.js")
WAIT_SCRIPT = asset("wait.js")
PROVIDER_PROBE_SCRIPT = asset("provider_probe.js")
# The page's record of a login's return (bench_assets/probe.js), with the click's epoch
# time it kept in sessionStorage and the callback page's navigation entry.
CALLBACK_SCRIPT = """() => {
  const entry = performance.getEntriesByType("navigation")[0];
  return {bench: window.__bench, click: sessionStorage.getItem("__bench_login_click"),
          url: entry.name, fetchStart: entry.fetchStart, redirectCount: entry.redirectCount};
}"""

# What a load waits for once the right state shows (then SETTLE_MS more).
SETTLE = "settle"  # nothing: a page with one runtime
FULL_LANE = "full-lane"  # data-lane="full": the two-lane page's switch, included
WATCH = "watch"  # WATCH_MS: a page that should start no full lane by itself


@dataclass
class Sample:
    """One page load, as the page saw it."""

    mode: str
    round: int
    kind: str
    ready_ms: float
    checking_painted_ms: float | None
    fcp_ms: float | None
    wrong_frames: int
    frames: int
    bytes: int
    requests: int
    bytes_before_ready: int
    first_lane_ms: float | None  # data-lane="first"
    full_lane_ms: float | None  # data-lane="full"
    full_lane_reason: str | None  # data-full-lane
    pyodide_requested_ms: float | None  # the first request for a Pyodide file
    # [path below the site (or URL), start, end, bytes], the page first
    resources: list[list[Any]]
    # [event ("first-lane:progress MicroPython started", "py:ready", ...), time]
    events: list[list[Any]]
    wall_s: float  # bookkeeping only (perf_counter around the whole load)


@dataclass
class Storage:
    """Keys a page's init script puts in place (or, `items` None, removes by prefix)
    before the page's scripts run; only while `guard` is absent."""

    prefix: str
    guard: str
    items: dict[str, str] | None


@dataclass
class Target:
    """What one load opens: the URL, the stored session, the state it must end in and
    what it waits for after that."""

    kind: str
    url: str
    expected: str
    storage: Storage | None
    after: str = SETTLE


@dataclass
class LoginSample:
    """One login from a signed-out page, as the pages saw it: to the provider's sign-in
    page and back."""

    mode: str
    round: int
    kind: str  # app_login, js_login
    # click on .btn-login (app page, epoch) -> #username painted (provider page, epoch)
    to_provider_ms: float
    to_provider_wall_ms: float  # the same by Python's clock around Playwright's click/wait
    # callback page, from its request (navigation entry fetchStart, after the provider's
    # redirects) to the first frame with data-session="authenticated" and the nickname
    return_ms: float
    return_nav_ms: float  # the same from the callback page's navigation start (0)
    return_state_ms: float  # data-session="authenticated" from navigation start
    callback_fetch_start_ms: float  # the provider's part: sign-in POST and redirects
    wrong_frames: int  # on the callback page
    wall_s: float


@dataclass
class LoginTarget:
    """Where a login starts: the signed-out page, what it waits for before the click."""

    kind: str
    url: str
    after: str = SETTLE


def login_figures(click: float, provider: dict[str, Any], callback: dict[str, Any],
                  expected_url: str) -> dict[str, Any]:
    """The page-side figures of one login: epoch times for the trip out (the click on the
    app page, the sign-in field painted on the provider's), the callback page's own clock
    for the way back. Refuses a record that is not a callback's."""
    bench = callback["bench"]
    if not callback["url"].startswith(expected_url) or "code=" not in callback["url"]:
        raise BenchError(f"not a callback of {expected_url}: {callback['url']}")
    states = [entry for entry in bench["states"] if entry["state"] != "checking"]
    if not states or any(entry["state"] != "authenticated" for entry in states):
        raise BenchError(f"the callback page went {bench['states']}")
    if bench["profileShown"] is None or provider.get("usernamePainted") is None:
        raise BenchError("the profile or the sign-in page was never painted")
    painted = provider["timeOrigin"] + provider["usernamePainted"]
    return {
        "to_provider_ms": round(painted - click, 1),
        "return_ms": round(bench["profileShown"] - callback["fetchStart"], 1),
        "return_nav_ms": round(bench["profileShown"], 1),
        "return_state_ms": round(states[0]["t"], 1),
        "callback_fetch_start_ms": round(callback["fetchStart"], 1),
        "wrong_frames": len(bench["wrongFrames"]),
    }


def provider_probe_script(issuer: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(issuer)
    return js_template(PROVIDER_PROBE_SCRIPT, provider_origin=f"{parts.scheme}://{parts.netloc}")


def clear_sessions(context: Any, cdp: Any, origin: str) -> None:
    """A signed-out start for the next login: no provider session (cookies) and no
    stored login on the site's origin (localStorage, IndexedDB)."""
    context.clear_cookies()
    cdp.send("Storage.clearDataForOrigin",
             {"origin": origin, "storageTypes": "cookies,local_storage,indexeddb"})


def measure_login(context: Any, target: LoginTarget, *, mode: str, round_: int,
                  origin: str) -> LoginSample:
    """Open the signed-out page, wait for it (the app: its full lane too, a page at rest),
    click Log in, wait for the provider's sign-in page, sign in as the demo user, wait for
    the profile on the callback page. The context must run provider_probe_script."""
    started = time.perf_counter()
    page, cdp, _ = open_tab(context, link=False)
    try:
        clear_sessions(context, cdp, origin)
        page.goto(target.url, wait_until="commit")
        wait_for_final_state(page, target.after)
        state = page.evaluate("document.body.dataset.session")
        if state != "anonymous":
            raise BenchError(f"a login must start signed out; {target.url} is {state!r}")
        before = time.time()
        page.click(".btn-login")
        page.wait_for_selector("#username", state="visible", timeout=LOAD_TIMEOUT_MS)
        wall = (time.time() - before) * 1000
        provider = page.evaluate("window.__benchProvider")
        for _ in range(20):  # the post-paint message comes a frame later at most
            if provider and provider["usernamePainted"] is not None:
                break
            page.wait_for_timeout(50)
            provider = page.evaluate("window.__benchProvider")
        sign_in_at_provider(page, *DEMO_USER)
        wait_for(page, "body[data-session='authenticated'] .nickname:not(:empty)",
                 "the profile after the login")
        page.wait_for_timeout(SETTLE_MS)
        callback = page.evaluate(CALLBACK_SCRIPT)
        if callback["click"] is None:
            raise BenchError("the click on .btn-login was not recorded")
        figures = login_figures(float(callback["click"]), provider or {}, callback,
                                target.url)
    finally:
        with contextlib.suppress(Exception):
            cdp.detach()
        with contextlib.suppress(Exception):
            close_tab(page)
    return LoginSample(mode=mode, round=round_, kind=target.kind,
                       to_provider_wall_ms=round(wall, 1),
                       wall_s=round(time.perf_counter() - started, 2), **figures)


def browser_settings() -> tuple[str | None, list[str]]:
    """The executable and flags the test suite uses too."""
    return chromium_executable(), list(CHROMIUM_ARGS)


def demo_login(page: Any) -> None:
    """Log in as the demo user the way a person does (the e2e suite's steps)."""
    log_in(page, *DEMO_USER)


def js_template(template: str, **values: Any) -> str:
    for name, value in values.items():
        template = template.replace(f"__{name.upper()}__", json.dumps(value))
    return template


@contextlib.contextmanager
def profile(playwright: Any, folder: Path, origin: str) -> Iterator[Any]:
    """A browser on its own user-data-dir, instrumented; closed and deleted on exit."""
    executable, args = browser_settings()
    context = playwright.chromium.launch_persistent_context(
        str(folder), headless=True, executable_path=executable, args=args)
    try:
        context.set_default_timeout(LOAD_TIMEOUT_MS)
        context.add_init_script(js_template(PROBE_SCRIPT, origin=origin))
        yield context
    finally:
        with contextlib.suppress(Exception):  # the browser may already be gone (Ctrl-C)
            context.close()
        shutil.rmtree(folder, ignore_errors=True)


def open_tab(context: Any, link: bool) -> tuple[Any, Any, list[int]]:
    """A new tab with a DevTools session counting encoded bytes of finished requests."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    received: list[int] = []
    cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    cdp.send("Network.enable")
    if link:
        cdp.send("Network.emulateNetworkConditions", LINK)
    return page, cdp, received


def wait_for(page: Any, selector: str, what: str) -> None:
    """Wait for `selector`; a timeout says what did not come and where the page was."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(selector, state="attached", timeout=LOAD_TIMEOUT_MS)
    except PlaywrightTimeout as error:
        body: Any = "unknown"
        with contextlib.suppress(Exception):
            body = page.evaluate("() => Object.assign({}, document.body.dataset)")
        raise PlaywrightTimeout(f"{what} not in {LOAD_TIMEOUT_MS} ms (<body> data: {body})"
                                ) from error


def wait_in_page(page: Any, condition: str, what: str) -> None:
    """Wait until `condition` (a name in bench_assets/wait.js) holds, from inside the page
    through DevTools: unlike Playwright's selector waits, this puts no script of
    Playwright's into the page while it starts. A timeout says what did not come."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    cdp = page.context.new_cdp_session(page)
    try:
        answer = cdp.send("Runtime.evaluate", {
            "expression": js_template(WAIT_SCRIPT, condition=condition,
                                      timeout_ms=LOAD_TIMEOUT_MS),
            "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in answer:
            body = cdp.send("Runtime.evaluate", {
                "expression": "JSON.stringify(Object.assign({}, document.body?.dataset))",
                "returnByValue": True})["result"].get("value")
            raise PlaywrightTimeout(f"{what} not in {LOAD_TIMEOUT_MS} ms (<body> data: {body})")
    finally:
        with contextlib.suppress(Exception):
            cdp.detach()


def wait_for_final_state(page: Any, after: str = SETTLE) -> None:
    wait_in_page(page, "right-state", "the right state")
    if after == FULL_LANE:
        wait_in_page(page, "full-lane", "the full lane")
    elif after == WATCH:
        page.wait_for_timeout(WATCH_MS)
    page.wait_for_timeout(SETTLE_MS)


def site_path(url: str, site_url: str) -> str:
    """A resource's path below the site ("" for the app's page), without its query;
    other origins' URLs whole."""
    url = url.split("?")[0].split("#")[0]
    return url[len(site_url):] if url.startswith(site_url) else url


def resource_figures(entries: list[list[Any]], ready_ms: float, site_url: str
                     ) -> dict[str, Any]:
    resources = [[site_path(url, site_url), round(start, 1), round(end, 1), int(size)]
                 for url, start, end, size in entries]
    pyodide = [start for path, start, _, _ in resources if PYODIDE_FILES in path]
    return {
        "resources": resources,
        "bytes_before_ready": sum(size for _, _, end, size in resources if end <= ready_ms),
        "pyodide_requested_ms": min(pyodide) if pyodide else None,
    }


def sample_from_probe(probe: dict[str, Any], expected: str) -> dict[str, Any]:
    """The page's own record turned into figures; refuses a load that ended wrongly, or
    that left the right state later (the two lanes disagreeing)."""
    final = [entry for entry in probe["states"] if entry["state"] != "checking"]
    if not final or any(entry["state"] != expected for entry in final):
        raise BenchError(f"expected data-session={expected!r}, the page went {probe['states']}")

    def lane_at(name: str) -> float | None:
        return next((_rounded(entry["t"]) for entry in probe["lanes"]
                     if entry["lane"] == name), None)

    reason = probe["fullLaneReason"]
    return {
        "ready_ms": round(final[0]["t"], 1),
        "checking_painted_ms": _rounded(probe["checkingPainted"]),
        "fcp_ms": _rounded(probe["fcp"]),
        "wrong_frames": len(probe["wrongFrames"]),
        "frames": probe["frames"],
        "first_lane_ms": lane_at("first"),
        "full_lane_ms": lane_at("full"),
        "full_lane_reason": reason and reason["reason"],
        "events": [[name, round(t, 1)] for name, t in probe["events"]],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def storage_script(storage: Storage, origin: str) -> str:
    return js_template(STORAGE_SCRIPT, origin=origin, prefix=storage.prefix,
                       guard=storage.guard, items=storage.items)


def measure_load(context: Any, target: Target, *, mode: str, round_: int, link: bool,
                 origin: str, site_url: str) -> Sample:
    started = time.perf_counter()
    page, cdp, received = open_tab(context, link)
    try:
        if target.storage is not None:
            page.add_init_script(storage_script(target.storage, origin))
        page.goto(target.url, wait_until="commit")
        wait_for_final_state(page, target.after)
        figures = sample_from_probe(page.evaluate("window.__bench"), target.expected)
        figures |= resource_figures(page.evaluate(RESOURCES_SCRIPT), figures["ready_ms"],
                                    site_url)
    finally:
        with contextlib.suppress(Exception):
            cdp.detach()
        with contextlib.suppress(Exception):  # a crashed tab may refuse; keep the real error
            close_tab(page)  # a closed tab stops the app's one-second tick from using CPU
    return Sample(mode=mode, round=round_, kind=target.kind, bytes=sum(received),
                  requests=len(received), wall_s=round(time.perf_counter() - started, 2),
                  **figures)


def local_storage(page: Any) -> dict[str, str]:
    return dict(json.loads(page.evaluate("JSON.stringify(Object.assign({}, localStorage))")))


def chromium_version(context: Any) -> str:
    page = context.new_page()
    try:
        cdp = context.new_cdp_session(page)
        return str(cdp.send("Browser.getVersion")["product"])
    finally:
        close_tab(page)
