"""A/B of the app's start: this tree against another commit, loaded interleaved.

    python -m devtools.bench.ab COMMIT [--runs 20] [--mode warm|cold]

The bench site (this tree: the app, the JavaScript page) is built as devtools.bench.bench
builds it; beside it, in ab/, the app as COMMIT builds it (its own tree from `git archive`,
its own build, this tree's node_modules and the same auth_config.json). One real login
gives the stored session both builds read. Then both builds, signed out and signed in, and
the JavaScript page load in turn (every other round in reverse order), each load a new tab
in a warm browser (or a new browser: --mode cold).

It reports, per page: the right state, "checking" painted and the first lane's steps
(first-lane:progress: MicroPython's module loaded, MicroPython started, Python imported,
then the right state), as medians. Changes of a few milliseconds need 20 loads or more on
this machine: a step's median moves by about ±1.5 ms between runs, the whole start by ±5.
A report, not a test: it never fails on numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from devtools.bench.bench import Bench, bench_stack, cold_load, log_in_once
from devtools.bench.bench_browser import Sample, Target
from devtools.bench.bench_report import (
    APP_ANONYMOUS,
    APP_AUTHENTICATED,
    JS_ANONYMOUS,
    JS_AUTHENTICATED,
    JS_KINDS,
)
from devtools.bench.bench_site import CLIENT_ID, BenchError
from devtools.paths import ROOT

AB_DIR = "ab"
# The first lane's steps, in order: (label, the first-lane:progress event or None for the
# right state).
STEPS = (("module loaded", "MicroPython module loaded"),
         ("started", "MicroPython started"),
         ("imported", "Python imported"),
         ("right state", None))
EVENT_PREFIX = "first-lane:progress "


def build_commit(commit: str, out: Path, issuer: str, work: Path) -> None:
    """The app as `commit` builds it, into `out`: its tree, its build module."""
    tree = work / "tree"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise BenchError(f"git archive {commit}: {archive.stderr.decode().strip()}")
    (work / "tree.tar").write_bytes(archive.stdout)
    with tarfile.open(work / "tree.tar") as tar:
        tar.extractall(tree, filter="data")
    if (ROOT / ".cache").is_dir():  # the pinned wheels this tree's setup downloaded
        (tree / ".cache").symlink_to(ROOT / ".cache")
    config = work / "auth_config.json"
    config.write_text(json.dumps({"issuer": issuer, "clientId": CLIENT_ID}))
    built = subprocess.run(
        [sys.executable, "-m", "devtools.build.build", "--out", str(out),
         "--auth-config", str(config), "--node-modules", str(ROOT / "node_modules")],
        cwd=tree / "py", capture_output=True, text=True, check=False)
    if built.returncode != 0:
        raise BenchError(f"building {commit}: {built.stderr.strip()[-2000:]}")


def pages(bench: Bench, commit: str) -> list[tuple[str, Target]]:
    """(label, target) of every page loaded each round."""
    found = []
    for kind in (APP_ANONYMOUS, APP_AUTHENTICATED):
        target = bench.target(kind)
        found.append((f"{kind} (this tree)", target))
        found.append((f"{kind} ({commit})", replace(target, url=f"{target.url}{AB_DIR}/")))
    found += [(kind, bench.target(kind)) for kind in (JS_ANONYMOUS, JS_AUTHENTICATED)]
    return found


def event_time(sample: Sample, event: str | None) -> float | None:
    """When the load reached a step (the right state for None)."""
    if event is None:
        return sample.ready_ms
    for name, time in sample.events:
        if name == EVENT_PREFIX + event:
            return time
    return None


def median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 1) if present else None


def report_rows(results: dict[str, list[Sample]]) -> list[str]:
    """One line per page: medians of the right state, of "checking" painted, and of each
    first-lane step's time since the previous step."""
    rows = []
    for label, samples in results.items():
        line = (f"{label}: right state {median([s.ready_ms for s in samples])} ms, checking "
                f"painted {median([s.checking_painted_ms for s in samples])} ms, wrong "
                f"frames {sum(s.wrong_frames for s in samples)}")
        if any(event_time(sample, STEPS[0][1]) is not None for sample in samples):
            line += "; first lane: " + ", ".join(step_medians(samples)) + " ms"
        rows.append(line)
    return rows


def step_medians(samples: list[Sample]) -> list[str]:
    """The first step's median time, then each step's median time since the one before
    (a load that missed either step is left out of that median)."""
    times = [[event_time(sample, event) for sample in samples] for _, event in STEPS]
    found = [f"{STEPS[0][0]} at {median(times[0])}"]
    for (name, _), now, before in zip(STEPS[1:], times[1:], times, strict=False):
        gaps = [None if t is None or b is None else t - b
                for t, b in zip(now, before, strict=True)]
        found.append(f"{name} +{median(gaps)}")
    return found


def run(commit: str, runs: int, mode: str) -> list[str]:
    def progress(line: str) -> None:
        print(f"ab: {line}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="oidc-ab-", ignore_cleanup_errors=True) as tmp, \
            bench_stack(Path(tmp), progress) as bench:
        progress(f"building {commit} into {AB_DIR}/")
        build_commit(commit, Path(tmp) / "site" / AB_DIR, bench.issuer, Path(tmp))
        with bench.new_profile("ab-app-") as app, bench.new_profile("ab-js-") as js:
            log_in_once(bench, app)  # before the targets: the signed-in ones carry it
            loads = pages(bench, commit)
            results: dict[str, list[Sample]] = {label: [] for label, _ in loads}
            # Round -1 primes the warm profiles (a cold load starts with nothing anyway).
            for round_ in range(-1 if mode == "warm" else 0, runs):
                for label, target in (loads if round_ % 2 else loads[::-1]):
                    context = js if target.kind in JS_KINDS else app
                    if mode == "warm":
                        sample = bench.measure(context, target, mode, round_)
                    else:
                        sample = cold_load(bench, target, mode, round_)
                    if round_ >= 0:
                        results[label].append(sample)
                progress("primed" if round_ < 0 else f"round {round_ + 1} of {runs} done")
    return report_rows(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the build to compare this tree with (e.g. HEAD~1)")
    parser.add_argument("--runs", type=int, default=20, help="loads per page")
    parser.add_argument("--mode", choices=("warm", "cold"), default="warm")
    args = parser.parse_args(argv)
    try:
        rows = run(args.commit, args.runs, args.mode)
    except BenchError as error:
        print(f"ab: error: {error}", file=sys.stderr)
        return 1
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
