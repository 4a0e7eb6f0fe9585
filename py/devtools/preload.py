"""Start-up hints for the fast page: Pyodide's start-up files named up front, and the
interpreter module run early.

Without hints the browser finds Pyodide's files one import at a time: core.js,
its chunk, pyscript.toml, the interpreter module, pyodide.mjs, and only then the
WebAssembly and the standard library. On a real link each step costs a round
trip. With the hints, index.html asks for the interpreter module, pyodide.mjs,
pyodide.asm.mjs and the boot zip at once, and runs the interpreter module as a
module script of its own, ahead of PyScript's: Pyodide then boots while
PyScript's JavaScript loads (see devtools/fast_interpreter.mjs).

Only that chain is hinted. PyScript's own files are off the critical path (they
load and run while the WebAssembly downloads), and over HTTP/1.1 the browser runs
six requests per host at once: with PyScript's eight chunks hinted as well, the
WebAssembly request waited about 80 ms for a free connection on the emulated link.
The page's script and settings, needed as soon as Pyodide is up, are hinted at low
priority.

Pyodide's two JavaScript files also get V8's explicit compile hint (a first line
`//# allFunctionsCalledOnLoad`, honoured since Chrome 136): their functions are
compiled off the main thread while the file streams in, instead of one by one
when Pyodide boots. Measured here: about 60 ms less on the emulated link, no
change warm.

The WebAssembly module is not hinted: Chromium's wasm code cache then misses, and
warm loads get slower (measured in the start-up study).
"""

from __future__ import annotations

from pathlib import Path

MARKER = "<!-- preload -->"
# Needed only once Pyodide has started, but then at once: the page's script and its
# settings. Hinted at low priority, so that they wait for a free connection.
LATE_FETCHES = ("main.py", "auth_config.json")

# V8's magic comment: compile every function of this file eagerly, in the background.
COMPILE_HINT = "//# allFunctionsCalledOnLoad\n"
# Called throughout Pyodide's boot.
EAGER_MODULES = ("pyodide.mjs", "pyodide.asm.mjs")


class PreloadError(Exception):
    """A hinted file is missing: the hints would point at nothing."""


def fast_page_hints(site: Path, interpreter: str, stdlib_zip: str) -> str:
    """The hints for a fast build in `site` (paths relative to index.html): Pyodide's
    chain (interpreter module, the module it imports, the WebAssembly's JavaScript
    glue, the boot zip), then the late fetches at low priority."""
    runtime = [f"vendor/pyodide/{name}" for name in (interpreter, "pyodide.mjs",
                                                     "pyodide.asm.mjs", stdlib_zip)]
    for path in [*runtime, "main.py"]:
        if not (site / path).is_file():
            raise PreloadError(f"{site / path} not found: nothing to preload")
    # auth_config.json may be missing here: a deployment writes it later.
    late = [path for path in LATE_FETCHES if (site / path).is_file()]
    module, imported, glue, boot_zip = runtime
    # "crossorigin" makes the hint's request match fetch()'s defaults (cors mode,
    # same-origin credentials), or the browser would fetch the file twice.
    return "\n  ".join(
        [f'<script type="module" src="./{module}"></script>',
         f'<link rel="modulepreload" href="./{imported}">',
         f'<link rel="modulepreload" href="./{glue}">',
         f'<link rel="preload" href="./{boot_zip}" as="fetch" crossorigin>']
        + [f'<link rel="preload" href="./{path}" as="fetch" crossorigin fetchpriority="low">'
           for path in late]
    )


def add_compile_hints(pyodide: Path) -> None:
    """Mark Pyodide's JavaScript for eager compilation (idempotent)."""
    for name in EAGER_MODULES:
        path = pyodide / name
        source = path.read_text()
        if not source.startswith(COMPILE_HINT):
            path.write_text(COMPILE_HINT + source)


def insert_hints(html: str, hints: str) -> str:
    """index.html with `hints` where its preload marker is (a page without one is kept)."""
    return html.replace(MARKER, hints, 1)
