"""The benchmark's report: medians and ranges per figure, the ratios to the JavaScript
page (oidc-client-ts) and to the bare-Pyodide page, the targets of issue #11, when each
`fullLane` policy fetches Pyodide, where the first lane's time goes, and the login
round trip against the JavaScript page's (devtools/bench/bench.py measures;
bench_tables.py prints)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

# What each load opens (a sample's "kind").
APP_ANONYMOUS = "app_anonymous"  # the app's build: fullLane left at its default, idle
APP_AUTHENTICATED = "app_authenticated"
APP_EAGER = "app_eager"  # the app built with fullLane "eager", signed out
APP_ON_DEMAND = "app_on_demand"  # and with "on-demand"
JS_ANONYMOUS = "js_anonymous"  # oidc-client-ts making the same decision
JS_AUTHENTICATED = "js_authenticated"
REFERENCE = "reference"  # bare Pyodide + PyJWT
# Not a target, a yardstick: what booting the app's Pyodide costs with nothing on top.
RUNTIME_FLOOR = "runtime_floor"
# The order of a round (every other round reversed).
KINDS = (APP_ANONYMOUS, JS_ANONYMOUS, REFERENCE, RUNTIME_FLOOR, APP_EAGER, APP_ON_DEMAND,
         JS_AUTHENTICATED, APP_AUTHENTICATED)
APP_KINDS = (APP_ANONYMOUS, APP_AUTHENTICATED, APP_EAGER, APP_ON_DEMAND)
JS_KINDS = (JS_ANONYMOUS, JS_AUTHENTICATED)
# A signed-out visitor who never clicks, by policy: the loads that show it.
POLICY_KINDS = {"eager": APP_EAGER, "idle": APP_ANONYMOUS, "on-demand": APP_ON_DEMAND}
MODES = ("warm", "cold", "link")

# Issue #11's targets: right state painted against the JavaScript page, warm and over the
# emulated link; bytes before the right state on a cold signed-out visit; checking painted.
JS_RATIO_TARGETS = {"warm": 2.0, "link": 3.0}
BYTES_BEFORE_READY_TARGET = 1_000_000
CHECKING_PAINTED_TARGET_MS = 100.0


@dataclass
class Stats:
    median: float
    min: float
    max: float
    n: int


def stats(values: Sequence[float | None]) -> Stats | None:
    present = [value for value in values if value is not None]
    if not present:
        return None
    return Stats(round(statistics.median(present), 1), min(present), max(present), len(present))


def values_of(samples: Sequence[dict[str, Any]], mode: str, kinds: Sequence[str],
              field: str) -> list[Any]:
    return [s[field] for s in samples if s["mode"] == mode and s["kind"] in kinds]


def _ratio(app: Stats | None, other: Stats | None) -> float | None:
    if app is None or other is None or other.median <= 0:
        return None
    return round(app.median / other.median, 3)


def figure(name: str, unit: str, app: Stats | None, js: Stats | None,
           reference: Stats | None) -> dict[str, Any]:
    return {"name": name, "unit": unit, "app": app and asdict(app), "js": js and asdict(js),
            "reference": reference and asdict(reference), "ratio_js": _ratio(app, js),
            "ratio_reference": _ratio(app, reference)}


def mode_figures(samples: Sequence[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """The figures of one mode. The Pyodide reference has one state only, so both app
    times are set against its anonymous time; the JavaScript page has both. Before
    Python runs every app load is alike, so checking-painted and wrong frames pool them
    (the policy variants too: their wrong frames include the lane switch)."""

    def of(kinds: Sequence[str], field: str) -> Stats | None:
        return stats(values_of(samples, mode, kinds, field))

    reference = of([REFERENCE], "ready_ms")
    figures = [
        figure(f"{mode} anonymous", "ms", of([APP_ANONYMOUS], "ready_ms"),
               of([JS_ANONYMOUS], "ready_ms"), reference),
        figure(f"{mode} authenticated", "ms", of([APP_AUTHENTICATED], "ready_ms"),
               of([JS_AUTHENTICATED], "ready_ms"), reference),
        figure(f"{mode} checking painted", "ms", of(APP_KINDS, "checking_painted_ms"),
               of(JS_KINDS, "checking_painted_ms"), of([REFERENCE], "checking_painted_ms")),
        figure(f"{mode} wrong-state frames", "frames", of(APP_KINDS, "wrong_frames"), None,
               None),
        # In the app column: the bare runtime, the part of the app's time no page code sets.
        figure(f"{mode} runtime floor (app's Pyodide alone)", "ms",
               of([RUNTIME_FLOOR], "ready_ms"), of([JS_ANONYMOUS], "ready_ms"), reference),
    ]
    if mode != "warm":  # warm loads come from the cache: their byte counts say little
        figures += [
            figure(f"{mode} bytes before the right state", "bytes",
                   of([APP_ANONYMOUS], "bytes_before_ready"),
                   of([JS_ANONYMOUS], "bytes_before_ready"),
                   of([REFERENCE], "bytes_before_ready")),
            figure(f"{mode} bytes in all (idle full lane included)", "bytes",
                   of([APP_ANONYMOUS], "bytes"), of([JS_ANONYMOUS], "bytes"),
                   of([REFERENCE], "bytes")),
        ]
    return figures


def modes_in(samples: Sequence[dict[str, Any]]) -> list[str]:
    return [mode for mode in MODES if any(s["mode"] == mode for s in samples)]


def policy_rows(samples: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A signed-out visitor who never clicks, per mode and policy: in how many loads
    Pyodide was asked for, when, when the full lane was up, and the bytes in all."""
    rows = []
    for mode in modes_in(samples):
        for policy, kind in POLICY_KINDS.items():
            loads = [s for s in samples if s["mode"] == mode and s["kind"] == kind]
            if not loads:
                continue
            rows.append({
                "mode": mode, "policy": policy, "loads": len(loads),
                "pyodide_fetched": sum(s["pyodide_requested_ms"] is not None for s in loads),
                "ready": _asdict(stats([s["ready_ms"] for s in loads])),
                "pyodide_requested": _asdict(stats([s["pyodide_requested_ms"] for s in loads])),
                "full_lane": _asdict(stats([s["full_lane_ms"] for s in loads])),
                "bytes": _asdict(stats([s["bytes"] for s in loads])),
                "reasons": sorted({s["full_lane_reason"] for s in loads
                                   if s["full_lane_reason"]}),
            })
    return rows


def _asdict(item: Stats | None) -> dict[str, Any] | None:
    return item and asdict(item)


# Where a signed-out load of the app spends its time until the right state: when each
# of these files had arrived (resource timing's responseEnd), by path below the site.
MILESTONE_FILES = (
    ("page (index.html)", ""),
    ("the lane's boot module", "first_lane.mjs"),
    ("MicroPython module", "vendor/micropython/micropython.mjs"),
    ("MicroPython wasm", "vendor/micropython/micropython.wasm"),
    ("the lane's Python (first_lane.json)", "first_lane.json"),
    ("auth_config.json", "auth_config.json"),
    ("PyScript core.js (full lane)", "vendor/pyscript/core.js"),
)


# And the first lane's boot steps (its events, py/boot/first_lane_boot.mjs).
MILESTONE_EVENTS = (
    ("boot: MicroPython module loaded", "first-lane:progress MicroPython module loaded"),
    ("boot: MicroPython started", "first-lane:progress MicroPython started"),
    ("boot: Python imported (first_lane and the portable rules)",
     "first-lane:progress Python imported"),
)


def milestones(samples: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per mode, medians over the app's signed-out loads: the files above, the last
    file that arrived before the right state, PyScript's steps, checking painted, the
    right state, and (the idle policy) Pyodide asked for and the full lane up."""
    rows = []
    for mode in modes_in(samples):
        loads = [s for s in samples if s["mode"] == mode and s["kind"] == APP_ANONYMOUS]
        if not loads:
            continue
        found: dict[str, list[float | None]] = {}
        for name, path in MILESTONE_FILES:
            found[f"{name} arrived"] = [_arrival(s, path) for s in loads]
        found["last file before the right state arrived"] = [
            max((end for _, _, end, _ in s["resources"] if end <= s["ready_ms"]), default=None)
            for s in loads]
        for name, event in MILESTONE_EVENTS:
            found[name] = [_event_time(s, event) for s in loads]
        for name, field in (("checking painted", "checking_painted_ms"),
                            ("right state (data-session)", "ready_ms"),
                            ("Pyodide asked for", "pyodide_requested_ms"),
                            ("full lane up (data-lane=full)", "full_lane_ms")):
            found[name] = [s[field] for s in loads]
        for name, values in found.items():
            rows.append({"mode": mode, "what": name, "ms": _asdict(stats(values))})
    return rows


def _event_time(sample: dict[str, Any], event: str) -> float | None:
    return next((t for name, t in sample["events"] if name == event), None)


def _arrival(sample: dict[str, Any], path: str) -> float | None:
    return next((end for name, _, end, _ in sample["resources"] if name == path), None)


def before_ready_files(samples: Sequence[dict[str, Any]], mode: str = "cold"
                       ) -> dict[str, Any] | None:
    """What a signed-out first visit downloads before the right state: the files of the
    app's load whose byte count is the median, largest first."""
    loads = sorted((s for s in samples if s["mode"] == mode and s["kind"] == APP_ANONYMOUS),
                   key=lambda s: s["bytes_before_ready"])
    if not loads:
        return None
    load = loads[(len(loads) - 1) // 2]
    files = sorted(([path, size] for path, _, end, size in load["resources"]
                    if end <= load["ready_ms"] and size > 0), key=lambda item: -item[1])
    return {"mode": mode, "round": load["round"], "total": load["bytes_before_ready"],
            "files": files}


def targets(samples: Sequence[dict[str, Any]], figures: Sequence[dict[str, Any]]
            ) -> list[dict[str, Any]]:
    """Issue #11's targets, for the modes this run has."""
    by_name = {item["name"]: item for item in figures}
    modes = modes_in(samples)
    result = []
    for mode in modes:
        for state in ("anonymous", "authenticated"):
            if mode in JS_RATIO_TARGETS:
                result.append(_target(f"{mode} {state}: app / JS page",
                                      by_name[f"{mode} {state}"]["ratio_js"],
                                      JS_RATIO_TARGETS[mode]))
    if "cold" in modes:
        before = by_name["cold bytes before the right state"]["app"]
        result.append(_target("cold anonymous: bytes before the right state (median)",
                              before and before["median"], BYTES_BEFORE_READY_TARGET))
    for mode in modes:
        painted = by_name[f"{mode} checking painted"]["app"]
        result.append(_target(f"{mode} checking painted (median ms)",
                              painted and painted["median"], CHECKING_PAINTED_TARGET_MS))
    wrong = sum(s["wrong_frames"] for s in samples if s["kind"] in APP_KINDS)
    result.append(_target("wrong-state frames (all app loads, lane switches included)",
                          wrong, 0))
    return result


def _target(name: str, value: float | None, limit: float) -> dict[str, Any]:
    return {"name": name, "value": value, "limit": limit,
            "pass": value is not None and value <= limit}


# Issue #11's login round trip (bench.py's logins; each a LoginSample): the app's login
# from a signed-out page, and the JavaScript page's (oidc-client-ts) the same way.
APP_LOGIN = "app_login"
JS_LOGIN = "js_login"
LOGIN_KINDS = (APP_LOGIN, JS_LOGIN)
LOGIN_FIGURES = (
    ("login: click on Log in → provider's sign-in page painted", "to_provider_ms"),
    ("return: callback URL requested → profile shown", "return_ms"),
)
# Beside them in the JSON, not in the table: cross-checks and the provider's own part.
LOGIN_DETAILS = (
    ("login by Python's clock (Playwright's click and wait included)", "to_provider_wall_ms"),
    ("return from the callback page's navigation start (sign-in POST and the provider's "
     "redirects included) -> profile shown", "return_nav_ms"),
    ("return from navigation start → data-session=authenticated", "return_state_ms"),
    ("callback page: navigation start → callback URL requested (the provider's part)",
     "callback_fetch_start_ms"),
)


def login_summary(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per mode, the login round trip's figures, the app's against the JavaScript
    page's (medians, ranges, ratio), then the details; and every sample."""
    figures = []
    for mode in modes_in(samples):
        for details, rows in ((False, LOGIN_FIGURES), (True, LOGIN_DETAILS)):
            for name, field in rows:
                app = stats(values_of(samples, mode, [APP_LOGIN], field))
                js = stats(values_of(samples, mode, [JS_LOGIN], field))
                if app is None and js is None:
                    continue
                figures.append({"name": f"{mode} {name}", "mode": mode, "field": field,
                                "detail": details, "unit": "ms", "app": _asdict(app),
                                "js": _asdict(js), "ratio_js": _ratio(app, js)})
    wrong = sum(s["wrong_frames"] for s in samples if s["kind"] == APP_LOGIN)
    return {"figures": figures, "callback_wrong_frames": wrong, "samples": list(samples)}


def summary(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every part of the report that comes from the samples."""
    figures = [item for mode in modes_in(samples) for item in mode_figures(samples, mode)]
    return {"figures": figures, "targets": targets(samples, figures),
            "policies": policy_rows(samples), "milestones": milestones(samples),
            "before_ready": before_ready_files(samples)}
