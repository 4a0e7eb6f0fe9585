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

from devtools.bench import bench, bench_browser, bench_report, bench_site, bench_tables
from devtools.bench.bench_report import (
    APP_ANONYMOUS,
    APP_AUTHENTICATED,
    APP_EAGER,
    APP_LOGIN,
    APP_ON_DEMAND,
    JS_ANONYMOUS,
    JS_AUTHENTICATED,
    JS_LOGIN,
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
LOGIN_SAMPLE_FIELDS = {"mode", "round", "kind", "to_provider_ms", "to_provider_wall_ms",
                       "return_ms", "return_nav_ms", "return_state_ms",
                       "callback_fetch_start_ms", "wrong_frames", "wall_s"}
LOGIN_ROWS = ("login: click on Log in \u2192 provider's sign-in page painted",
              "return: callback URL requested \u2192 profile shown")


def sample(mode: str, kind: str, ready: float, **extra: Any) -> dict[str, Any]:
    values = {"mode": mode, "round": 0, "kind": kind, "ready_ms": ready,
              "checking_painted_ms": 50.0, "fcp_ms": 50.0, "wrong_frames": 0, "frames": 9,
              "bytes": 1000, "requests": 3, "bytes_before_ready": 1000,
              "first_lane_ms": None, "full_lane_ms": None, "full_lane_reason": None,
              "pyodide_requested_ms": None,
              "resources": [["", 0.0, 5.0, 800], ["first_lane.json", 5.0, 20.0, 200],
                            ["vendor/pyodide/pyodide.asm.wasm", ready, ready + 400, 900]],
              "events": [["first-lane:progress MicroPython started", 30.0]], "wall_s": 1.0}
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
    assert rows["warm", "the lane's Python (first_lane.json) arrived"]["median"] == 20.0
    assert rows["warm", "boot: MicroPython started"]["median"] == 30.0
    assert rows["cold", "last file before the right state arrived"]["median"] == 20.0
    assert rows["cold", "MicroPython wasm arrived"] is None
    before = report["before_ready"]
    assert before["mode"] == "cold" and before["total"] == 300_000
    assert before["files"] == [["", 800], ["first_lane.json", 200]]  # not Pyodide, after it


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


def login_sample(mode: str, kind: str, to_provider: float, back: float, round_: int = 0,
                 **extra: Any) -> dict[str, Any]:
    values = {"mode": mode, "round": round_, "kind": kind, "to_provider_ms": to_provider,
              "to_provider_wall_ms": to_provider + 60, "return_ms": back,
              "return_nav_ms": back + 30, "return_state_ms": back + 20,
              "callback_fetch_start_ms": 30.0, "wrong_frames": 0, "wall_s": 3.0}
    return values | extra


def report_with_logins() -> dict[str, Any]:
    logins = [
        *(login_sample("warm", APP_LOGIN, ms, back, i)
          for i, (ms, back) in enumerate(((120.0, 1000.0), (130.0, 900.0), (300.0, 1400.0)))),
        *(login_sample("warm", JS_LOGIN, ms, back, i)
          for i, (ms, back) in enumerate(((100.0, 200.0), (90.0, 250.0), (110.0, 180.0)))),
        login_sample("cold", APP_LOGIN, 400.0, 3000.0, wrong_frames=1),
        login_sample("cold", JS_LOGIN, 200.0, 500.0),
    ]
    raw = {"samples": [sample("warm", APP_ANONYMOUS, 300.0)], "chromium": "Chrome/1.0",
           "retries": [], "oidc_client_ts": "3.5.0", "login_samples": logins}
    return bench.summarise(raw, runs=2, skip_link=True)


def test_login_round_trip_figures_set_the_app_against_the_js_page():
    report = report_with_logins()
    assert report["settings"]["logins"] == 3  # --runs 2, at least 3 logins
    login = report["login"]
    assert len(login["samples"]) == 8 and login["callback_wrong_frames"] == 1
    figures = {item["name"]: item for item in login["figures"]}
    out = figures[f"warm {LOGIN_ROWS[0]}"]
    assert out["app"] == {"median": 130.0, "min": 120.0, "max": 300.0, "n": 3}
    assert out["js"]["median"] == 100.0 and out["ratio_js"] == 1.3
    back = figures[f"warm {LOGIN_ROWS[1]}"]
    assert back["app"]["median"] == 1000.0 and back["js"]["median"] == 200.0
    assert back["ratio_js"] == 5.0 and back["detail"] is False
    assert figures[f"cold {LOGIN_ROWS[1]}"]["ratio_js"] == 6.0
    wall = next(item for item in login["figures"] if item["field"] == "to_provider_wall_ms")
    assert wall["detail"] is True and wall["app"]["median"] == 190.0
    assert [item["mode"] for item in login["figures"] if not item["detail"]] == [
        "warm", "warm", "cold", "cold"]
    # The start-up figures do not change with logins beside them.
    alone = bench_report.summary([sample("warm", APP_ANONYMOUS, 300.0)])
    assert report["figures"] == alone["figures"] and report["targets"] == alone["targets"]


def test_the_login_table_has_a_row_per_mode_and_figure_and_none_without_logins():
    table = bench_tables.markdown_table(report_with_logins())
    login = table.split("\n\n")[-1].splitlines()
    assert login[0] == ("| login round trip | app median (min\u2013max) | "
                        "JS page (oidc-client-ts) median (min\u2013max) | app / JS |")
    assert login[2] == (f"| warm {LOGIN_ROWS[0]} | 130 ms (120 ms\u2013300 ms) | "
                        "100 ms (90 ms\u2013110 ms) | 1.30 |")
    assert login[5] == (f"| cold {LOGIN_ROWS[1]} | 3000 ms (3000 ms\u20133000 ms) | "
                        "500 ms (500 ms\u2013500 ms) | 6.00 |")
    assert len(login) == 2 + 4
    assert bench_tables.login_table(synthetic_report()) == []
    assert synthetic_report()["login"]["figures"] == []


def test_a_logins_figures_come_from_the_two_pages_clocks():
    provider = {"timeOrigin": 1_000_000.0, "usernameFrame": 40.0, "usernamePainted": 45.5}
    callback = {"bench": {"states": [{"state": "checking", "t": 5.0},
                                     {"state": "authenticated", "t": 600.0}],
                          "profileShown": 650.25, "wrongFrames": []},
                "click": "999900.0", "url": "http://h/bench/?code=c&state=s&iss=i",
                "fetchStart": 30.0, "redirectCount": 0}
    figures = bench_browser.login_figures(999_900.0, provider, callback, "http://h/bench/")
    assert figures == {"to_provider_ms": 145.5, "return_ms": 620.2, "return_nav_ms": 650.2,
                       "return_state_ms": 600.0, "callback_fetch_start_ms": 30.0,
                       "wrong_frames": 0}
    with pytest.raises(bench_site.BenchError, match="not a callback"):
        bench_browser.login_figures(0.0, provider, callback | {"url": "http://h/bench/"},
                                    "http://h/bench/")
    went_anonymous = {**callback["bench"], "states": [{"state": "anonymous", "t": 9.0}]}
    with pytest.raises(bench_site.BenchError, match="went"):
        bench_browser.login_figures(0.0, provider, callback | {"bench": went_anonymous},
                                    "http://h/bench/")
    with pytest.raises(bench_site.BenchError, match="never painted"):
        bench_browser.login_figures(0.0, {}, callback, "http://h/bench/")


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
                           "milestones", "before_ready", "login", "retries", "samples"}
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

    login = report["login"]
    assert len(login["samples"]) == 2 * 2 * bench.MIN_LOGINS  # warm and cold, app and JS
    for entry in login["samples"]:
        assert set(entry) == LOGIN_SAMPLE_FIELDS
        assert is_positive_number(entry["to_provider_ms"])
        assert is_positive_number(entry["return_ms"])
    rows = [item for item in login["figures"] if not item["detail"]]
    assert [item["name"] for item in rows] == [
        f"{mode} {name}" for mode in ("warm", "cold") for name in LOGIN_ROWS]
    for item in rows:
        check_stats(item["app"], counts=False)
        check_stats(item["js"], counts=False)
        assert is_positive_number(item["ratio_js"])
    assert login["callback_wrong_frames"] == 0
    assert "| login round trip |" in done.stdout
