"""The benchmark's report as Markdown tables (devtools/bench/bench_report.py makes it)."""

from __future__ import annotations

from typing import Any

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


def format_ratio(ratio: float | None) -> str:
    return DASH if ratio is None else f"{ratio:.2f}"


def figures_table(report: dict[str, Any]) -> list[str]:
    span = f"median (min{DASH}max)"
    lines = [f"| figure | app {span} | JS page (oidc-client-ts) {span} | "
             f"Pyodide reference {span} | app / JS | app / Pyodide ref |",
             "|---|---|---|---|---|---|"]
    for item in report["figures"]:
        unit = item["unit"]
        lines.append(f"| {item['name']} | {format_stats(item['app'], unit)} | "
                     f"{format_stats(item['js'], unit)} | "
                     f"{format_stats(item['reference'], unit)} | "
                     f"{format_ratio(item['ratio_js'])} | "
                     f"{format_ratio(item['ratio_reference'])} |")
    return lines


def targets_table(report: dict[str, Any]) -> list[str]:
    lines = ["| target (issue #11) | value | limit | |", "|---|---|---|---|"]
    for item in report["targets"]:
        verdict = "pass" if item["pass"] else "FAIL"
        lines.append(f"| {item['name']} | {item['value']} | ≤ {item['limit']} | {verdict} |")
    return lines


def policies_table(report: dict[str, Any]) -> list[str]:
    span = f"median (min{DASH}max)"
    lines = [f"| signed out, no click | fullLane | Pyodide fetched | right state {span} | "
             f"Pyodide asked for {span} | full lane up {span} | bytes in all {span} | "
             "data-full-lane |", "|---|---|---|---|---|---|---|---|"]
    for row in report["policies"]:
        reasons = ", ".join(row["reasons"]) or DASH
        lines.append(f"| {row['mode']} | {row['policy']} | "
                     f"{row['pyodide_fetched']} of {row['loads']} | "
                     f"{format_stats(row['ready'], 'ms')} | "
                     f"{format_stats(row['pyodide_requested'], 'ms')} | "
                     f"{format_stats(row['full_lane'], 'ms')} | "
                     f"{format_stats(row['bytes'], 'bytes')} | {reasons} |")
    return lines


def milestones_table(report: dict[str, Any]) -> list[str]:
    modes = list(dict.fromkeys(row["mode"] for row in report["milestones"]))
    if not modes:
        return []
    cells: dict[str, dict[str, str]] = {}
    # Rows in time order of the slowest mode's medians (files from the cache all arrive
    # at once).
    by = next(mode for mode in ("link", "cold", "warm") if mode in modes)
    order: dict[str, float] = {}
    for row in report["milestones"]:
        cells.setdefault(row["what"], {})[row["mode"]] = format_stats(row["ms"], "ms")
        if row["mode"] == by:
            order[row["what"]] = row["ms"]["median"] if row["ms"] else float("inf")
    lines = [f"| app, signed out: median (min{DASH}max) | " + " | ".join(modes) + " |",
             "|---" * (len(modes) + 1) + "|"]
    for what in sorted(cells, key=lambda name: order.get(name, float("inf"))):
        by_mode = cells[what]
        lines.append(f"| {what} | " + " | ".join(by_mode.get(mode, DASH) for mode in modes)
                     + " |")
    return lines


def before_ready_table(report: dict[str, Any]) -> list[str]:
    before = report["before_ready"]
    if before is None:
        return []
    lines = [f"| before the right state ({before['mode']}, signed out, round "
             f"{before['round'] + 1}: {before['total'] / 1e3:.1f} KB) | KB |", "|---|---|"]
    lines += [f"| {path or '(the page)'} | {size / 1e3:.1f} |" for path, size in before["files"]]
    return lines


def login_table(report: dict[str, Any]) -> list[str]:
    """The login round trip (issue #11), app against the JavaScript page; the JSON
    keeps the cross-checks (rows with "detail")."""
    login = report.get("login")
    rows = [item for item in (login or {}).get("figures", []) if not item["detail"]]
    if not rows:
        return []
    span = f"median (min{DASH}max)"
    lines = [f"| login round trip | app {span} | JS page (oidc-client-ts) {span} | app / JS |",
             "|---|---|---|---|"]
    for item in rows:
        lines.append(f"| {item['name']} | {format_stats(item['app'], item['unit'])} | "
                     f"{format_stats(item['js'], item['unit'])} | "
                     f"{format_ratio(item['ratio_js'])} |")
    return lines


def markdown_table(report: dict[str, Any]) -> str:
    """Every table, a blank line between them."""
    parts = [figures_table(report), targets_table(report), policies_table(report),
             milestones_table(report), before_ready_table(report), login_table(report)]
    return "\n\n".join("\n".join(lines) for lines in parts if lines)
