"""The A/B report (devtools/bench/ab.py): another commit's build beside this tree's, and
each page's medians, the first lane's steps among them."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from devtools.bench import ab
from devtools.bench.bench_browser import Sample
from devtools.bench.bench_site import BenchError
from devtools.paths import ROOT


def load(ready: float, steps: tuple[float, float, float] | None = (60.0, 73.0, 87.0),
         **extra: Any) -> Sample:
    events = []
    if steps is not None:
        names = ("MicroPython module loaded", "MicroPython started", "Python imported")
        events = [[ab.EVENT_PREFIX + name, time] for name, time in zip(names, steps, strict=True)]
        events.append(["mpy:ready", 1.0])  # other events are not steps
    values = {"mode": "warm", "round": 0, "kind": "app_anonymous", "ready_ms": ready,
              "checking_painted_ms": 50.0, "fcp_ms": 50.0, "wrong_frames": 0, "frames": 9,
              "bytes": 1000, "requests": 3, "bytes_before_ready": 1000,
              "first_lane_ms": ready, "full_lane_ms": None, "full_lane_reason": None,
              "pyodide_requested_ms": None, "resources": [], "events": events, "wall_s": 1.0}
    return Sample(**(values | extra))


def test_each_step_is_the_median_time_since_the_step_before():
    samples = [load(95.0, (60.0, 73.0, 87.0)), load(101.0, (62.0, 76.0, 90.0)),
               load(99.0, (58.0, 72.0, 88.0), wrong_frames=1, checking_painted_ms=None)]
    [row] = ab.report_rows({"app (this tree)": samples})
    assert row == ("app (this tree): right state 99.0 ms, checking painted 50.0 ms, wrong "
                   "frames 1; first lane: module loaded at 60.0, started +14.0, "
                   "imported +14.0, right state +11.0 ms")


def test_a_page_without_a_first_lane_shows_its_right_state_only():
    rows = ab.report_rows({"js_anonymous": [load(48.0, None), load(52.0, None)]})
    assert rows == ["js_anonymous: right state 50.0 ms, checking painted 50.0 ms, wrong "
                    "frames 0"]


def test_a_missing_step_is_left_out_of_that_steps_median():
    samples = [load(95.0, (60.0, 73.0, 87.0)), load(101.0, (62.0, 76.0, 90.0))]
    samples[1].events.pop(1)  # this load never said "MicroPython started"
    [row] = ab.report_rows({"app": samples})
    assert "started +13.0, imported +14.0" in row


def test_the_other_commit_is_built_with_its_own_tree(tmp_path):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    (tmp_path / "work").mkdir()
    out = tmp_path / "site" / ab.AB_DIR
    ab.build_commit(head, out, "https://issuer.example/", tmp_path / "work")
    assert (out / "index.html").is_file() and (out / "first_lane.json").is_file()
    assert '"https://issuer.example/"' in (out / "auth_config.json").read_text()


def test_an_unknown_commit_is_a_clear_error(tmp_path):
    with pytest.raises(BenchError, match="git archive no-such-commit"):
        ab.build_commit("no-such-commit", tmp_path / "out", "https://issuer.example/",
                        tmp_path)
