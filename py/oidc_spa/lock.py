"""Mutual exclusion for renewals, so one refresh token is used once.

With refresh-token rotation a refresh token is single use: two tabs refreshing with
the same one can get the whole token family revoked. The browser shell provides a
lock shared by all tabs of the origin (the Web Locks API); this in-process one
serves CPython tests and browsers without Web Locks.

Every request for the lock is bounded by a timeout: a tab never waits behind
another without limit, it tries again later (LockTimeout).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol


class LockTimeout(Exception):
    """The lock was not granted within the timeout."""


class Lock(Protocol):
    def hold(self, name: str, *, timeout: float) -> AbstractAsyncContextManager[None]:
        """Hold the named lock inside the block; LockTimeout if not granted in time."""
        ...


class LocalLock:
    """One asyncio.Lock per name, for sessions living in one interpreter."""

    def __init__(self) -> None:
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, name: str, *, timeout: float) -> AsyncIterator[None]:
        # An asyncio.Lock belongs to one event loop; tests may run several in turn.
        key = (id(asyncio.get_running_loop()), name)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), timeout)
        except TimeoutError:
            raise LockTimeout(name) from None
        try:
            yield
        finally:
            lock.release()
