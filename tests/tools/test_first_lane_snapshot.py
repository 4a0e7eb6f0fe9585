"""MicroPython's memory after the first lane's import, made at build time
(devtools/build/first_lane_snapshot.py), with the page's own MicroPython in Node.js.
That the page writes it and runs from it is tests/e2e/test_first_lane_from_snapshot.py."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from devtools.build.first_lane_bundle import first_lane_bundle
from devtools.build.first_lane_snapshot import SnapshotError, first_lane_snapshot
from devtools.paths import ROOT

PACKAGE = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
MICROPYTHON = PACKAGE / "micropython.mjs"
VERSION = json.loads((ROOT / "package.json").read_text())["dependencies"][
    "@micropython/micropython-webassembly-pyscript"]

pytestmark = pytest.mark.skipif(not MICROPYTHON.is_file(),
                                reason="node_modules missing: run scripts/setup")


def bundle_of(tmp_path: Path, sources: dict[str, str]) -> Path:
    """first_lane.json for these modules (path -> source), as the build writes it."""
    paths = {}
    for path, source in sources.items():
        file = tmp_path / "src" / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(source)
        paths[path] = file
    bundle = tmp_path / "first_lane.json"
    bundle.write_text(json.dumps(first_lane_bundle(paths, VERSION)))
    return bundle


def test_the_snapshot_is_the_chunks_the_import_changed(tmp_path: Path) -> None:
    bundle = bundle_of(tmp_path, {
        "lane.py": "import pkg.rules\nTABLE = {'size': len(pkg.rules.NAMES)}\n",
        "pkg/__init__.py": "",
        "pkg/rules.py": "NAMES = ['a' * n for n in range(40)]\n",
        "pkg/later.py": "LATER = 1\n",  # never imported by lane
    })
    snapshot = first_lane_snapshot(MICROPYTHON, bundle, "lane")
    # Only what the import read: the boot writes the rest as files.
    assert snapshot["imported"] == ["lane.mpy", "pkg/__init__.mpy", "pkg/rules.mpy"]
    size = snapshot["chunk_bytes"]
    assert snapshot["memory_bytes"] % size == 0
    indexes = [index for index, _before, _after in snapshot["chunks"]]
    assert indexes == sorted(set(indexes)) and indexes
    assert indexes[-1] < snapshot["memory_bytes"] // size
    for _index, before, after in snapshot["chunks"]:
        before, after = base64.b64decode(before), base64.b64decode(after)
        assert len(before) == len(after) == size
        assert before != after
    # The import's work is in memory: the module's strings, for one.
    changed = b"".join(base64.b64decode(after) for _i, _b, after in snapshot["chunks"])
    assert b"pkg/rules.py" in changed


def test_the_same_import_gives_the_same_snapshot(tmp_path: Path) -> None:
    """The page relies on MicroPython starting the same way every time."""
    bundle = bundle_of(tmp_path, {"lane.py": "X = [str(n) for n in range(100)]\n"})
    assert first_lane_snapshot(MICROPYTHON, bundle, "lane") == first_lane_snapshot(
        MICROPYTHON, bundle, "lane")


def test_a_module_holding_a_javascript_object_is_refused(tmp_path: Path) -> None:
    """A page's objects cannot come from a build: `document = js.document` at import
    time would be Node's, not the page's."""
    bundle = bundle_of(tmp_path, {"lane.py": "import js\nCONSOLE = js.console\n"})
    with pytest.raises(SnapshotError, match="holding 1 JavaScript object"):
        first_lane_snapshot(MICROPYTHON, bundle, "lane")


def test_an_import_that_fails_is_reported(tmp_path: Path) -> None:
    bundle = bundle_of(tmp_path, {"lane.py": "raise ValueError('no lane here')\n"})
    with pytest.raises(SnapshotError, match=r"(?s)importing lane in MicroPython failed.*"
                                            r"no lane here"):
        first_lane_snapshot(MICROPYTHON, bundle, "lane")


def test_the_sample_lane_imports_without_touching_javascript() -> None:
    """first_lane.py sets its document in main(), not at import (the build's snapshot)."""
    source = (ROOT / "py" / "app" / "first_lane.py").read_text()
    assert "\ndocument = None\n" in source
    assert "document = js.document" in source.split("async def main(")[1]
