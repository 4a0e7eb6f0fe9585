"""MicroPython's memory after the first lane's import, made once at build time.

Importing the lane's modules (first_lane.py and the portable rules, 27 KB of bytecode)
was about 14 ms of a warm new tab's start: MicroPython creating the modules' functions,
classes, constants and compiled patterns. The same import gives the same memory every
time, so the build does it once, in Node.js with the page's own MicroPython files
(first_lane_snapshot.mjs), and keeps the chunks of memory it changed, before and after.
The page's boot (py/boot/first_lane_boot.mjs) writes them over its MicroPython when that
is exactly in the `before` state, and imports as usual otherwise.

The import must leave MicroPython holding no JavaScript object (a page's objects cannot
come from a build): modules do not touch `js` at import time (first_lane.py sets its
`document` in main()), and the build refuses a snapshot that breaks this.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

IN_NODE = Path(__file__).with_name("first_lane_snapshot.mjs")
# Small enough that a chunk is mostly bytes the import changed, large enough that there
# are few (about 55 for the sample page; 35 KB gzipped in first_lane.json).
CHUNK_BYTES = 1024


class SnapshotError(Exception):
    """Node.js is missing, or the import failed or left JavaScript objects held."""


def first_lane_snapshot(micropython_mjs: Path, bundle: Path, module: str) -> dict[str, Any]:
    """The snapshot of importing `module` with `bundle`'s files, for first_lane.json."""
    node = shutil.which("node")
    if node is None:
        raise SnapshotError("Node.js is needed to build the first lane's snapshot")
    done = subprocess.run(
        [node, str(IN_NODE), micropython_mjs.resolve().as_uri(), str(bundle), module,
         str(CHUNK_BYTES)],
        capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise SnapshotError(f"importing {module} in MicroPython failed:\n{done.stderr[-3000:]}")
    snapshot = json.loads(done.stdout)
    held = snapshot.pop("js_objects")
    if held:
        raise SnapshotError(f"importing {module} left MicroPython holding {held} JavaScript "
                            "object(s): modules must not touch `js` at import time")
    return snapshot
