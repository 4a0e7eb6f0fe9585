"""The start-up benchmark: its report's shape, on the real build, in real Chromium.

No assertion here is about speed: timings on a shared 2-core machine are noise for a
test. The benchmark itself (python -m devtools.bench.bench) reports them.
"""

from __future__ import annotations

import json
import math
import subprocess
from typing import Any

import pytest

from devtools.bench import bench, bench_report
from devtools.paths import ROOT, child_env, module_command

FIGURES_ONE_MODE = ("anonymous", "authenticated", "checking painted", "wrong-state frames",
                    "runtime floor (app's runtime, no PyScript)")


def sample(mode: str, kind: str, ready: float, **extra: Any) -> dict[str, Any]:
    values = {"mode": mode, "round": 0, "kind": kind, "ready_ms": ready,
              "checking_painted_ms": 50.0, "fcp_ms": 50.0, "wrong_frames": 0, "frames": 9,
              "bytes": 1000, "requests": 3, "wall_s": 1.0}
    return values | extra


def synthetic_report() -> dict[str, Any]:
    samples = [
        sample("warm", bench.APP_ANONYMOUS, 300.0),
        sample("warm", bench.APP_AUTHENTICATED, 500.0, wrong_frames=2),
        sample("warm", bench.REFERENCE, 1000.0, checking_painted_ms=None),
        sample("warm", bench.RUNTIME_FLOOR, 250.0),
        sample("cold", bench.APP_ANONYMOUS, 400.0, bytes=2000),
        sample("cold", bench.APP_AUTHENTICATED, 400.0),
        sample("cold", bench.REFERENCE, 1000.0),
        sample("cold", bench.RUNTIME_FLOOR, 350.0),
    ]
    raw = {"samples": samples, "chromium": "Chrome/1.0", "retries": []}
    return bench.summarise(raw, runs=1, skip_link=True)


def test_stats_ignore_missing_values():
    assert bench_report.stats([None, None]) is None
    assert bench_report.stats([3.0, None, 1.0, 2.0]) == bench_report.Stats(2.0, 1.0, 3.0, 3)


def test_ratios_and_targets_follow_the_medians():
    report = synthetic_report()
    figures = {item["name"]: item for item in report["figures"]}
    assert figures["warm anonymous"]["ratio"] == 0.3
    assert figures["cold bytes transferred"]["ratio"] == 2.0
    assert figures["warm checking painted"]["reference"] is None  # never painted there
    floor = figures["cold runtime floor (app's runtime, no PyScript)"]
    assert floor["app"]["median"] == 350.0 and floor["ratio"] == 0.35
    assert figures["warm runtime floor (app's runtime, no PyScript)"]["ratio"] == 0.25
    assert "warm bytes transferred" not in figures
    verdicts = {item["name"]: item["pass"] for item in report["targets"]}
    assert verdicts["warm anonymous ratio"] is True  # 0.30 <= 0.40
    assert verdicts["warm authenticated ratio"] is False  # 0.50
    assert verdicts["cold anonymous ratio"] is True  # 0.40 <= 0.45
    assert verdicts["wrong-state frames (all app loads)"] is False
    assert not any(name.startswith("link") for name in verdicts)


def test_the_table_has_one_row_per_figure_and_target():
    report = synthetic_report()
    table = bench.markdown_table(report)
    assert table.splitlines()[0].startswith("| figure | app median (min")
    assert "| warm anonymous | 300 ms (300 ms\u2013300 ms) | 1000 ms" in table
    assert "| cold bytes transferred | 0.00 MB" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 2 + len(report["figures"]) + len(report["targets"])


def is_positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def check_stats(item: dict[str, Any], *, counts: bool) -> None:
    """Times and bytes must be positive; frame counts may be zero (that is the goal)."""
    assert set(item) == {"median", "min", "max", "n"}
    assert item["min"] <= item["median"] <= item["max"]
    for name in ("median", "min", "max"):
        assert item[name] >= 0 if counts else is_positive_number(item[name]), (name, item)


@pytest.mark.e2e
@pytest.mark.skipif(not (ROOT / "node_modules" / "pyodide").is_dir(),
                    reason="node_modules missing: run scripts/setup")
def test_one_run_of_the_real_benchmark_writes_a_complete_report(tmp_path):
    out = tmp_path / "startup.json"
    # A process of its own: the e2e fixtures' Playwright already owns this one's loop.
    done = subprocess.run(
        module_command("devtools.bench.bench", "--runs", "1", "--skip-link", "--out", str(out)),
        capture_output=True, text=True, timeout=600, env=child_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())

    assert set(report) == {"machine", "settings", "figures", "targets", "retries", "samples"}
    machine = report["machine"]
    assert machine["nproc"] >= 1 and "Chrome/" in machine["chromium"]
    assert is_positive_number(machine["duration_s"]) and machine["date"]
    assert report["settings"]["runs"] == 1 and report["settings"]["skip_link"] is True

    names = [item["name"] for item in report["figures"]]
    expected = [f"{mode} {what}" for mode in ("warm", "cold") for what in FIGURES_ONE_MODE]
    assert names == [*expected, "cold bytes transferred"]
    for item in report["figures"]:
        counts = item["unit"] == "frames"
        check_stats(item["app"], counts=counts)
        if not counts:
            check_stats(item["reference"], counts=False)
            assert is_positive_number(item["ratio"])

    assert len(report["samples"]) == 2 * len(bench.KINDS)  # warm and cold, one round
    for entry in report["samples"]:
        assert is_positive_number(entry["ready_ms"]) and entry["frames"] > 0
        assert is_positive_number(entry["checking_painted_ms"])
        if entry["mode"] == "cold":
            assert entry["bytes"] > 1_000_000  # the whole runtime came over the wire
    assert all(isinstance(item["pass"], bool) for item in report["targets"])
    assert "| figure | app median" in done.stdout
