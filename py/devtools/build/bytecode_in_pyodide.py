"""Runs inside Pyodide, in Node.js, for devtools/build/bytecode.py (never imported on the
host): the page's import closure, trimming, compilation into the boot and app zips.

The "__..._MOUNT__" placeholders are replaced by bytecode.py with the mount paths.
"""

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
