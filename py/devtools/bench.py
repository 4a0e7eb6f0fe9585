"""Start-up benchmark: the app's page against a bare-Pyodide reference page.

    python py/devtools/bench.py [--runs 7] [--out bench-results/startup.json] [--skip-link]

Builds the site for the local provider it starts (node-oidc-provider, client id
bench-spa), adds a reference page (reference/: loadPyodide, loadPackage(PyJWT wheel), import jwt,
then data-session="anonymous") and a runtime-floor page (floor/: the app's own
interpreter module, pyodide-fast.mjs, with its bytecode zips, nothing else: no
target, it shows how much of the app's time the runtime alone takes), serves
them like GitHub Pages under
/bench/ and loads them in Chromium, interleaved:

- warm: one persistent profile per page, primed by one load; every measured load
  is a new tab in that running browser (disk cache and wasm code cache filled);
- cold: a new profile (new user-data-dir, new browser) for every load;
- link: cold again, under DevTools network emulation (20/5 Mbit/s, 40 ms).

The stored session for the "authenticated" loads comes from one real login (demo
user, local provider) in the warm app profile; every authenticated load gets it
from a per-tab init script that writes it to localStorage, only if absent, before
the page's own scripts run (a cold profile has never seen the origin).

Times are page-side (performance.now(), zero = navigation start), recorded by an
init script, so Playwright's own overhead is not counted. This is a report, not a
test: it prints a Markdown table, writes every sample to JSON and never fails on
slow numbers. The targets in the JSON say how far the page is from its goals.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

if __package__ in (None, ""):  # run as a script: make `devtools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.build import BYTECODE_ZIP, FAST_INTERPRETER, ROOT, build_site, pyjwt_wheel
from devtools.node_provider_process import start_node_provider
from devtools.serve import GZIP_SUFFIXES, serve_in_thread

CLIENT_ID = "bench-spa"
BASE_PATH = "/bench/"
# The app's keys in localStorage (oidc_spa.store.SessionStore): the pointer to the
# signed-in login, and the login's record.
APP_KEY_PREFIX = f"oidc_spa:{CLIENT_ID}:"
DEMO_USER = ("alice", "alice-demo")
DEFAULT_OUT = ROOT / "bench-results" / "startup.json"
LOAD_TIMEOUT_MS = 120_000
# Frames keep being checked this long after the final state, to catch late flicker.
SETTLE_MS = 300
# DevTools throttling takes bytes per second.
LINK = {"offline": False, "latency": 40,
        "downloadThroughput": 20_000_000 / 8, "uploadThroughput": 5_000_000 / 8}
RATIO_TARGETS = {"warm": 0.40, "cold": 0.45, "link": 0.60}
CHECKING_PAINTED_TARGET_MS = 200.0
# How each figure is taken, written into the JSON for whoever reads it later.
METHOD = {
    "times": "performance.now() in the page (0 = navigation start), by init script",
    "ready_ms": "MutationObserver: data-session first becomes anonymous/authenticated",
    "checking_painted_ms": "rAF polling: first frame with #checking-message visible; "
    "time of a MessageChannel message posted in that rAF (runs after the frame's paint)",
    "fcp_ms": "PerformanceObserver first-contentful-paint (cross-check)",
    "wrong_frames": "rAF frames with a button shown while checking, or a shown "
    "login/logout button that disagrees with data-session",
    "bytes": "sum of CDP Network.loadingFinished encodedDataLength for the tab",
    "cold": "new user-data-dir and browser per load",
    "warm": "one profile per page, primed by one load; new tab per measured load",
    "stored_session": "per-tab init script sets localStorage key if absent",
    "link": "CDP Network.emulateNetworkConditions, cold loads only",
    "runtime_floor": "floor/: the app's interpreter module (pyodide-fast.mjs: Pyodide with the "
    "app's bytecode zips, hinted as in the app), nothing else; warm loads share the app's "
    "profile",
}

# The page loads of a round: (kind, URL path below the site, stored session?, final state).
APP_ANONYMOUS = "app_anonymous"
APP_AUTHENTICATED = "app_authenticated"
REFERENCE = "reference"
# Not a target, a yardstick: what booting the same runtime costs with nothing on top.
RUNTIME_FLOOR = "runtime_floor"
KINDS = (APP_ANONYMOUS, REFERENCE, RUNTIME_FLOOR, APP_AUTHENTICATED)

# Runs in every document before its own scripts (context init script). Times are
# performance.now(): milliseconds since this document's navigation started.
# - state changes: a MutationObserver on data-session (the app's only state signal);
# - "checking painted": rAF polling. A rAF callback runs just before the frame is
#   rendered, so the first callback that finds #checking-message visible belongs to
#   the first frame that shows it; a MessageChannel message posted there is handled
#   right after that frame's paint, and its time is the figure. first-contentful-paint
#   (PerformanceObserver) is recorded beside it as a cross-check.
# - wrong-state frames: the same rAF loop checks, every frame, that no button shows
#   while checking and that a shown button matches data-session.
PROBE_SCRIPT = """
(() => {
  if (window !== window.top || location.origin !== __ORIGIN__) return;
  const bench = window.__bench = {
    states: [], frames: 0, wrongFrames: [], checkingFrame: null, checkingPainted: null,
    fcp: null, firstFrame: null,
  };
  const shown = (el) => !!el && el.checkVisibility();
  new MutationObserver(() => {
    const state = document.body && document.body.dataset.session;
    const last = bench.states[bench.states.length - 1];
    if (!last || last.state !== state) bench.states.push({state, t: performance.now()});
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-session"]});
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.name === "first-contentful-paint") bench.fcp = entry.startTime;
    }
  }).observe({type: "paint", buffered: true});
  const frame = (t) => {
    const body = document.body;
    if (body) {
      const state = body.dataset.session;
      const login = shown(document.querySelector(".btn-login"));
      const logout = shown(document.querySelector(".btn-logout"));
      const anyButton = [...document.querySelectorAll("button")].some(shown);
      bench.frames += 1;
      if (bench.firstFrame === null) bench.firstFrame = {t, state, login, logout};
      if ((login && state !== "anonymous") || (logout && state !== "authenticated")
          || (state === "checking" && anyButton)) {
        bench.wrongFrames.push({t, state, login, logout, anyButton});
      }
      if (bench.checkingFrame === null && shown(document.getElementById("checking-message"))) {
        bench.checkingFrame = t;
        const channel = new MessageChannel();
        channel.port1.onmessage = () => { bench.checkingPainted = performance.now(); };
        channel.port2.postMessage(null);
      }
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();
"""

# Per-tab init script: puts the stored session's keys in place before the page's
# Python reads them (ITEMS null removes the app's keys). It only sets them when no
# login is signed in, so it never overwrites what the page itself wrote.
STORAGE_SCRIPT = """
(() => {
  if (window !== window.top || location.origin !== __ORIGIN__) return;
  const prefix = __PREFIX__, items = __ITEMS__;
  if (items === null) {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(prefix)) localStorage.removeItem(key);
    }
  } else if (localStorage.getItem(prefix + "current") === null) {
    for (const [key, value] of Object.entries(items)) localStorage.setItem(key, value);
  }
})();
"""

# The two bare pages (reference, runtime floor): one module script and the
# checking line; the script sets data-session once its runtime is up.
BARE_PAGE_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>__TITLE__</title>
  __HEAD__<script type="module" src="./boot.mjs"></script>
</head>
<body data-session="checking">
  <p id="checking-message">Checking your session&hellip;</p>
</body>
</html>
"""
REFERENCE_HTML = BARE_PAGE_HTML.replace("__TITLE__", "Reference: bare Pyodide + PyJWT") \
    .replace("__HEAD__", "")

# The runtime floor: the fast build's interpreter module (Pyodide with the app's
# bytecode zips), booted bare with the same hints, no PyScript and no page code.
# What the app spends above it is PyScript and the page itself.
FLOOR_HTML = BARE_PAGE_HTML.replace(
    "__TITLE__", "Runtime floor: the app's Pyodide and bytecode zips"
).replace("__HEAD__", '<link rel="modulepreload" href="../vendor/pyodide/pyodide.mjs">\n  '
          '<link rel="modulepreload" href="../vendor/pyodide/pyodide.asm.mjs">\n  '
          '<link rel="preload" href="../vendor/pyodide/__ZIP__" as="fetch" crossorigin>\n  ')
FLOOR_MODULE = """import { loadPyodide } from "../vendor/pyodide/__INTERPRETER__";

await loadPyodide();
document.body.dataset.session = "anonymous";
"""

# The least a Python page needs: the same vendored Pyodide, PyJWT, one import.
REFERENCE_MODULE = """import { loadPyodide } from "../vendor/pyodide/pyodide.mjs";

const pyodide = await loadPyodide({
  indexURL: new URL("../vendor/pyodide/", import.meta.url).href,
  // The stock standard library (the app's build replaces it with bytecode).
  stdLibURL: new URL("./python_stdlib.zip", import.meta.url).href,
});
await pyodide.loadPackage(new URL("./__WHEEL__", import.meta.url).href);
pyodide.runPython("import jwt");
document.body.dataset.session = "anonymous";
"""


# Set on Ctrl-C. The terminal signals Chromium too, which may die before Python sees
# its KeyboardInterrupt: the browser error that follows must then stop the run, not
# be retried.
INTERRUPTED = threading.Event()


def on_interrupt(signum: int, frame: FrameType | None) -> None:
    INTERRUPTED.set()
    signal.default_int_handler(signum, frame)


class BenchError(RuntimeError):
    """A page did not reach the state it should have; the message says which."""


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
    wall_s: float  # bookkeeping only (perf_counter around the whole load)


@dataclass
class Stats:
    median: float
    min: float
    max: float
    n: int


# -- the site ---------------------------------------------------------------


def write_reference_page(site: Path, wheel: Path) -> None:
    folder = site / "reference"
    folder.mkdir()
    shutil.copy2(wheel, folder / wheel.name)
    shutil.copy2(ROOT / "node_modules" / "pyodide" / "python_stdlib.zip", folder)
    (folder / "index.html").write_text(REFERENCE_HTML)
    (folder / "boot.mjs").write_text(REFERENCE_MODULE.replace("__WHEEL__", wheel.name))


def write_floor_page(site: Path) -> None:
    folder = site / "floor"
    folder.mkdir()
    (folder / "index.html").write_text(FLOOR_HTML.replace("__ZIP__", BYTECODE_ZIP))
    (folder / "boot.mjs").write_text(FLOOR_MODULE.replace("__INTERPRETER__", FAST_INTERPRETER))


def build_bench_site(site: Path, issuer: str) -> None:
    build_site(site, {"issuer": issuer, "clientId": CLIENT_ID})
    write_reference_page(site, pyjwt_wheel(ROOT / ".cache" / "wheels"))
    write_floor_page(site)


def prefill_gzip_cache(site: Path, url: str) -> None:
    """Ask once for every compressible file: the server gzips on first request
    (seconds for the .wasm), which would otherwise land in the first measured load."""
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix in GZIP_SUFFIXES:
            request = urllib.request.Request(url + path.relative_to(site).as_posix(),
                                             headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()


# -- the browser ------------------------------------------------------------


def browser_settings() -> tuple[str | None, list[str]]:
    """The executable and flags the test suite uses (tests/conftest.py owns them)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from conftest import CHROMIUM_ARGS, chromium_executable

    return chromium_executable(), list(CHROMIUM_ARGS)


def demo_login(page: Any) -> None:
    """Log in as the demo user the way a person does (the e2e suite's steps)."""
    e2e = str(ROOT / "tests" / "e2e")
    if e2e not in sys.path:
        sys.path.insert(0, e2e)
    from helpers import log_in

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


def wait_for_final_state(page: Any) -> None:
    page.wait_for_selector("body[data-session]:not([data-session='checking'])",
                           state="attached", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(SETTLE_MS)


def sample_from_probe(probe: dict[str, Any], expected: str) -> dict[str, Any]:
    """The page's own record turned into figures; refuses a load that ended wrongly."""
    final = [entry for entry in probe["states"] if entry["state"] != "checking"]
    if not final or final[0]["state"] != expected:
        raise BenchError(f"expected data-session={expected!r}, the page went {probe['states']}")
    return {
        "ready_ms": round(final[0]["t"], 1),
        "checking_painted_ms": _rounded(probe["checkingPainted"]),
        "fcp_ms": _rounded(probe["fcp"]),
        "wrong_frames": len(probe["wrongFrames"]),
        "frames": probe["frames"],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class Target:
    """What one load opens: the URL, the stored session to put in place, the end state."""

    kind: str
    url: str
    session: dict[str, str] | None
    expected: str
    set_storage: bool


def measure_load(context: Any, target: Target, *, mode: str, round_: int, link: bool,
                 origin: str) -> Sample:
    started = time.perf_counter()
    page, cdp, received = open_tab(context, link)
    try:
        if target.set_storage:
            page.add_init_script(js_template(STORAGE_SCRIPT, origin=origin,
                                             prefix=APP_KEY_PREFIX, items=target.session))
        page.goto(target.url, wait_until="commit")
        wait_for_final_state(page)
        figures = sample_from_probe(page.evaluate("window.__bench"), target.expected)
    finally:
        with contextlib.suppress(Exception):
            cdp.detach()
        with contextlib.suppress(Exception):  # a crashed tab may refuse; keep the real error
            page.close()  # a closed tab stops the app's one-second tick from using CPU
    return Sample(mode=mode, round=round_, kind=target.kind, bytes=sum(received),
                  requests=len(received), wall_s=round(time.perf_counter() - started, 2),
                  **figures)


def chromium_version(context: Any) -> str:
    page = context.new_page()
    try:
        cdp = context.new_cdp_session(page)
        return str(cdp.send("Browser.getVersion")["product"])
    finally:
        page.close()


# -- the runs ---------------------------------------------------------------


Progress = Callable[[str], None]


@dataclass
class Bench:
    """Everything a phase needs: Playwright, the site, the session record, where to log."""

    playwright: Any
    work: Path
    app_url: str
    reference_url: str
    origin: str
    progress: Progress
    session_record: dict[str, str] | None = None
    retries: list[str] = field(default_factory=list)

    def targets(self, round_: int) -> list[Target]:
        """The round's loads; every other round in reverse order, so no page
        always goes first (slow drift of the machine then evens out)."""
        by_kind = {
            APP_ANONYMOUS: Target(APP_ANONYMOUS, self.app_url, None, "anonymous", True),
            REFERENCE: Target(REFERENCE, self.reference_url, None, "anonymous", False),
            RUNTIME_FLOOR: Target(RUNTIME_FLOOR, self.app_url + "floor/", None, "anonymous",
                                  False),
            APP_AUTHENTICATED: Target(APP_AUTHENTICATED, self.app_url, self.session_record,
                                      "authenticated", True),
        }
        order = KINDS if round_ % 2 == 0 else tuple(reversed(KINDS))
        return [by_kind[kind] for kind in order]

    def new_profile(self, name: str) -> contextlib.AbstractContextManager[Any]:
        return profile(self.playwright, Path(tempfile.mkdtemp(prefix=name, dir=self.work)),
                       self.origin)

    def retry_once[T](self, what: str, attempt: Callable[[], T]) -> T:
        """A renderer crash (seen now and then on this machine) costs one retry, on the
        record, instead of the whole run; a second failure or a wrong state ends it."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            return attempt()
        except PlaywrightError as error:
            if INTERRUPTED.is_set():
                raise KeyboardInterrupt from error
            self.retries.append(f"{what}: {str(error).splitlines()[0]}")
            self.progress(f"{what} failed ({self.retries[-1]}); retrying once")
            return attempt()

    def log(self, sample: Sample) -> None:
        painted = sample.checking_painted_ms
        self.progress(
            f"{sample.mode} #{sample.round + 1} {sample.kind}: {sample.ready_ms:.0f} ms, "
            f"checking painted {painted if painted is not None else '-'} ms, "
            f"{sample.bytes / 1e6:.2f} MB, {sample.wrong_frames} wrong frames"
        )


def prime_warm_profiles(bench: Bench, app: Any, reference: Any) -> None:
    """One load of each page (the floor's in the app's profile, as it shares its files);
    the app's profile also logs in and keeps the session record."""
    page = app.new_page()
    page.goto(bench.app_url)
    wait_for_final_state(page)
    demo_login(page)
    items = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    bench.session_record = {key: value for key, value in json.loads(items).items()
                            if key.startswith(APP_KEY_PREFIX)}
    page.close()
    if APP_KEY_PREFIX + "current" not in bench.session_record:
        raise BenchError(f"no {APP_KEY_PREFIX}current in localStorage after logging in")
    for context, url in ((reference, bench.reference_url), (app, bench.app_url + "floor/")):
        page = context.new_page()
        page.goto(url)
        wait_for_final_state(page)
        page.close()


def run_warm(bench: Bench, runs: int) -> tuple[list[Sample], str]:
    """Warm loads; also logs in (the session record the cold loads reuse)."""
    samples: list[Sample] = []
    with bench.new_profile("warm-app-") as app, bench.new_profile("warm-ref-") as reference:
        bench.retry_once("priming", lambda: prime_warm_profiles(bench, app, reference))
        version = chromium_version(app)
        for round_ in range(runs):
            for target in bench.targets(round_):
                context = reference if target.kind == REFERENCE else app
                load = partial(measure_load, context, target, mode="warm", round_=round_,
                               link=False, origin=bench.origin)
                sample = bench.retry_once(f"warm #{round_ + 1} {target.kind}", load)
                bench.log(sample)
                samples.append(sample)
    return samples, version


def cold_load(bench: Bench, target: Target, mode: str, round_: int) -> Sample:
    with bench.new_profile(f"{mode}-") as context:
        return measure_load(context, target, mode=mode, round_=round_, link=mode == "link",
                            origin=bench.origin)


def run_cold(bench: Bench, runs: int, *, link: bool) -> list[Sample]:
    """Every load in a brand-new profile: empty disk cache and wasm code cache."""
    samples: list[Sample] = []
    mode = "link" if link else "cold"
    for round_ in range(runs):
        for target in bench.targets(round_):
            load = partial(cold_load, bench, target, mode, round_)
            sample = bench.retry_once(f"{mode} #{round_ + 1} {target.kind}", load)
            bench.log(sample)
            samples.append(sample)
    return samples


@contextlib.contextmanager
def bench_stack(work: Path, progress: Progress) -> Iterator[Bench]:
    """Server, provider, built site and Playwright; all stopped on exit (Ctrl-C too)."""
    from playwright.sync_api import sync_playwright

    site = work / "site"
    site.mkdir()
    # The server starts first: its address is the redirect URI the provider must know.
    with serve_in_thread(site, BASE_PATH) as url, start_node_provider(
        client_id=CLIENT_ID, redirect_uris=[url], post_logout_redirect_uris=[url],
        allowed_origins=[url.split(BASE_PATH)[0]],
    ) as provider, sync_playwright() as playwright:
        progress(f"building the site into {site}")
        build_bench_site(site, provider.issuer)
        prefill_gzip_cache(site, url)
        yield Bench(playwright, work, url, url + "reference/", url.split(BASE_PATH)[0],
                    progress)


def collect(runs: int, *, skip_link: bool, progress: Progress) -> dict[str, Any]:
    """Run every phase; returns the raw samples and the machine facts."""
    with tempfile.TemporaryDirectory(prefix="oidc-bench-", ignore_cleanup_errors=True) as tmp, \
            bench_stack(Path(tmp), progress) as bench:
        # Warm first: right after priming, well inside the 600 s the cache may keep files.
        samples, version = run_warm(bench, runs)
        samples += run_cold(bench, runs, link=False)
        if not skip_link:
            samples += run_cold(bench, runs, link=True)
        retries = bench.retries
    return {"samples": [asdict(sample) for sample in samples], "chromium": version,
            "retries": retries}


# -- the report -------------------------------------------------------------


def stats(values: Sequence[float | None]) -> Stats | None:
    present = [value for value in values if value is not None]
    if not present:
        return None
    return Stats(round(statistics.median(present), 1), min(present), max(present), len(present))


def values_of(samples: Sequence[dict[str, Any]], mode: str, kinds: Sequence[str],
              field: str) -> list[Any]:
    return [s[field] for s in samples if s["mode"] == mode and s["kind"] in kinds]


def figure(name: str, unit: str, app: Stats | None, reference: Stats | None) -> dict[str, Any]:
    ratio = None
    if app is not None and reference is not None and reference.median > 0:
        ratio = round(app.median / reference.median, 3)
    return {"name": name, "unit": unit, "app": app and asdict(app),
            "reference": reference and asdict(reference), "ratio": ratio}


APP_KINDS = (APP_ANONYMOUS, APP_AUTHENTICATED)


def mode_figures(samples: Sequence[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """The figures of one mode. The reference has one state only, so both app times are
    set against its anonymous time; before Python runs both app loads are alike, so
    checking-painted and wrong frames pool them."""
    ref_ready = stats(values_of(samples, mode, [REFERENCE], "ready_ms"))

    def app(kinds: Sequence[str], field: str) -> Stats | None:
        return stats(values_of(samples, mode, kinds, field))

    figures = [
        figure(f"{mode} anonymous", "ms", app([APP_ANONYMOUS], "ready_ms"), ref_ready),
        figure(f"{mode} authenticated", "ms", app([APP_AUTHENTICATED], "ready_ms"), ref_ready),
        figure(f"{mode} checking painted", "ms", app(APP_KINDS, "checking_painted_ms"),
               stats(values_of(samples, mode, [REFERENCE], "checking_painted_ms"))),
        figure(f"{mode} wrong-state frames", "frames", app(APP_KINDS, "wrong_frames"), None),
        # In the app column: the bare runtime, the part of the app's time no page code sets.
        figure(f"{mode} runtime floor (app's runtime, no PyScript)", "ms",
               app([RUNTIME_FLOOR], "ready_ms"), ref_ready),
    ]
    if mode != "warm":  # warm loads come from the cache: their byte counts say little
        figures.append(figure(f"{mode} bytes transferred", "bytes",
                              app([APP_ANONYMOUS], "bytes"),
                              stats(values_of(samples, mode, [REFERENCE], "bytes"))))
    return figures


def modes_in(samples: Sequence[dict[str, Any]]) -> list[str]:
    return [mode for mode in ("warm", "cold", "link") if any(s["mode"] == mode for s in samples)]


def targets(samples: Sequence[dict[str, Any]], figures: Sequence[dict[str, Any]]
            ) -> list[dict[str, Any]]:
    by_name = {item["name"]: item for item in figures}
    result = []
    for mode in modes_in(samples):
        for state in ("anonymous", "authenticated"):
            ratio = by_name[f"{mode} {state}"]["ratio"]
            result.append(_target(f"{mode} {state} ratio", ratio, RATIO_TARGETS[mode]))
        painted = by_name[f"{mode} checking painted"]["app"]
        result.append(_target(f"{mode} checking painted (median ms)",
                              painted and painted["median"], CHECKING_PAINTED_TARGET_MS))
    wrong = sum(s["wrong_frames"] for s in samples if s["kind"] in APP_KINDS)
    result.append(_target("wrong-state frames (all app loads)", wrong, 0))
    return result


def _target(name: str, value: float | None, limit: float) -> dict[str, Any]:
    return {"name": name, "value": value, "limit": limit,
            "pass": value is not None and value <= limit}


def summarise(raw: dict[str, Any], runs: int, skip_link: bool) -> dict[str, Any]:
    samples = raw["samples"]
    figures = [item for mode in modes_in(samples) for item in mode_figures(samples, mode)]
    return {
        "machine": {"nproc": os.cpu_count(), "chromium": raw["chromium"],
                    "platform": platform.platform(), "python": platform.python_version(),
                    "date": datetime.now(UTC).isoformat(timespec="seconds")},
        "settings": {"runs": runs, "skip_link": skip_link, "link": LINK,
                     "settle_ms": SETTLE_MS, "base_path": BASE_PATH, "method": METHOD},
        "figures": figures,
        "targets": targets(samples, figures),
        "retries": raw["retries"],
        "samples": samples,
    }


DASH = "\u2013"  # an en dash, for ranges and empty cells


def format_value(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / 1e6:.2f} MB"
    return f"{value:.0f}" + (" ms" if unit == "ms" else "")


def format_stats(item: dict[str, Any] | None, unit: str) -> str:
    if item is None:
        return DASH
    low, high = format_value(item["min"], unit), format_value(item["max"], unit)
    return f"{format_value(item['median'], unit)} ({low}{DASH}{high})"


def markdown_table(report: dict[str, Any]) -> str:
    span = f"median (min{DASH}max)"
    lines = [f"| figure | app {span} | reference {span} | ratio |", "|---|---|---|---|"]
    for item in report["figures"]:
        ratio = DASH if item["ratio"] is None else f"{item['ratio']:.2f}"
        lines.append(f"| {item['name']} | {format_stats(item['app'], item['unit'])} | "
                     f"{format_stats(item['reference'], item['unit'])} | {ratio} |")
    lines += ["", "| target | value | limit | |", "|---|---|---|---|"]
    for item in report["targets"]:
        verdict = "pass" if item["pass"] else "FAIL"
        lines.append(f"| {item['name']} | {item['value']} | ≤ {item['limit']} | {verdict} |")
    return "\n".join(lines)


def run_benchmark(runs: int, *, skip_link: bool, progress: Progress) -> dict[str, Any]:
    started = time.perf_counter()
    report = summarise(collect(runs, skip_link=skip_link, progress=progress), runs, skip_link)
    report["machine"]["duration_s"] = round(time.perf_counter() - started, 1)
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="loads per page and mode")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON report")
    parser.add_argument("--skip-link", action="store_true",
                        help="no runs under the emulated 20 Mbit/s link")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def progress(line: str) -> None:
        print(f"bench: {line}", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    INTERRUPTED.clear()
    try:
        report = run_benchmark(args.runs, skip_link=args.skip_link, progress=progress)
    except BenchError as error:
        progress(f"error: {error}")
        return 1
    except BaseException:
        if not INTERRUPTED.is_set():
            raise
        progress("interrupted; browsers, servers and temp folders are cleaned up")
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown_table(report))
    print(f"\n{report['machine']['duration_s']} s; samples in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
