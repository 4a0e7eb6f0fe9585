"""The benchmark's report: medians and ranges per figure, the ratio to the reference
page, the targets, and the Markdown table (devtools/bench/bench.py measures)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

# What each load opens (a sample's "kind").
APP_ANONYMOUS = "app_anonymous"
APP_AUTHENTICATED = "app_authenticated"
REFERENCE = "reference"
# Not a target, a yardstick: what booting the same runtime costs with nothing on top.
RUNTIME_FLOOR = "runtime_floor"
KINDS = (APP_ANONYMOUS, REFERENCE, RUNTIME_FLOOR, APP_AUTHENTICATED)

RATIO_TARGETS = {"warm": 0.40, "cold": 0.45, "link": 0.60}
CHECKING_PAINTED_TARGET_MS = 200.0


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


