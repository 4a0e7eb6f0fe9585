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

# Runs in Node.js: load the vendored Pyodide, hand it the inputs, run COMPILE_PY.
NODE_SCRIPT = r"""
import fs from "node:fs";
const [pyodideDir, appZip, pyscriptDir, outDir, compilePy, ...bootPy] =
  process.argv.slice(2);
const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
// no_debug_ranges: code objects keep line numbers but no column ranges. Columns only
// place the ^^^ markers under source lines, and this build ships no source; they
// were a quarter of the zip.
const pyodide = await loadPyodide({
  indexURL: pyodideDir + "/", args: ["-X", "no_debug_ranges"],
});
pyodide.FS.mkdirTree("/build/pyscript");
pyodide.FS.writeFile("/build/app.zip", fs.readFileSync(appZip));
for (const path of bootPy) {
  pyodide.FS.writeFile("/build/" + path.split("/").pop(), fs.readFileSync(path));
}
for (const name of fs.readdirSync(pyscriptDir)) {
  if (name.endsWith(".py")) {
    pyodide.FS.writeFile("/build/pyscript/" + name, fs.readFileSync(pyscriptDir + "/" + name));
  }
}
pyodide.runPython(fs.readFileSync(compilePy, "utf8"));
for (const name of ["boot.zip", "app.zip"]) {
  fs.writeFileSync(outDir + "/" + name, pyodide.FS.readFile("/build/out/" + name));
}
"""

# Where the page mounts the two zips; fast_interpreter.mjs must use the same paths
# (build.py checks), and they are compiled into the modules' file names.
BOOT_ZIP_MOUNT = "/lib/python_boot.zip"
APP_ZIP_MOUNT = "/lib/python_app.zip"

# Runs inside Pyodide: import closure, trimming, compilation.
COMPILE_PY = r'''
import sys
# What Pyodide imported to start: these go in the boot zip, everything else in the app
# zip, which the page mounts after Pyodide has started.
STARTUP = set(sys.modules)

import _imp
import importlib
import importlib.util
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

sys.path.insert(0, "/build")
from stdlib_fallback import LEFT_OUT_LIST, without_docstrings
# As in the page: packages whose __init__ runs on first use, so that what only their
# __init__ imports stays out of the zips (fetched by stdlib_fallback if ever used).
import deferred_init
deferred_init.install()

STDLIB = "/lib/python314.zip"
APP = "/build/app.zip"
# Where the page mounts the two zips (fast_interpreter.mjs): file names in tracebacks.
BOOT_ZIP = "__BOOT_ZIP_MOUNT__"
APP_ZIP = "__APP_ZIP_MOUNT__"
# Imported by Pyodide and PyScript in the page but not here (no DOM), or lazily on
# error paths; whatever is still missed is fetched by stdlib_fallback, at a cost the
# e2e suite would notice.
ALWAYS = {"_pyodide", "_pyodide._base", "_pyodide._core_docs", "_pyodide._importhook",
          "_pyodide.docstring", "_pyodide.jsbind", "pyodide", "pyodide.code", "pyodide.ffi",
          "pyodide.webloop", "pyodide._package_loader", "pyodide._state", "pyodide.common",
          "pyodide.http", "pyodide.http._exceptions", "pyodide.http._pyfetch",
          "pyodide.http.pyxhr", "pyodide.ffi.wrappers",
          "traceback", "linecache", "tokenize", "token", "warnings", "_py_warnings",
          "json", "json.decoder", "json.encoder", "json.scanner", "inspect", "dis",
          "html", "base64", "ast", "weakref", "textwrap", "_colorize", "contextvars",
          "asyncio.exceptions", "asyncio.timeouts"}
# Of the ~120 codecs only these (and any imported while tracing) are kept: a login page
# needs UTF-8 and the few that Python itself falls back on.
CODECS = {"aliases", "ascii", "latin_1", "utf_8", "utf_8_sig", "idna",
          "raw_unicode_escape", "unicode_escape", "punycode"}
# Frozen into the interpreter, so never read from the zip.
FROZEN_ALIASES = {"importlib._bootstrap", "importlib._bootstrap_external"}
BOOT_MODULES = ("stdlib_fallback", "deferred_init")  # import machinery the page installs

def module_of(path):
    # "email/mime/__init__.py" -> "email.mime"; "os.py" -> "os"
    return path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")

def closure():
    """Modules the page imports: found by importing it here and exercising it.

    A static closure (modulefinder) drags in nearly the whole library through
    rarely used branches; the page's real imports are a fraction of it. What only
    runs in a browser (js.document) fails here after its imports are done, which
    is all this needs.
    """
    sys.path[:0] = [APP, "/build"]
    with zipfile.ZipFile(APP) as app:
        roots = sorted({module_of(n) for n in app.namelist() if n.endswith(".py")})
    # A deferred package's submodules count only when the page imports them.
    roots = [root for root in roots if root.split(".")[0] not in deferred_init.PACKAGES]
    for root in roots + ["pyscript"] + [f"pyscript.{p}" for p in PYSCRIPT_MODULES]:
        try:
            importlib.import_module(root)
        except Exception:
            pass
    exercise()
    for name in sorted(ALWAYS) + [f"encodings.{codec}" for codec in CODECS]:
        importlib.import_module(name)  # with whatever they import in turn
    return set(sys.modules)

def exercise():
    """Paths the page takes at run time that import more: JWT decoding, error reports."""
    import traceback
    from jwt.api_jws import get_unverified_header
    from jwt.api_jwt import decode, encode
    token = encode({"exp": 1, "aud": "a"}, "k" * 32, algorithm="HS256")
    get_unverified_header(token)
    decode(token, options={"verify_signature": False})
    try:
        raise ValueError("exercise")
    except ValueError as error:
        "".join(traceback.format_exception(error))

def frozen(name):
    return _imp.is_frozen(name) or name in FROZEN_ALIASES

def pyc(name, source, archive):
    # Docstrings are a third of the bytecode, and nothing in the page reads them.
    code = without_docstrings(source, f"{archive}/{name}")
    # Unchecked hash-based pyc: valid without the source, never re-validated.
    return _code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)

def package_of(path):
    return path.rpartition("/")[0].replace("/", ".")

def read_zip(path):
    with zipfile.ZipFile(path) as z:
        return {info.filename: z.read(info) for info in z.infolist() if not info.is_dir()}

# By top-level package: a package's submodules can only be found in its own folder, so
# a package Pyodide starts with lives wholly in the boot zip. Pyodide's own packages
# are there too, in case the browser starts with a module that Node.js does not.
BOOT_PACKAGES = {name.split(".")[0] for name in STARTUP} | {"_pyodide", "pyodide"}

def at_boot(module):
    return module.split(".")[0] in BOOT_PACKAGES

def write_zip(path, files):
    # Stored: the build gzips the whole archive (see the module's docstring).
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, files[name])

def main():
    keep = {name for name in closure() if not frozen(name)}
    boot, app = {}, {}
    left_out = set()
    for name, data in read_zip(STDLIB).items():
        module = module_of(name) if name.endswith(".py") else package_of(name)
        target, archive = (boot, BOOT_ZIP) if at_boot(module) else (app, APP_ZIP)
        if name.endswith(".py"):
            if module in keep:
                target[name[:-3] + ".pyc"] = pyc(name, data, archive)
            else:
                left_out.add(module)
        elif module in keep:  # data files of kept packages
            target[name] = data
    for name, data in read_zip(APP).items():
        app[name[:-3] + ".pyc" if name.endswith(".py") else name] = \
            pyc(name, data, APP_ZIP) if name.endswith(".py") else data
    # PyScript's own package, which it otherwise writes out and compiles on every load.
    for module in ["__init__", *PYSCRIPT_MODULES]:
        name = f"pyscript/{module}.py"
        with open(f"/build/{name}", "rb") as source:
            app[name[:-3] + ".pyc"] = pyc(name, source.read(), APP_ZIP)
    for module in BOOT_MODULES:
        with open(f"/build/{module}.py", "rb") as source:
            boot[f"{module}.pyc"] = pyc(f"{module}.py", source.read(), BOOT_ZIP)
    boot[LEFT_OUT_LIST] = "\n".join(sorted(left_out)).encode()
    os.makedirs("/build/out")
    write_zip("/build/out/boot.zip", boot)
    write_zip("/build/out/app.zip", app)

import os
PYSCRIPT_MODULES = sorted(n[:-3] for n in os.listdir("/build/pyscript") if n != "__init__.py")
main()
'''


COMPILE_PY = COMPILE_PY.replace("__APP_ZIP_MOUNT__", APP_ZIP_MOUNT) \
    .replace("__BOOT_ZIP_MOUNT__", BOOT_ZIP_MOUNT)

# Shipped in the boot zip, and installed by the page (see their docstrings):
# stdlib_fallback imports what the trimming left out; deferred_init runs PyJWT's and
# PyScript's package __init__ only when something uses them.
BOOT_SOURCES = (Path(__file__).with_name("stdlib_fallback.py"),
                Path(__file__).with_name("deferred_init.py"))


class BytecodeError(Exception):
    """Node.js or Pyodide failed to compile; the message carries their output."""


def cache_key(*inputs: Path) -> str:
    digest = hashlib.sha256(NODE_SCRIPT.encode() + COMPILE_PY.encode())
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
            script.write_text(NODE_SCRIPT)
            compile_py.write_text(COMPILE_PY)
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
