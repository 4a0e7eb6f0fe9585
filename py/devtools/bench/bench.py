"""Start-up benchmark: the app's two-lane page against a JavaScript page and bare Pyodide.

    python -m devtools.bench.bench [--runs 7] [--out bench-results/startup.json] [--skip-link]

Builds the site for the local provider it starts (node-oidc-provider, client id
bench-spa) with, beside the app (devtools/bench/bench_site.py):

- js/: the JavaScript reference, oidc-client-ts 3.5.0 (npm, its browser bundle vendored)
  making the app's start-up decision: auth_config.json, a UserManager with the same
  settings on localStorage, `await getUser()`, data-session;
- reference/: bare Pyodide (loadPyodide, loadPackage(PyJWT wheel), import jwt);
- floor/: the app's own interpreter module (pyodide-fast.mjs with its bytecode zips),
  nothing else: no target, it shows what the full lane's runtime alone takes;
- policy-eager/, policy-on-demand/: the app built with that `fullLane` (the app itself
  runs the default, idle),

serves them like GitHub Pages under /bench/ and loads them in Chromium, interleaved:

- warm: one persistent profile per page family (app, JS, Pyodide reference), primed by
  one load of each page; every measured load is a new tab in that running browser;
- cold: a new profile (new user-data-dir, new browser) for every load;
- link: cold again, under DevTools network emulation (20/5 Mbit/s, 40 ms).

A load of the app waits past the right state for its full lane (data-lane="full"), so
its wrong-frame count covers the lane switch; the on-demand build is watched 3 s for a
Pyodide request instead. The stored session for the "authenticated" loads comes from one
real login (demo user, local provider) in the warm app profile; the JavaScript page gets
the same tokens as oidc-client-ts stores a user. Each authenticated load gets its keys
from a per-tab init script that writes them to localStorage, only if absent, before the
page's own scripts run (a cold profile has never seen the origin).

Then the login round trip (issue #11), warm and cold, at least 3 logins each for the app
and the JavaScript page (which logs in with signinRedirect / signinRedirectCallback, its
own folder registered as a redirect URI): from the click on Log in to the provider's
sign-in page, and from the callback URL to the profile shown. Each login starts with no
provider session and nothing stored: warm in a profile of its own per page (primed by
one login), cold in a new profile.

Times are page-side (performance.now(), zero = navigation start). This is a report, not
a test: it prints Markdown tables, writes every sample to JSON and never fails on slow
numbers. The targets (issue #11) in the JSON say how far the page is from its goals.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from devtools.bench.bench_browser import (
    FULL_LANE,
    LINK,
    SETTLE_MS,
    WATCH,
    WATCH_MS,
    LoginSample,
    LoginTarget,
    Sample,
    Storage,
    Target,
    chromium_version,
    demo_login,
    local_storage,
    measure_load,
    measure_login,
    profile,
    provider_probe_script,
    wait_for_final_state,
)
from devtools.bench.bench_report import (
    APP_ANONYMOUS,
    APP_AUTHENTICATED,
    APP_EAGER,
    APP_LOGIN,
    APP_ON_DEMAND,
    JS_ANONYMOUS,
    JS_AUTHENTICATED,
    JS_KINDS,
    JS_LOGIN,
    KINDS,
    REFERENCE,
    RUNTIME_FLOOR,
    login_summary,
    summary,
)
from devtools.bench.bench_site import (
    APP_GUARD_KEY,
    APP_KEY_PREFIX,
    CLIENT_ID,
    DEFAULT_POLICY,
    FLOOR_DIR,
    JS_DIR,
    JS_KEY_PREFIX,
    POLICY_DIRS,
    REFERENCE_DIR,
    BenchError,
    app_session_items,
    build_bench_site,
    every_compressed_file_kept,
    js_session_items,
    js_user_key,
    oidc_client_ts_version,
    prefill_gzip_cache,
)
from devtools.bench.bench_tables import markdown_table
from devtools.page_steps import close_tab
from devtools.paths import ROOT
from devtools.servers.node_provider_process import start_node_provider
from devtools.servers.serve import serve_in_thread

BASE_PATH = "/bench/"
DEFAULT_OUT = ROOT / "bench-results" / "startup.json"
# Logins per page and mode: at least this many, else --runs.
MIN_LOGINS = 3
LOGIN_MODES = ("warm", "cold")
# What the measured pages are built from (source_state reports their changes).
PAGE_SOURCES = ("public", "py/app", "py/oidc_spa", "py/boot", "py/devtools/build",
                "py/devtools/bench", "pyscript.toml", "package.json")
# How each figure is taken, written into the JSON for whoever reads it later.
METHOD = {
    "times": "performance.now() in the page (0 = navigation start), by init script",
    "waits": "the harness waits for a load's moments through DevTools (Runtime.evaluate of "
    "bench_assets/wait.js, a MutationObserver promise), not with Playwright's selector "
    "waits, which inject Playwright's selector engine (about 330 KB of JavaScript) into "
    "the page while it starts; the login round trip still uses Playwright's waits",
    "ready_ms": "MutationObserver: data-session first becomes anonymous/authenticated",
    "checking_painted_ms": "rAF polling: first frame with #checking-message visible; "
    "time of a MessageChannel message posted in that rAF (runs after the frame's paint)",
    "fcp_ms": "PerformanceObserver first-contentful-paint (cross-check)",
    "wrong_frames": "rAF frames with a button shown while checking, or a shown "
    "login/logout button that disagrees with data-session; app loads are watched until "
    "their full lane is up (data-lane=full), so the lane switch is included",
    "bytes": "sum of CDP Network.loadingFinished encodedDataLength for the tab, the whole "
    "load (the app's: until its full lane is up)",
    "bytes_before_ready": "sum of resource timing transferSize (page included) of the files "
    "whose responseEnd is not after ready_ms",
    "pyodide_requested_ms": "resource timing: first startTime of a vendor/pyodide/ file",
    "full_lane_ms": "MutationObserver: data-lane becomes full",
    "cold": "new user-data-dir and browser per load",
    "warm": "one profile per page family (app and its variants, JS page, Pyodide "
    "reference), primed by one load of each page; new tab per measured load",
    "stored_session": "per-tab init script sets the localStorage keys if absent: the app's "
    "record from a real login; for the JS page the same tokens as an oidc-client-ts User",
    "link": "CDP Network.emulateNetworkConditions, cold loads only",
    "runtime_floor": "floor/: the app's interpreter module (pyodide-fast.mjs: Pyodide with the "
    "app's bytecode zips, hinted as in the app), nothing else; warm loads share the app's "
    "profile",
    "login": "login round trip, app (.btn-login) and JS page (a .btn-login button that "
    "calls UserManager.signinRedirect), each from its signed-out page at rest (the app: "
    "after its full lane is up, then 300 ms), every login with no provider cookie and "
    "nothing stored for the site's origin (CDP Storage.clearDataForOrigin), a new tab; "
    "warm: one profile per page primed by one login; cold: a new profile per login. "
    "to_provider_ms = (provider page's performance.timeOrigin + the post-paint time of "
    "the first rAF frame showing #username) - (app page's performance.timeOrigin + the "
    "click event's timeStamp, kept in sessionStorage): epoch times of two documents of one "
    "browser, no Python in it; to_provider_wall_ms: Python's time.time() around "
    "Playwright's click and wait for #username visible (cross-check, includes Playwright). "
    "Then the demo user signs in (Playwright fills the form). return_ms = the callback "
    "page's post-paint time of the first rAF frame with data-session=authenticated and a "
    "visible non-empty .nickname, minus its navigation entry's fetchStart (the callback "
    "URL's request, after the provider's redirects); return_nav_ms the same from the "
    "navigation start (0: the sign-in form's POST, the provider's work and redirects "
    "included); the JS page's callback runs signinRedirectCallback (code exchange and "
    "/userinfo, loadUserInfo true) and writes .nickname",
    "policies": f"signed out, no click: the app (fullLane {DEFAULT_POLICY}, the default) and "
    f"builds with fullLane eager and on-demand; on-demand watched {WATCH_MS} ms past the "
    "right state",
}

# Set on Ctrl-C. The terminal signals Chromium too, which may die before Python sees
# its KeyboardInterrupt: the browser error that follows must then stop the run, not
# be retried.
INTERRUPTED = threading.Event()


def on_interrupt(signum: int, frame: FrameType | None) -> None:
    INTERRUPTED.set()
    signal.default_int_handler(signum, frame)


Progress = Callable[[str], None]


@dataclass
class Bench:
    """Everything a phase needs: Playwright, the site, the stored sessions, where to log."""

    playwright: Any
    work: Path
    site_url: str
    origin: str
    issuer: str
    progress: Progress
    session_record: dict[str, str] | None = None
    js_user: dict[str, str] | None = None
    retries: list[str] = field(default_factory=list)

    def target(self, kind: str) -> Target:
        app_out = Storage(APP_KEY_PREFIX, APP_GUARD_KEY, None)
        js_key = js_user_key(self.issuer)
        url = self.site_url
        return {
            APP_ANONYMOUS: Target(kind, url, "anonymous", app_out, FULL_LANE),
            APP_AUTHENTICATED: Target(kind, url, "authenticated",
                                      Storage(APP_KEY_PREFIX, APP_GUARD_KEY,
                                              self.session_record), FULL_LANE),
            APP_EAGER: Target(kind, f"{url}{POLICY_DIRS['eager']}/", "anonymous", app_out,
                              FULL_LANE),
            APP_ON_DEMAND: Target(kind, f"{url}{POLICY_DIRS['on-demand']}/", "anonymous",
                                  app_out, WATCH),
            JS_ANONYMOUS: Target(kind, f"{url}{JS_DIR}/", "anonymous",
                                 Storage(JS_KEY_PREFIX, js_key, None)),
            JS_AUTHENTICATED: Target(kind, f"{url}{JS_DIR}/", "authenticated",
                                     Storage(JS_KEY_PREFIX, js_key, self.js_user)),
            REFERENCE: Target(kind, f"{url}{REFERENCE_DIR}/", "anonymous", None),
            RUNTIME_FLOOR: Target(kind, f"{url}{FLOOR_DIR}/", "anonymous", None),
        }[kind]

    def targets(self, round_: int) -> list[Target]:
        """The round's loads; every other round in reverse order, so no page
        always goes first (slow drift of the machine then evens out)."""
        order = KINDS if round_ % 2 == 0 else tuple(reversed(KINDS))
        return [self.target(kind) for kind in order]

    def new_profile(self, name: str) -> contextlib.AbstractContextManager[Any]:
        return profile(self.playwright, Path(tempfile.mkdtemp(prefix=name, dir=self.work)),
                       self.origin)

    def measure(self, context: Any, target: Target, mode: str, round_: int) -> Sample:
        return measure_load(context, target, mode=mode, round_=round_, link=mode == "link",
                            origin=self.origin, site_url=self.site_url)

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
        extra = ""
        if sample.full_lane_reason or sample.pyodide_requested_ms is not None:
            extra = (f", Pyodide asked for at {sample.pyodide_requested_ms} ms, full lane "
                     f"({sample.full_lane_reason}) up at {sample.full_lane_ms} ms")
        self.progress(
            f"{sample.mode} #{sample.round + 1} {sample.kind}: {sample.ready_ms:.0f} ms, "
            f"checking painted {painted if painted is not None else '-'} ms, "
            f"{sample.bytes_before_ready / 1e6:.2f} MB before it "
            f"({sample.bytes / 1e6:.2f} MB in all), {sample.wrong_frames} wrong frames{extra}"
        )


def login_targets(bench: Bench, round_: int) -> list[LoginTarget]:
    """The app's and the JavaScript page's logins, in turn (every other round reversed)."""
    targets = [LoginTarget(APP_LOGIN, bench.site_url, FULL_LANE),
               LoginTarget(JS_LOGIN, f"{bench.site_url}{JS_DIR}/")]
    return targets if round_ % 2 == 0 else targets[::-1]


@contextlib.contextmanager
def login_profile(bench: Bench, name: str) -> Iterator[Any]:
    with bench.new_profile(name) as context:
        context.add_init_script(provider_probe_script(bench.issuer))
        yield context


def log_login(bench: Bench, sample: LoginSample) -> None:
    bench.progress(
        f"{sample.mode} login #{sample.round + 1} {sample.kind}: to the provider "
        f"{sample.to_provider_ms:.0f} ms (Python's clock {sample.to_provider_wall_ms:.0f} ms), "
        f"back to the profile {sample.return_ms:.0f} ms from the callback's request "
        f"({sample.return_nav_ms:.0f} ms from the sign-in POST), "
        f"{sample.wrong_frames} wrong frames")


def run_logins(bench: Bench, runs: int, mode: str) -> list[LoginSample]:
    """Logins from the signed-out app and JS pages: warm in one primed profile per
    page, cold in a new profile each."""
    samples: list[LoginSample] = []
    logins = max(runs, MIN_LOGINS)

    def measure(context: Any, target: LoginTarget, round_: int) -> LoginSample:
        return measure_login(context, target, mode=mode, round_=round_, origin=bench.origin)

    if mode == "warm":
        with login_profile(bench, "login-app-") as app, login_profile(bench, "login-js-") as js:
            contexts = {APP_LOGIN: app, JS_LOGIN: js}
            for target in login_targets(bench, 0):
                bench.retry_once(f"priming {target.kind}",
                                 partial(measure, contexts[target.kind], target, -1))
            for round_ in range(logins):
                for target in login_targets(bench, round_):
                    sample = bench.retry_once(
                        f"warm login #{round_ + 1} {target.kind}",
                        partial(measure, contexts[target.kind], target, round_))
                    log_login(bench, sample)
                    samples.append(sample)
        return samples

    def cold(target: LoginTarget, round_: int) -> LoginSample:
        with login_profile(bench, f"login-{mode}-") as context:
            return measure(context, target, round_)

    for round_ in range(logins):
        for target in login_targets(bench, round_):
            sample = bench.retry_once(f"{mode} login #{round_ + 1} {target.kind}",
                                      partial(cold, target, round_))
            log_login(bench, sample)
            samples.append(sample)
    return samples


def log_in_once(bench: Bench, app: Any) -> None:
    """The real login (warm app profile) whose tokens every authenticated load reuses."""
    page = app.new_page()
    page.goto(bench.site_url)
    wait_for_final_state(page)
    demo_login(page)
    # The full lane took the login's answer; let it finish writing before copying.
    page.wait_for_selector("body[data-lane='full']", state="attached")
    page.wait_for_timeout(SETTLE_MS)
    items = app_session_items(local_storage(page))
    close_tab(page)
    bench.session_record = items
    bench.js_user = js_session_items(items, bench.issuer)


def context_for(kind: str, app: Any, js: Any, reference: Any) -> Any:
    """The warm profile a page belongs to: the app's (its variants and floor share its
    files), the JavaScript page's, the Pyodide reference's."""
    if kind in JS_KINDS:
        return js
    return reference if kind == REFERENCE else app


def run_warm(bench: Bench, runs: int) -> tuple[list[Sample], str]:
    """Warm loads; first logs in (the stored sessions the cold loads reuse too) and primes
    each profile with one load of each of its pages."""
    samples: list[Sample] = []
    with bench.new_profile("warm-app-") as app, bench.new_profile("warm-js-") as js, \
            bench.new_profile("warm-ref-") as reference:
        bench.retry_once("logging in", lambda: log_in_once(bench, app))
        for target in bench.targets(0):
            context = context_for(target.kind, app, js, reference)
            bench.retry_once(f"priming {target.kind}",
                             partial(bench.measure, context, target, "warm", -1))
        version = chromium_version(app)
        for round_ in range(runs):
            for target in bench.targets(round_):
                context = context_for(target.kind, app, js, reference)
                load = partial(bench.measure, context, target, "warm", round_)
                sample = bench.retry_once(f"warm #{round_ + 1} {target.kind}", load)
                bench.log(sample)
                samples.append(sample)
    return samples, version


def cold_load(bench: Bench, target: Target, mode: str, round_: int) -> Sample:
    with bench.new_profile(f"{mode}-") as context:
        return bench.measure(context, target, mode, round_)


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
    # The server starts first: its address is the redirect URI the provider must know
    # (the JavaScript page's folder too: it logs in to its own page).
    with every_compressed_file_kept(), serve_in_thread(site, BASE_PATH) as url, \
            start_node_provider(client_id=CLIENT_ID, redirect_uris=[url, f"{url}{JS_DIR}/"],
                                post_logout_redirect_uris=[url],
                                allowed_origins=[url.split(BASE_PATH)[0]]) as provider, \
            sync_playwright() as playwright:
        progress(f"building the site into {site}")
        build_bench_site(site, provider.issuer)
        prefill_gzip_cache(site, url)
        yield Bench(playwright, work, url, url.split(BASE_PATH)[0], provider.issuer, progress)


def collect(runs: int, *, skip_link: bool, progress: Progress) -> dict[str, Any]:
    """Run every phase; returns the raw samples and the machine facts."""
    with tempfile.TemporaryDirectory(prefix="oidc-bench-", ignore_cleanup_errors=True) as tmp, \
            bench_stack(Path(tmp), progress) as bench:
        # Warm first: right after priming, well inside the 600 s the cache may keep files.
        samples, version = run_warm(bench, runs)
        samples += run_cold(bench, runs, link=False)
        if not skip_link:
            samples += run_cold(bench, runs, link=True)
        logins = [sample for mode in LOGIN_MODES for sample in run_logins(bench, runs, mode)]
        retries = bench.retries
    return {"samples": [asdict(sample) for sample in samples], "chromium": version,
            "retries": retries, "oidc_client_ts": oidc_client_ts_version(),
            "login_samples": [asdict(sample) for sample in logins]}


def source_state() -> dict[str, Any]:
    """The commit the site was built from, and the files of the page that differed from it
    (others may be editing while the benchmark runs)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        return done.stdout.rstrip("\n")  # a porcelain line starts with a space

    changed = git("status", "--porcelain", "--", *PAGE_SOURCES).splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "changed": sorted(line[3:] for line in changed)}


def load_average() -> list[float] | None:
    """The machine's 1, 5 and 15 minute load averages: other work skews the times."""
    with contextlib.suppress(OSError, AttributeError):
        return [round(value, 2) for value in os.getloadavg()]
    return None


def summarise(raw: dict[str, Any], runs: int, skip_link: bool) -> dict[str, Any]:
    samples = raw["samples"]
    return {
        "machine": {"nproc": os.cpu_count(), "chromium": raw["chromium"],
                    "platform": platform.platform(), "python": platform.python_version(),
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "load_average": load_average()},
        "settings": {"runs": runs, "skip_link": skip_link, "link": LINK,
                     "settle_ms": SETTLE_MS, "watch_ms": WATCH_MS, "base_path": BASE_PATH,
                     "logins": max(runs, MIN_LOGINS), "login_modes": list(LOGIN_MODES),
                     "oidc_client_ts": raw["oidc_client_ts"], "method": METHOD},
        **summary(samples),
        "login": login_summary(raw.get("login_samples", [])),
        "retries": raw["retries"],
        "samples": samples,
    }


def run_benchmark(runs: int, *, skip_link: bool, progress: Progress) -> dict[str, Any]:
    started = time.perf_counter()
    load_before, source = load_average(), source_state()
    report = summarise(collect(runs, skip_link=skip_link, progress=progress), runs, skip_link)
    report["machine"]["duration_s"] = round(time.perf_counter() - started, 1)
    report["machine"]["load_average_before"] = load_before
    report["machine"]["source"] = source
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
    machine = report["machine"]
    source = machine["source"]
    print(f"\n{machine['duration_s']} s; load average {machine['load_average_before']} before, "
          f"{machine['load_average']} after; built from {source['commit']} with "
          f"{len(source['changed'])} changed files; samples in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
