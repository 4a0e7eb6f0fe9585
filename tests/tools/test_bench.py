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

from devtools.bench import bench, bench_report, bench_site, bench_tables
from devtools.bench.bench_report import (
    APP_ANONYMOUS,
    APP_AUTHENTICATED,
    APP_EAGER,
    APP_ON_DEMAND,
    JS_ANONYMOUS,
    JS_AUTHENTICATED,
    KINDS,
    REFERENCE,
    RUNTIME_FLOOR,
)
from devtools.paths import ROOT, child_env, module_command

FIGURES_ONE_MODE = ("anonymous", "authenticated", "checking painted", "wrong-state frames",
                    "runtime floor (app's Pyodide alone)")
FIGURES_BYTES = ("bytes before the right state", "bytes in all (idle full lane included)")
SAMPLE_FIELDS = {"mode", "round", "kind", "ready_ms", "checking_painted_ms", "fcp_ms",
                 "wrong_frames", "frames", "bytes", "requests", "bytes_before_ready",
                 "first_lane_ms", "full_lane_ms", "full_lane_reason", "pyodide_requested_ms",
                 "resources", "events", "wall_s"}


def sample(mode: str, kind: str, ready: float, **extra: Any) -> dict[str, Any]:
    values = {"mode": mode, "round": 0, "kind": kind, "ready_ms": ready,
              "checking_painted_ms": 50.0, "fcp_ms": 50.0, "wrong_frames": 0, "frames": 9,
              "bytes": 1000, "requests": 3, "bytes_before_ready": 1000,
              "first_lane_ms": None, "full_lane_ms": None, "full_lane_reason": None,
              "pyodide_requested_ms": None,
              "resources": [["", 0.0, 5.0, 800], ["first_lane.py", 5.0, 20.0, 200],
                            ["vendor/pyodide/pyodide.asm.wasm", ready, ready + 400, 900]],
              "events": [["mpy:ready", 30.0]], "wall_s": 1.0}
    return values | extra


def app_sample(mode: str, kind: str, ready: float, **extra: Any) -> dict[str, Any]:
    """A two-lane load: Pyodide asked for after the right state, then the full lane."""
    lane = {"first_lane_ms": ready, "full_lane_ms": ready + 500, "full_lane_reason": "idle",
            "pyodide_requested_ms": ready + 10}
    return sample(mode, kind, ready, **(lane | extra))


def synthetic_report() -> dict[str, Any]:
    samples = [
        app_sample("warm", APP_ANONYMOUS, 300.0),
        app_sample("warm", APP_AUTHENTICATED, 500.0, wrong_frames=2),
        app_sample("warm", APP_EAGER, 310.0, full_lane_reason="eager"),
        sample("warm", APP_ON_DEMAND, 290.0),
        sample("warm", JS_ANONYMOUS, 100.0),
        sample("warm", JS_AUTHENTICATED, 200.0),
        sample("warm", REFERENCE, 1000.0, checking_painted_ms=None),
        sample("warm", RUNTIME_FLOOR, 250.0),
        app_sample("cold", APP_ANONYMOUS, 400.0, bytes=2000, bytes_before_ready=300_000),
        app_sample("cold", APP_AUTHENTICATED, 400.0),
        app_sample("cold", APP_EAGER, 410.0, full_lane_reason="eager"),
        sample("cold", APP_ON_DEMAND, 390.0),
        sample("cold", JS_ANONYMOUS, 100.0, bytes_before_ready=20_000),
        sample("cold", JS_AUTHENTICATED, 100.0),
        sample("cold", REFERENCE, 1000.0),
        sample("cold", RUNTIME_FLOOR, 350.0),
    ]
    raw = {"samples": samples, "chromium": "Chrome/1.0", "retries": [],
           "oidc_client_ts": "3.5.0"}
    return bench.summarise(raw, runs=1, skip_link=True)


def test_stats_ignore_missing_values():
    assert bench_report.stats([None, None]) is None
    assert bench_report.stats([3.0, None, 1.0, 2.0]) == bench_report.Stats(2.0, 1.0, 3.0, 3)


def test_ratios_and_targets_follow_the_medians():
    report = synthetic_report()
    figures = {item["name"]: item for item in report["figures"]}
    assert figures["warm anonymous"]["ratio_js"] == 3.0
    assert figures["warm anonymous"]["ratio_reference"] == 0.3
    assert figures["warm authenticated"]["ratio_js"] == 2.5  # against the JS page signed in
    assert figures["cold bytes before the right state"]["ratio_js"] == 15.0
    assert figures["cold bytes in all (idle full lane included)"]["ratio_reference"] == 2.0
    assert figures["warm checking painted"]["reference"] is None  # never painted there
    floor = figures["cold runtime floor (app's Pyodide alone)"]
    assert floor["app"]["median"] == 350.0 and floor["ratio_reference"] == 0.35
    assert "warm bytes before the right state" not in figures
    verdicts = {item["name"]: item["pass"] for item in report["targets"]}
    assert verdicts["warm anonymous: app / JS page"] is False  # 3.0 > 2.0
    assert verdicts["cold anonymous: bytes before the right state (median)"] is True
    assert verdicts["warm checking painted (median ms)"] is True  # 50 <= 100
    assert verdicts["wrong-state frames (all app loads, lane switches included)"] is False
    assert not any(name.startswith("link") for name in verdicts)


def test_policies_say_whether_and_when_pyodide_came():
    rows = {(row["mode"], row["policy"]): row for row in synthetic_report()["policies"]}
    assert set(rows) == {(mode, policy) for mode in ("warm", "cold")
                         for policy in ("eager", "idle", "on-demand")}
    idle = rows["warm", "idle"]
    assert idle["pyodide_fetched"] == 1 and idle["pyodide_requested"]["median"] == 310.0
    assert idle["full_lane"]["median"] == 800.0 and idle["reasons"] == ["idle"]
    on_demand = rows["cold", "on-demand"]
    assert on_demand["pyodide_fetched"] == 0 and on_demand["pyodide_requested"] is None


def test_milestones_and_files_before_the_right_state():
    report = synthetic_report()
    rows = {(row["mode"], row["what"]): row["ms"] for row in report["milestones"]}
    assert rows["warm", "first_lane.py arrived"]["median"] == 20.0
    assert rows["warm", "PyScript: mpy:ready (first_lane.py starts)"]["median"] == 30.0
    assert rows["cold", "last file before the right state arrived"]["median"] == 20.0
    assert rows["cold", "MicroPython wasm arrived"] is None
    before = report["before_ready"]
    assert before["mode"] == "cold" and before["total"] == 300_000
    assert before["files"] == [["", 800], ["first_lane.py", 200]]  # not Pyodide, after it


def test_the_tables_have_one_row_per_figure_target_policy_and_milestone():
    report = synthetic_report()
    table = bench_tables.markdown_table(report)
    assert table.splitlines()[0].startswith("| figure | app median (min")
    assert ("| warm anonymous | 300 ms (300 ms\u2013300 ms) | 100 ms (100 ms\u2013100 ms) | "
            "1000 ms (1000 ms\u20131000 ms) | 3.00 | 0.30 |") in table
    assert "| cold bytes before the right state | 0.30 MB" in table
    assert "| cold | on-demand | 0 of 1 |" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    milestones = {row["what"] for row in report["milestones"]}
    headers = 5
    assert len(rows) == (headers + len(report["figures"]) + len(report["targets"])
                         + len(report["policies"]) + len(milestones)
                         + len(report["before_ready"]["files"]))


def test_the_js_page_gets_the_apps_tokens_as_an_oidc_client_ts_user():
    record = {"id_token": "a.b.c", "access_token": "at", "refresh_token": "rt",
              "scope": "openid", "profile": {"sub": "alice"}, "expires_at": 2000.0,
              "access_token_expires_at": 1999.5, "session_id": "s" * 20}
    app = {bench_site.APP_GUARD_KEY: "s" * 20,
           f"{bench_site.APP_KEY_PREFIX}session:{'s' * 20}": json.dumps(record)}
    items = bench_site.js_session_items(app, "https://issuer.example")
    key = "oidc.user:https://issuer.example:bench-spa"
    assert list(items) == [key]
    user = json.loads(items[key])
    assert user == {"id_token": "a.b.c", "session_state": None, "access_token": "at",
                    "refresh_token": "rt", "token_type": "Bearer", "scope": "openid",
                    "profile": {"sub": "alice"}, "expires_at": 1999}


def test_a_policy_build_links_the_files_it_shares_with_the_app(tmp_path):
    site, variant = tmp_path / "site", tmp_path / "site" / "policy-eager"
    (site / "lane").mkdir(parents=True)
    (variant / "lane").mkdir(parents=True)
    for folder, setting in ((site, "idle"), (variant, "eager")):
        (folder / "index.html").write_text("<p>same</p>")
        (folder / "lane" / "x.py").write_text("x = 1\n")
        (folder / "auth_config.json").write_text(json.dumps({"fullLane": setting}))
    bench_site.share_identical_files(variant, site)
    assert (variant / "lane" / "x.py").is_symlink()
    assert (variant / "index.html").resolve() == (site / "index.html").resolve()
    assert not (variant / "auth_config.json").is_symlink()
    assert json.loads((variant / "auth_config.json").read_text()) == {"fullLane": "eager"}
    assert len(bench_site.gzipped_files(site)) == 4  # index.html, x.py and two configs


def is_positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def check_stats(item: dict[str, Any], *, counts: bool) -> None:
    """Times and bytes must be positive; frame counts may be zero (that is the goal)."""
    assert set(item) == {"median", "min", "max", "n"}
    assert item["min"] <= item["median"] <= item["max"]
    for name in ("median", "min", "max"):
        assert item[name] >= 0 if counts else is_positive_number(item[name]), (name, item)


@pytest.mark.e2e
@pytest.mark.skipif(not (ROOT / "node_modules" / "oidc-client-ts").is_dir(),
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

    assert set(report) == {"machine", "settings", "figures", "targets", "policies",
                           "milestones", "before_ready", "retries", "samples"}
    machine = report["machine"]
    assert machine["nproc"] >= 1 and "Chrome/" in machine["chromium"]
    assert is_positive_number(machine["duration_s"]) and machine["date"]
    assert set(machine["source"]) == {"commit", "changed"}
    settings = report["settings"]
    assert settings["runs"] == 1 and settings["skip_link"] is True
    assert settings["oidc_client_ts"] == "3.5.0"

    names = [item["name"] for item in report["figures"]]
    expected = [f"warm {what}" for what in FIGURES_ONE_MODE]
    expected += [f"cold {what}" for what in (*FIGURES_ONE_MODE, *FIGURES_BYTES)]
    assert names == expected
    for item in report["figures"]:
        counts = item["unit"] == "frames"
        check_stats(item["app"], counts=counts)
        if not counts:
            check_stats(item["js"], counts=False)
            check_stats(item["reference"], counts=False)
            assert is_positive_number(item["ratio_js"])
            assert is_positive_number(item["ratio_reference"])

    assert len(report["samples"]) == 2 * len(KINDS)  # warm and cold, one round
    for entry in report["samples"]:
        assert set(entry) == SAMPLE_FIELDS
        assert is_positive_number(entry["ready_ms"]) and entry["frames"] > 0
        assert is_positive_number(entry["checking_painted_ms"])
        if entry["mode"] == "cold":
            assert entry["bytes_before_ready"] > 0
        assert entry["resources"][0][1] == 0  # the page itself first, at navigation start
    by_kind = {(s["mode"], s["kind"]): s for s in report["samples"]}
    cold_app = by_kind["cold", APP_ANONYMOUS]
    assert cold_app["bytes"] > 1_000_000  # the idle full lane's Pyodide came too
    assert cold_app["full_lane_reason"] == "idle" and cold_app["full_lane_ms"] is not None
    assert cold_app["bytes_before_ready"] < cold_app["bytes"]
    assert by_kind["cold", APP_EAGER]["full_lane_reason"] == "eager"
    assert by_kind["cold", APP_ON_DEMAND]["pyodide_requested_ms"] is None
    assert by_kind["cold", JS_AUTHENTICATED]["bytes"] < 1_000_000

    assert [(row["mode"], row["policy"]) for row in report["policies"]] == [
        (mode, policy) for mode in ("warm", "cold") for policy in ("eager", "idle", "on-demand")]
    assert all(isinstance(item["pass"], bool) for item in report["targets"])
    assert report["before_ready"]["mode"] == "cold" and report["before_ready"]["files"]
    assert "| figure | app median" in done.stdout and "| signed out, no click |" in done.stdout
