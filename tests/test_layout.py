"""The dependency rule, checked: what each room of py/ may import.

- the library (py/oidc_spa) imports the standard library, PyJWT, and in its browser
  shell Pyodide's `js`/`pyodide`; never the page, the tools or the tests;
- what ships as the page's runtime boot (stdlib_fallback, deferred_init) imports only
  the standard library;
- the page (main.py, sample_page.py) imports the library, the standard library and the
  browser's modules; never the tools;
- the tools (py/devtools) never import the tests;
- no Python file in py/ is over 600 lines.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PY = Path(__file__).resolve().parents[1] / "py"
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
BROWSER = frozenset({"js", "pyodide", "pyscript"})
BOOT = ("devtools/stdlib_fallback.py", "devtools/deferred_init.py")
TESTS = frozenset({"conftest", "helpers", "inprocess_provider", "async_runner", "fault_proxy",
                   "faults", "tests"})


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
    return sorted(PY.glob(pattern))


@pytest.mark.parametrize("path", files("oidc_spa/*.py"), ids=lambda p: p.name)
def test_the_library_imports_only_the_standard_library_pyjwt_and_the_browser(path: Path):
    allowed = STDLIB | {"jwt", "oidc_spa"} | (BROWSER if path.name == "browser.py" else set())
    assert top_level_imports(path) <= allowed


@pytest.mark.parametrize("name", BOOT)
def test_what_ships_as_the_boot_imports_only_the_standard_library(name: str):
    assert top_level_imports(PY / name) <= STDLIB


@pytest.mark.parametrize("name", ["main.py", "sample_page.py"])
def test_the_page_imports_the_library_not_the_tools(name: str):
    assert top_level_imports(PY / name) <= STDLIB | BROWSER | {"oidc_spa", "sample_page"}


@pytest.mark.parametrize("path", files("devtools/**/*.py"), ids=lambda p: p.name)
def test_the_tools_never_import_the_tests(path: Path):
    assert not top_level_imports(path) & TESTS


@pytest.mark.parametrize("path", files("**/*.py"), ids=lambda p: str(p.relative_to(PY)))
def test_no_file_in_py_is_over_600_lines(path: Path):
    assert len(path.read_text().splitlines()) <= 600
