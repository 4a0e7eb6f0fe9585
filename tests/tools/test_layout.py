"""The dependency rule, checked: what each room of py/ may import.

- the library (py/oidc_spa) imports the standard library, PyJWT, and in its browser
  shell Pyodide's `js`/`pyodide`; none of the other rooms, nor the tests;
- what ships as the page's runtime boot (py/boot: stdlib_fallback, deferred_init) imports
  only the standard library;
- the sample page (py/app: main.py, sample_page.py) imports the library, the standard
  library, the browser's modules and its own modules; never the boot, the tools or the
  tests;
- the tools (py/devtools) never import the tests, and their entry points run as modules
  (`python -m devtools...`): none of them patches sys.path;
- no Python file in py/ is over 600 lines.

And the test folders (tests/unit, tests/tools, tests/e2e, helpers shared in tests/): pytest
imports their modules by file name, so no two share one.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY = ROOT / "py"
TESTS_DIR = ROOT / "tests"
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
BROWSER = frozenset({"js", "pyodide", "pyscript"})
# Every module name the tests have (helpers, fixtures, test modules), and the folder.
TESTS = frozenset({path.stem for path in TESTS_DIR.rglob("*.py")} | {"tests"})
# Runs inside Pyodide at build time, where it puts its own inputs on Pyodide's sys.path.
IN_PYODIDE = PY / "devtools" / "build" / "bytecode_in_pyodide.py"


def top_level_imports(path: Path) -> set[str]:
    """The top-level names of every absolute import in a file (relative ones are its own)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def files(pattern: str) -> list[Path]:
    return sorted(path for path in PY.glob(pattern) if "__pycache__" not in path.parts)


def name(path: Path) -> str:
    return str(path.relative_to(PY))


def test_the_rooms_are_there():
    assert files("oidc_spa/*.py") and files("boot/*.py") and files("app/*.py")
    for room in ("build", "servers", "bench"):
        assert files(f"devtools/{room}/*.py"), room
    assert {path.name for path in files("boot/*")} >= {
        "fast_interpreter.mjs", "stdlib_fallback.py", "deferred_init.py"}
    assert {path.name for path in files("app/*.py")} >= {"main.py", "sample_page.py"}


@pytest.mark.parametrize("path", files("oidc_spa/**/*.py"), ids=name)
def test_the_library_imports_only_the_standard_library_pyjwt_and_the_browser(path: Path):
    # the shell: only these touch js
    shell = path.name in ("browser.py", "browser_keys.py", "browser_page.py", "browser_popup.py")
    allowed = STDLIB | {"jwt", "oidc_spa"} | (BROWSER if shell else set())
    assert top_level_imports(path) <= allowed


@pytest.mark.parametrize("path", files("boot/*.py"), ids=name)
def test_what_ships_as_the_boot_imports_only_the_standard_library(path: Path):
    assert top_level_imports(path) <= STDLIB


@pytest.mark.parametrize("path", files("app/*.py"), ids=name)
def test_the_app_imports_only_the_library_and_its_own_modules(path: Path):
    own = {module.stem for module in files("app/*.py")} - {"__init__"}
    assert top_level_imports(path) <= STDLIB | BROWSER | {"oidc_spa"} | own


@pytest.mark.parametrize("path", files("devtools/**/*.py"), ids=name)
def test_the_tools_never_import_the_tests(path: Path):
    assert not top_level_imports(path) & TESTS


@pytest.mark.parametrize("path", [p for p in files("devtools/**/*.py") if p != IN_PYODIDE],
                         ids=name)
def test_the_tools_run_as_modules_without_patching_sys_path(path: Path):
    source = path.read_text()
    assert not any(patch in source for patch in ("sys.path.insert", "sys.path.append",
                                                 "sys.path[", "sys.path +=", "sys.path ="))


@pytest.mark.parametrize("path", files("**/*.py"), ids=name)
def test_no_file_in_py_is_over_600_lines(path: Path):
    assert len(path.read_text().splitlines()) <= 600


def test_no_two_test_modules_share_a_name():
    stems = Counter(path.stem for path in TESTS_DIR.rglob("*.py")
                    if path.name != "conftest.py" and "__pycache__" not in path.parts)
    assert [stem for stem, count in stems.items() if count > 1] == []
