"""The Chromium the e2e tests and the benchmark launch, and the flags it needs here."""

from __future__ import annotations

import os
from pathlib import Path

# Flags this machine's Chromium needs: no sandbox as root, no calls home on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_executable() -> str | None:
    """Debian's Chromium where there is one (no browser download here); else Playwright's."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None
