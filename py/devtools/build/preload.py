"""Start-up hints for the fast page: Pyodide's start-up files named up front, and the
interpreter module run early. (`first_lane_hints` names the MicroPython first lane's
files instead, for the two-lane page: see docs/two-lanes.md.)

Without hints the browser finds Pyodide's files one import at a time: core.js,
its chunk, pyscript.toml, the interpreter module, pyodide.mjs, and only then the
WebAssembly and the standard library. On a real link each step costs a round
trip. With the hints, index.html asks for the interpreter module, pyodide.mjs,
pyodide.asm.mjs and the boot zip at once, and runs the interpreter module as a
module script of its own, ahead of PyScript's: Pyodide then boots while
PyScript's JavaScript loads (see boot/fast_interpreter.mjs).

PyScript's own files are hinted too, after Pyodide's and at low priority. Over
HTTP/1.1 the browser runs six requests per host at once and gives a free
connection to the most urgent request waiting: with PyScript's eight chunks
hinted at the same priority, the WebAssembly request waited about 80 ms for a
connection on the emulated link; without hints for them, PyScript found its
plugin chunks only after Pyodide had booted, about 100 ms late on a cold load.

Pyodide's two JavaScript files also get V8's explicit compile hint (a first line
`//# allFunctionsCalledOnLoad`, honoured since Chrome 136): their functions are
compiled off the main thread while the file streams in, instead of one by one
when Pyodide boots. Measured here: about 60 ms less on the emulated link, no
change warm. The first lane's two modules (its boot and micropython.mjs) get it too: in a
new tab of a warm browser, V8 otherwise compiled about 130 of micropython.mjs's functions
one by one on the main thread while MicroPython started (Chromium trace, docs/performance.md).

The WebAssembly module is not hinted: Chromium's wasm code cache then misses, and
warm loads get slower (measured in the start-up study).
"""

from __future__ import annotations

import re
from pathlib import Path

MARKER = "<!-- preload -->"
# PyScript chunks imported on every start (the plugins even when disabled in
# pyscript.toml: PyScript loads them for its other script type, mpy).
PYSCRIPT_CHUNKS = ("core", "toml", "error", "deprecations-manager", "donkey", "py-editor",
                   "py-game", "py-terminal")
# "./NAME-HASH.js": Vite's hashes are 8 characters, and may contain "-" too.
_CHUNK_REFERENCE = re.compile(r"""["']\./([\w-]+)-[\w-]{8}\.js["']""")
# Fetched at low priority: PyScript's config (read before it asks for the interpreter),
# then the page's script and its settings (needed once Pyodide has started). A
# deployment may write auth_config.json after the build: hinted only if it is there.
LATE_FETCHES = ("pyscript.toml", "main.py")
LATE_FETCHES_IF_PRESENT = ("auth_config.json",)

# V8's magic comment: compile every function of this file eagerly, in the background.
COMPILE_HINT = "//# allFunctionsCalledOnLoad\n"
# Called throughout Pyodide's boot.
EAGER_MODULES = ("pyodide.mjs", "pyodide.asm.mjs")
# What the fast interpreter loads Pyodide through (build.NO_JSPI_INTERPRETER).
NO_JSPI_MODULE = "pyodide-no-jspi.mjs"


class PreloadError(Exception):
    """A hinted file is missing: the hints would point at nothing."""


def pyscript_chunks(pyscript: Path) -> list[str]:
    """The start-up chunks, by the hashed names core.js and its chunk import them with."""
    found: dict[str, str] = {}
    for source in ("core.js", *sorted(p.name for p in pyscript.glob("core-*.js"))):
        for match in _CHUNK_REFERENCE.finditer((pyscript / source).read_text()):
            found.setdefault(match.group(1), match.group(0)[3:-1])
    missing = [name for name in PYSCRIPT_CHUNKS if name not in found]
    if missing:
        raise PreloadError(f"PyScript chunks not found in {pyscript}: {', '.join(missing)}")
    return [found[name] for name in PYSCRIPT_CHUNKS]


def fast_page_hints(site: Path, interpreter: str, stdlib_zip: str) -> str:
    """The hints for a fast build in `site` (paths relative to index.html): Pyodide's
    chain first (interpreter module, the module it imports, the WebAssembly's
    JavaScript glue, the boot zip), then PyScript's files and the late fetches at
    low priority."""
    runtime = [f"vendor/pyodide/{name}" for name in (interpreter, NO_JSPI_MODULE,
                                                     "pyodide.mjs", "pyodide.asm.mjs",
                                                     stdlib_zip)]
    pyscript = [f"vendor/pyscript/{name}" for name in pyscript_chunks(site / "vendor/pyscript")]
    for path in [*runtime, *pyscript, *LATE_FETCHES]:
        if not (site / path).is_file():
            raise PreloadError(f"{site / path} not found: nothing to preload")
    late = [*LATE_FETCHES, *(path for path in LATE_FETCHES_IF_PRESENT if (site / path).is_file())]
    module, *imported, glue, boot_zip = runtime
    # "crossorigin" makes the hint's request match fetch()'s defaults (cors mode,
    # same-origin credentials), or the browser would fetch the file twice.
    return "\n  ".join(
        [f'<script type="module" src="./{module}"></script>',
         *(f'<link rel="modulepreload" href="./{path}">' for path in imported),
         f'<link rel="modulepreload" href="./{glue}">',
         f'<link rel="preload" href="./{boot_zip}" as="fetch" crossorigin>']
        + [f'<link rel="modulepreload" href="./{path}" fetchpriority="low">'
           for path in pyscript]
        + [f'<link rel="preload" href="./{path}" as="fetch" crossorigin fetchpriority="low">'
           for path in late]
    )


def first_lane_hints(site: Path, boot: str, bundle: str) -> str:
    """The hints for the two-lane page in `site` (paths relative to index.html): what the
    first lane (MicroPython) needs before it can paint, all asked for at once: its boot
    module (named at the end of the page), MicroPython's module and WebAssembly, the
    lane's Python, the settings. Neither PyScript nor Pyodide is named: the first lane
    starts them when needed (py/app/first_lane.py), and a visitor who is signed out and
    never clicks downloads none of it."""
    modules = [boot, "vendor/micropython/micropython.mjs"]
    fetched = ["vendor/micropython/micropython.wasm", bundle]
    for path in [*modules, *fetched]:
        if not (site / path).is_file():
            raise PreloadError(f"{site / path} not found: nothing to preload")
    fetched += [path for path in LATE_FETCHES_IF_PRESENT if (site / path).is_file()]
    # "crossorigin" makes the hint's request match fetch()'s defaults (cors mode,
    # same-origin credentials), or the browser would fetch the file twice.
    return "\n  ".join(
        [f'<link rel="modulepreload" href="./{path}">' for path in modules]
        + [f'<link rel="preload" href="./{path}" as="fetch" crossorigin>' for path in fetched]
    )


def add_compile_hints(pyodide: Path) -> None:
    """Mark Pyodide's JavaScript for eager compilation (idempotent)."""
    for name in EAGER_MODULES:
        add_compile_hint(pyodide / name)


def add_compile_hint(path: Path) -> None:
    """Mark one JavaScript file for eager compilation (idempotent)."""
    source = path.read_text()
    if not source.startswith(COMPILE_HINT):
        path.write_text(COMPILE_HINT + source)


def insert_hints(html: str, hints: str) -> str:
    """index.html with `hints` where its preload marker is (a page without one is kept)."""
    return html.replace(MARKER, hints, 1)
