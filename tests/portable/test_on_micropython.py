"""The portable unittest modules (test_portable_*.py, here) once more, on MicroPython.

pytest runs those modules on CPython like any others; this runs each of them in the
interpreter of the page's first lane (MicroPython 1.27, the npm package pinned in
package.json) through py/devtools/micropython/run_unittests.mjs, and checks that the
same tests ran there and passed. Only modules named test_portable_* go: the others
here (this one, the lanes' comparison) need CPython.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import unittest
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PY = ROOT / "py"
RUNNER = PY / "devtools" / "micropython" / "run_unittests.mjs"
MICROPYTHON = (ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
               / "micropython.mjs")
MODULES = sorted(path.stem for path in HERE.glob("test_portable_*.py"))
TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
def micropython_results() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (scripts/setup installs it)")
    if not MICROPYTHON.exists():
        pytest.skip(f"MicroPython is not installed: {MICROPYTHON} (scripts/setup runs npm ci)")
    done = subprocess.run([node, str(RUNNER), str(PY), str(HERE), *MODULES],
                          capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    lines = done.stdout.strip().splitlines()
    assert lines, f"the runner printed nothing (exit {done.returncode}): {done.stderr}"
    report = json.loads(lines[-1])
    assert (done.returncode == 0) == report["ok"], done.stderr
    return report["modules"]


def test_there_are_portable_modules():
    assert len(MODULES) >= 8, MODULES


def cpython_test_count(module_name: str) -> int:
    module = importlib.import_module(module_name)
    return unittest.defaultTestLoader.loadTestsFromModule(module).countTestCases()


@pytest.mark.parametrize("module_name", MODULES)
def test_module_passes_on_micropython(micropython_results: dict, module_name: str):
    result = micropython_results[module_name]
    problems = "\n\n".join(result["problems"])
    assert result["failures"] == 0 and result["errors"] == 0 and not problems, (
        f"{module_name} on MicroPython: {result['failures']} failed, "
        f"{result['errors']} errors\n\n{problems}")
    # Every test ran in both interpreters (none lost to MicroPython's test discovery).
    assert result["tests"] == cpython_test_count(module_name)
    assert result["skipped"] == 0
