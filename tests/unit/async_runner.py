"""Run a coroutine to completion from a synchronous test.

Playwright's sync API keeps an event loop running on the main thread for the whole
test session, and asyncio.run refuses to start inside it; a worker thread has none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run[T](coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
