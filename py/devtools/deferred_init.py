"""Runs a package's `__init__` on first use of one of its names. Runs in the page.

PyJWT's `jwt/__init__.py` re-exports its whole API, PyJWKClient included, and
that client imports urllib.request, http.client and the email package: about
half of the page's Python import time, for a client that cannot reach the
network from a browser anyway. oidc_spa imports the submodules it uses
(`jwt.api_jwt`, `jwt.api_jws`, ...) instead; with this finder first on
sys.meta_path, importing those makes the `jwt` package module without running
its `__init__`.

The first lookup of a name the package module does not have yet (`jwt.decode`,
`from jwt import PyJWKClient`, `jwt.__version__`, `dir(jwt)`) runs the real
`__init__` in the same module object, then answers: code that uses the package
the usual way sees what it always saw, only later. Submodules already imported
are attributes as usual and do not trigger it.

Only for packages whose `__init__` merely re-exports (PACKAGES): one that
registers things at import (PyScript's registers `pyscript.js_modules.*`) must
not be deferred.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

# Packages whose __init__ only re-exports names from their own submodules.
PACKAGES = ("jwt",)


class _DeferredInitLoader(importlib.abc.Loader):
    """Makes the package module (path and spec set, so submodules import) and leaves
    the real loader's exec_module for the first missing-name lookup."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        loader = self._loader

        def run_init() -> None:
            # First, so that lookups while __init__ runs behave as in any module
            # being imported (a partly initialised package), with no recursion.
            del module.__getattr__, module.__dir__
            module.__loader__ = loader
            if module.__spec__ is not None:
                module.__spec__.loader = loader
            loader.exec_module(module)

        def __getattr__(name: str) -> Any:
            run_init()
            try:
                return module.__dict__[name]
            except KeyError:
                raise AttributeError(f"module {module.__name__!r} has no attribute "
                                     f"{name!r}") from None

        def __dir__() -> list[str]:
            run_init()
            return sorted(module.__dict__)

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__dir__ = __dir__  # type: ignore[method-assign]


class DeferredInitFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader that the other finders give for each package in `packages`."""

    def __init__(self, packages: Iterable[str]) -> None:
        self._packages = frozenset(packages)

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name not in self._packages:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and spec.submodule_search_locations is not None:
            spec.loader = _DeferredInitLoader(spec.loader)
        return spec


def install(packages: Iterable[str] = PACKAGES) -> DeferredInitFinder:
    """Put the finder first on sys.meta_path, before the package is imported."""
    finder = DeferredInitFinder(packages)
    sys.meta_path.insert(0, finder)
    return finder
