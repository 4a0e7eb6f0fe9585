"""Mutual exclusion for renewals, so one refresh token is used once.

With refresh-token rotation a refresh token is single use: two tabs refreshing with
the same one can get the whole token family revoked. The browser shell provides a
lock shared by all tabs of the origin (the Web Locks API); this in-process one
serves CPython tests and browsers without Web Locks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol


class Lock(Protocol):
    def hold(self, name: str) -> AbstractAsyncContextManager[None]: ...


class LocalLock:
    """One asyncio.Lock per name, for sessions living in one interpreter."""

    def __init__(self) -> None:
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        # An asyncio.Lock belongs to one event loop; tests may run several in turn.
        key = (id(asyncio.get_running_loop()), name)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            yield
