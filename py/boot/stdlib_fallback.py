"""Imports what the fast build's trimmed standard library left out. Runs in the page.

The fast build ships only the standard-library modules the page imports, in two
zips (see devtools/build/bytecode.py). Code that imports anything else (an app built
on oidc_spa, a rare error path) must still work: this finder, last on
sys.meta_path, fetches Pyodide's full standard library (sources) once, on the
first import of a module that was left out, and imports it from there; a left-out
submodule of a package in either zip is looked up in the same folder of the full
zip. That costs one download and a compile, so the e2e suite checks the sample
page never needs it.

Modules from the full zip lose their docstrings as they are compiled, like the
precompiled ones (the build uses without_docstrings() from here too): some
standard-library code combines a class's docstring with its base class's, and
would fail on a mix of the two.

Only names listed in LEFT_OUT_LIST (written into the trimmed zip by the build)
trigger the download: Python probes for platform modules that exist nowhere
(`_winapi`, `nt`, ...), and those must stay cheap misses.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import sys
import zipimport
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import CodeType, ModuleType
from typing import Any

# Inside the trimmed zip: one module name per line.
LEFT_OUT_LIST = "stdlib_left_out.txt"
FULL_ZIP_NAME = "python_stdlib_full.zip"


class _DocstringRemover(ast.NodeTransformer):
    def _strip(self, node: Any) -> Any:
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            docstring = body.pop(0)
            if not body:
                body.append(ast.copy_location(ast.Pass(), docstring))
        self.generic_visit(node)
        return node

    visit_Module = visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _strip


def without_docstrings(source: str | bytes, filename: str) -> CodeType:
    """Compile `source` as `python -OO` would treat docstrings (`__doc__` is None),
    but keep `assert` statements: they still run."""
    tree = _DocstringRemover().visit(ast.parse(source, filename))
    return compile(tree, filename, "exec", dont_inherit=True)


class _DocstringFreeLoader(importlib.abc.InspectLoader):
    """Executes a module from the full zip compiled by without_docstrings()."""

    def __init__(self, zip_loader: Any, filename: str) -> None:
        self._zip_loader = zip_loader
        self._filename = filename

    def get_source(self, fullname: str) -> str | None:
        return self._zip_loader.get_source(fullname)

    def is_package(self, fullname: str) -> bool:
        return self._zip_loader.is_package(fullname)

    def get_code(self, fullname: str) -> CodeType:
        return without_docstrings(self.get_source(fullname) or "", self._filename)


class _FullZipEntryFinder:
    """Path-entry finder for folders of the full zip: every module found there, also a
    submodule of a package that came from there, gets the docstring-free loader."""

    def __init__(self, path: str) -> None:
        self._zip = zipimport.zipimporter(path)

    def find_spec(self, fullname: str, target: ModuleType | None = None) -> ModuleSpec | None:
        spec = self._zip.find_spec(fullname, target)
        if spec is not None and spec.origin is not None:
            spec.loader = _DocstringFreeLoader(spec.loader, spec.origin)
            print(f"stdlib_fallback: {fullname} imported from the full standard library",
                  file=sys.stderr)
        return spec

    def invalidate_caches(self) -> None:
        self._zip.invalidate_caches()


class LeftOutModuleFinder:
    """Finds left-out standard-library modules in the full zip, fetched on first need."""

    def __init__(self, read_full_zip: Callable[[], Any], trimmed_zip: str,
                 full_zip: str, app_zip: str | None = None) -> None:
        self._read_full_zip = read_full_zip
        self._trimmed_zip = trimmed_zip  # holds LEFT_OUT_LIST
        self._trimmed_zips = [trimmed_zip] + ([app_zip] if app_zip else [])
        self._full_zip = full_zip
        self._left_out: frozenset[str] | None = None
        self._fetched = False

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name not in self.left_out():
            return None
        try:
            self._fetch_once()
        except Exception as error:  # offline, or the file is missing from the site
            raise ImportError(f"{name} is left out of this build's standard library, and "
                              f"the full one could not be fetched: {error}",
                              name=name) from None
        if path is None:
            search = [self._full_zip]
        else:  # a submodule: look in the same package folder of the full zip
            search = [self._full_zip + entry[len(zip_path):] for entry in path
                      for zip_path in self._trimmed_zips if entry.startswith(zip_path + "/")]
        return importlib.machinery.PathFinder.find_spec(name, search)

    def path_hook(self, path: str) -> _FullZipEntryFinder:
        """Claims the full zip's paths (sys.path_hooks); refuses every other path."""
        if path != self._full_zip and not path.startswith(self._full_zip + "/"):
            raise ImportError("not in the full standard library zip")
        return _FullZipEntryFinder(path)

    def left_out(self) -> frozenset[str]:
        if self._left_out is None:
            try:
                data = zipimport.zipimporter(self._trimmed_zip).get_data(LEFT_OUT_LIST)
            except OSError:
                data = b""
            self._left_out = frozenset(data.decode().split())
        return self._left_out

    def _fetch_once(self) -> None:
        if not self._fetched:
            data = self._read_full_zip()
            if not isinstance(data, bytes):  # a JavaScript Uint8Array, in the page
                data = data.to_bytes()
            with open(self._full_zip, "wb") as file:
                file.write(data)
            self._fetched = True


def install(read_full_zip: Callable[[], Any], app_zip: str | None = None, *,
            trimmed_zip: str | None = None, full_zip: str | None = None
            ) -> LeftOutModuleFinder:
    """Append the finder to sys.meta_path. `app_zip` is the build's second zip, whose
    packages may have left-out submodules too; the others default to Pyodide's places."""
    version = f"{sys.version_info.major}{sys.version_info.minor}"
    finder = LeftOutModuleFinder(
        read_full_zip,
        trimmed_zip or f"/lib/python{version}.zip",
        full_zip or f"/lib/{FULL_ZIP_NAME}",
        app_zip,
    )
    sys.path_hooks.insert(0, finder.path_hook)
    sys.meta_path.append(finder)
    return finder
