"""Where the repository's parts are, and how to run a devtools module as a child process.

Entry points are modules, run with `python -m devtools.<folder>.<module>`: scripts/setup
puts py/ on the virtualenv's import path (a .pth file), the Pages workflow sets
PYTHONPATH=py. A child process gets py/ on its PYTHONPATH from child_env(), so it finds
the same modules whichever way its parent found them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

PY = Path(__file__).resolve().parents[1]
ROOT = PY.parent
# The page's runtime boot (fast_interpreter.mjs, stdlib_fallback, deferred_init) and the
# sample page's Python (main.py, sample_page.py): shipped, so they live outside devtools.
BOOT = PY / "boot"
APP = PY / "app"


def child_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with py/ first on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    rest = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    env["PYTHONPATH"] = os.pathsep.join([str(PY), *(e for e in rest if e != str(PY))])
    return env


def module_command(module: str, *args: str) -> list[str]:
    """The command that runs `module` (e.g. "devtools.servers.api") with this Python;
    run it with env=child_env()."""
    return [sys.executable, "-m", module, *args]
