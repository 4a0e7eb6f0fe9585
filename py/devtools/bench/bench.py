"""Start-up benchmark: the app's page against a bare-Pyodide reference page.

    python -m devtools.bench.bench [--runs 7] [--out bench-results/startup.json] [--skip-link]

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
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from devtools.bench.bench_report import (
    APP_ANONYMOUS,
    APP_AUTHENTICATED,
    KINDS,
    REFERENCE,
    RUNTIME_FLOOR,
    markdown_table,
    mode_figures,
    modes_in,
    targets,
)
from devtools.build.build import BYTECODE_ZIP, FAST_INTERPRETER, build_site, pyjwt_wheel
from devtools.chromium import CHROMIUM_ARGS, chromium_executable
from devtools.page_steps import log_in
from devtools.paths import ROOT
from devtools.servers.node_provider_process import start_node_provider
from devtools.servers.serve import GZIP_SUFFIXES, serve_in_thread

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



# The benchmark's own page parts and in-page scripts: real files, read as templates.
ASSETS = Path(__file__).with_name("bench_assets")
PROBE_SCRIPT = (ASSETS / "probe.js").read_text()
STORAGE_SCRIPT = (ASSETS / "storage.js").read_text()
FLOOR_MODULE = (ASSETS / "floor.mjs").read_text()
REFERENCE_MODULE = (ASSETS / "reference.mjs").read_text()
# The two bare pages (reference, runtime floor): one module script and the
# checking line; the script sets data-session once its runtime is up.
BARE_PAGE_HTML = (ASSETS / "bare_page.html").read_text()
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
