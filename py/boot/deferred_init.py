"""Runs a package's `__init__` on first use of one of its names. Runs in the page.

Two packages the page starts with do most of their import work in `__init__`,
for names the page never uses:
- PyJWT's `jwt/__init__.py` re-exports its whole API, PyJWKClient included, and
  that client imports urllib.request, http.client and the email package: about
  half of the page's Python import time, for a client that cannot reach the
  network from a browser anyway. oidc_spa imports the submodules it uses
  (`jwt.api_jwt`, `jwt.api_jws`, ...) instead.
- PyScript imports its `pyscript` package before running the page, and that
  `__init__` imports all of PyScript's Python API (display, storage, workers,
  events, ...). The sample page uses none of it.

With this finder first on sys.meta_path, importing such a package (or one of its
submodules) makes the package module without running its `__init__`. The first
lookup of a name the module does not have yet (`jwt.decode`, `from pyscript
import display`, `jwt.__version__`, `dir(jwt)`) runs the real `__init__` in the
same module object, then answers: code that uses the package the usual way sees
what it always saw, only later. Submodules already imported are attributes as
usual and do not trigger it. Importing a submodule that no finder knows does: an
`__init__` may register modules of its own in sys.modules (PyScript's registers
`pyscript.js_modules` that way), and those must still import. The import system
then sets `__spec__` and friends on that object, as on any module it imports
(for PyScript's, a JavaScript object, they become properties of it).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

# Packages whose __init__ the page can do without.
PACKAGES = ("jwt", "pyscript")


class _DeferredInitLoader(importlib.abc.Loader):
    """Makes the package module (path and spec set, so submodules import) and leaves
    the real loader's exec_module for the first missing-name lookup."""

    def __init__(self, loader: Any, pending: dict[str, Callable[[], None]]) -> None:
        self._loader = loader
        self._pending = pending

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        loader, name = self._loader, module.__name__

        def run_init() -> None:
            # First, so that lookups while __init__ runs behave as in any module
            # being imported (a partly initialised package), with no recursion.
            self._pending.pop(name, None)
            del module.__getattr__, module.__dir__
            module.__loader__ = loader
            if module.__spec__ is not None:
                module.__spec__.loader = loader
            try:
                loader.exec_module(module)
            except BaseException:
                if sys.modules.get(name) is module:  # as a failed import would leave it
                    del sys.modules[name]
                raise

        def __getattr__(attribute: str) -> Any:
            run_init()
            try:
                return module.__dict__[attribute]
            except KeyError:
                raise AttributeError(f"module {name!r} has no attribute {attribute!r}"
                                     ) from None

        def __dir__() -> list[str]:
            run_init()
            return sorted(module.__dict__)

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__dir__ = __dir__  # type: ignore[method-assign]
        self._pending[name] = run_init


class _AlreadyImported(importlib.abc.Loader):
    """Hands the import system a module that a package's __init__ put in sys.modules."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def create_module(self, spec: ModuleSpec) -> Any:
        return self._module

    def exec_module(self, module: ModuleType) -> None:
        pass


class DeferredInitFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader that the other finders give for each package in `packages`."""

    def __init__(self, packages: Iterable[str]) -> None:
        self._packages = frozenset(packages)
        self._pending: dict[str, Callable[[], None]] = {}  # package: its deferred init

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        package = name.rpartition(".")[0]
        if name not in self._packages and package not in self._pending:
            return None
        spec = self._find_elsewhere(name, path, target)
        if name in self._packages:
            if spec is not None and spec.loader is not None \
                    and spec.submodule_search_locations is not None:
                spec.loader = _DeferredInitLoader(spec.loader, self._pending)
            return spec
        if spec is None:  # perhaps one that the package's __init__ registers
            self._pending[package]()
            if name in sys.modules:
                return importlib.util.spec_from_loader(name, _AlreadyImported(sys.modules[name]))
        return spec

    def _find_elsewhere(self, name: str, path: Sequence[str] | None,
                        target: ModuleType | None) -> ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    return spec
        return None


def install(packages: Iterable[str] = PACKAGES) -> DeferredInitFinder:
    """Put the finder first on sys.meta_path, before the packages are imported."""
    finder = DeferredInitFinder(packages)
    sys.meta_path.insert(0, finder)
    return finder
