"""Fixtures the library's unit tests share: a clock the tests move, an in-process
provider on that clock (a module may override `provider` with other lifetimes), and an
empty storage."""

from __future__ import annotations

import pytest
from inprocess_provider import FakeClock, InProcessProvider

from oidc_spa import MemoryStorage


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(clock: FakeClock) -> InProcessProvider:
    return InProcessProvider(clock=clock)


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()
