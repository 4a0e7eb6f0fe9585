"""Precompiled Python for the fast start: one zip of bytecode that replaces Pyodide's
standard library.

Pyodide's npm python_stdlib.zip holds only .py sources, so every module imported
at start-up is compiled on every page load, and that is most of Pyodide's start
time. This module runs Pyodide itself in Node.js at build time (so the bytecode
matches the browser's CPython 3.14 exactly) and writes a zip of .pyc files:
- the standard library, trimmed to the modules that the page imports (found by
  importing the page, oidc_spa, PyJWT and PyScript's own Python package in
  Pyodide, plus what Pyodide imports to start and a few that error paths import
  lazily), leaving out those frozen into the interpreter;
- oidc_spa, PyJWT, PyScript's package and the page module, precompiled too;
- stdlib_fallback, which imports any left-out module from Pyodide's full
  standard library (kept on the site, fetched only then), and the list of
  left-out names it answers for.
- deferred_init, which runs the `__init__` of PyJWT's and PyScript's packages
  only when something uses a name from them (so PyJWT's JWKS client and its
  urllib/http/email imports, which the page never uses, are left out too).
Sources, docstrings and column positions are left out to keep the download
small: tracebacks then show no source lines, but keep file names, line numbers
and messages.

Two zips come out. The boot zip holds what Pyodide imports to start and replaces
its standard library; the app zip holds the rest (PyScript's package, PyJWT,
oidc_spa, the page, and what they import), and the page mounts it once Pyodide
has started: it downloads while Pyodide boots instead of before.

Each ships as a gzip file of an uncompressed (stored) zip. Static hosts such as
GitHub Pages do not compress .zip files, and gzip over the whole archive is about
10 % smaller than zip's deflate of each file on its own; the page inflates it
with the browser's DecompressionStream, and Python then reads each module without
inflating it.

The result is cached under .cache/bytecode/ by a hash of everything that goes in.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from devtools.paths import BOOT

# Where the page mounts the two zips; fast_interpreter.mjs must use the same paths
# (build.py checks), and they are compiled into the modules' file names.
BOOT_ZIP_MOUNT = "/lib/python_boot.zip"
APP_ZIP_MOUNT = "/lib/python_app.zip"



# The two scripts the compilation runs: real files, linted like the rest.
IN_NODE = Path(__file__).with_name("bytecode_in_node.mjs")
IN_PYODIDE = Path(__file__).with_name("bytecode_in_pyodide.py")


def compile_script() -> str:
    """bytecode_in_pyodide.py with the mount paths filled in."""
    return IN_PYODIDE.read_text().replace("__APP_ZIP_MOUNT__", APP_ZIP_MOUNT) \
        .replace("__BOOT_ZIP_MOUNT__", BOOT_ZIP_MOUNT)

# Shipped in the boot zip, and installed by the page (see their docstrings):
# stdlib_fallback imports what the trimming left out; deferred_init runs PyJWT's and
# PyScript's package __init__ only when something uses them.
BOOT_SOURCES = (BOOT / "stdlib_fallback.py", BOOT / "deferred_init.py")


class BytecodeError(Exception):
    """Node.js or Pyodide failed to compile; the message carries their output."""


def cache_key(*inputs: Path) -> str:
    digest = hashlib.sha256(IN_NODE.read_bytes() + compile_script().encode())
    for path in inputs:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:32]


def compile_bytecode_zips(
    *, pyodide_dir: Path, pyscript_python: Path, app_zip: Path, boot_out: Path,
    app_out: Path, cache: Path,
) -> None:
    """Write the boot and app bytecode zips, gzipped (from the cache when the inputs are
    unchanged)."""
    key = cache_key(pyodide_dir / "pyodide.asm.wasm", pyodide_dir / "python_stdlib.zip",
                    pyscript_python, app_zip, *BOOT_SOURCES)
    cached = cache / key
    if not (cached / "app.zip.gz").is_file():
        node = shutil.which("node")
        if node is None:
            raise BytecodeError("Node.js is needed to precompile Python (or build with --plain)")
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as work:
            script, compile_py = Path(work) / "compile.mjs", Path(work) / "compile.py"
            shutil.copyfile(IN_NODE, script)
            compile_py.write_text(compile_script())
            partial = Path(work) / "out"
            partial.mkdir()
            result = subprocess.run(
                [node, str(script), str(pyodide_dir), str(app_zip), str(pyscript_python),
                 str(partial), str(compile_py), *map(str, BOOT_SOURCES)],
                capture_output=True, text=True, timeout=300,
            )
            if result.returncode != 0 or not (partial / "app.zip").is_file():
                raise BytecodeError(f"precompiling Python failed:\n{result.stderr[-3000:]}")
            for name in ("boot.zip", "app.zip"):  # app.zip.gz last: it means complete
                stored = (partial / name).read_bytes()
                (partial / f"{name}.gz").write_bytes(gzip.compress(stored, 9, mtime=0))
            shutil.rmtree(cached, ignore_errors=True)
            shutil.move(partial, cached)
    shutil.copyfile(cached / "boot.zip.gz", boot_out)
    shutil.copyfile(cached / "app.zip.gz", app_out)
