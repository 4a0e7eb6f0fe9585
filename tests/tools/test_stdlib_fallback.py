"""stdlib_fallback on CPython: a trimmed zip on sys.path, a full zip fetched on first need."""

from __future__ import annotations

import importlib
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from boot import stdlib_fallback
from boot.stdlib_fallback import LEFT_OUT_LIST, LeftOutModuleFinder, without_docstrings

# Made-up module names, so nothing real is shadowed or left in sys.modules.
PACKAGE = "fallbackpkg"
TRIMMED = {f"{PACKAGE}/__init__.py": '"""kept"""\nKEPT = True\n'}
FULL = {
    f"{PACKAGE}/__init__.py": '"""kept"""\nKEPT = True\n',
    f"{PACKAGE}/extra.py": (
        '"""A docstring."""\ndef f():\n    """Doc."""\n    assert False, "asserts run"\n'
    ),
    f"{PACKAGE}/sub/__init__.py": '"""sub"""\n',
    f"{PACKAGE}/sub/leaf.py": 'class Leaf:\n    """Only a docstring."""\n',
    "fallbackmod.py": "VALUE = 42\n",
}
# A package of the build's second (app) zip, with a left-out submodule of its own.
APP_PACKAGE = "fallbackapp"
FULL[f"{APP_PACKAGE}/__init__.py"] = ""
FULL[f"{APP_PACKAGE}/extra.py"] = "FROM_FULL = True\n"
LEFT_OUT = [f"{PACKAGE}.extra", f"{PACKAGE}.sub", f"{PACKAGE}.sub.leaf", "fallbackmod",
            f"{APP_PACKAGE}.extra"]


def write_zip(path: Path, files: dict[str, str]) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return str(path)


class FullZip:
    """Stands in for the page's synchronous request: counts reads, can fail."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads = 0
        self.failure: Exception | None = None

    def __call__(self) -> bytes:
        self.reads += 1
        if self.failure is not None:
            raise self.failure
        return self.data


@pytest.fixture
def fallback(tmp_path: Path) -> Iterator[tuple[LeftOutModuleFinder, FullZip]]:
    trimmed = write_zip(tmp_path / "trimmed.zip",
                        {**TRIMMED, LEFT_OUT_LIST: "\n".join(LEFT_OUT)})
    app = write_zip(tmp_path / "app.zip", {f"{APP_PACKAGE}/__init__.py": ""})
    full_source = write_zip(tmp_path / "source.zip", FULL)
    reader = FullZip(Path(full_source).read_bytes())
    full = str(tmp_path / "full.zip")
    saved = list(sys.path), list(sys.meta_path), list(sys.path_hooks)
    sys.path[:0] = [trimmed, app]
    finder = stdlib_fallback.install(reader, app, trimmed_zip=trimmed, full_zip=full)
    try:
        yield finder, reader
    finally:
        sys.path[:], sys.meta_path[:], sys.path_hooks[:] = saved
        for name in [n for n in sys.modules
                     if n.split(".")[0] in (PACKAGE, APP_PACKAGE, "fallbackmod")]:
            del sys.modules[name]
        for key in [k for k in sys.path_importer_cache if k.startswith(str(tmp_path))]:
            del sys.path_importer_cache[key]
        importlib.invalidate_caches()


def test_kept_modules_import_without_fetching(fallback) -> None:
    _, reader = fallback
    package = importlib.import_module(PACKAGE)
    assert package.KEPT and reader.reads == 0


def test_a_left_out_top_level_module_comes_from_the_full_zip(fallback) -> None:
    _, reader = fallback
    module = importlib.import_module("fallbackmod")
    assert module.VALUE == 42
    assert module.__file__.endswith("full.zip/fallbackmod.py")
    assert reader.reads == 1


def test_a_left_out_submodule_of_a_kept_package_is_found(fallback) -> None:
    _, reader = fallback
    extra = importlib.import_module(f"{PACKAGE}.extra")
    assert extra.__file__.endswith(f"full.zip/{PACKAGE}/extra.py")
    # Compiled like the precompiled modules: no docstrings, asserts kept.
    assert extra.__doc__ is None and extra.f.__doc__ is None
    with pytest.raises(AssertionError, match="asserts run"):
        extra.f()
    importlib.import_module("fallbackmod")
    assert reader.reads == 1  # fetched once for all


def test_a_left_out_submodule_of_an_app_zip_package_is_found(fallback) -> None:
    extra = importlib.import_module(f"{APP_PACKAGE}.extra")
    assert extra.FROM_FULL and extra.__file__.endswith(f"full.zip/{APP_PACKAGE}/extra.py")


def test_submodules_of_a_package_from_the_full_zip_lose_docstrings_too(fallback) -> None:
    leaf = importlib.import_module(f"{PACKAGE}.sub.leaf")
    assert leaf.Leaf.__doc__ is None
    assert type(leaf.__loader__).__name__ == "_DocstringFreeLoader"


def test_a_name_that_exists_nowhere_fails_without_fetching(fallback) -> None:
    _, reader = fallback
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("_fallback_nowhere_winapi")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"{PACKAGE}.nowhere")
    assert reader.reads == 0


def test_a_failed_fetch_is_a_clear_import_error_and_is_retried(fallback) -> None:
    _, reader = fallback
    reader.failure = OSError("HTTP 404")
    with pytest.raises(ImportError, match=r"left out of this build's standard library.*HTTP 404"):
        importlib.import_module("fallbackmod")
    reader.failure = None
    assert importlib.import_module("fallbackmod").VALUE == 42
    assert reader.reads == 2


def test_without_a_left_out_list_nothing_is_fetched(tmp_path: Path) -> None:
    trimmed = write_zip(tmp_path / "trimmed.zip", TRIMMED)
    reader = FullZip(b"")
    finder = LeftOutModuleFinder(reader, trimmed, str(tmp_path / "full.zip"))
    assert finder.find_spec("fallbackmod", None) is None
    assert reader.reads == 0


def test_without_docstrings_keeps_line_numbers_and_empty_bodies_valid() -> None:
    code = without_docstrings('"""m"""\nclass C:\n    """only"""\n\ndef g():\n    """d"""\n'
                              '    return 1 / 0\n', "<test>")
    namespace: dict = {}
    exec(code, namespace)
    assert namespace.get("__doc__") is None and namespace["C"].__doc__ is None
    with pytest.raises(ZeroDivisionError) as raised:
        namespace["g"]()
    assert raised.traceback[-1].lineno + 1 == 7  # pytest counts lines from 0
