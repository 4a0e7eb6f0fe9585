"""For every test: a watchdog. A test still running after WATCHDOG_SECONDS (setup and
teardown included) ends the run, naming the test and printing every thread's traceback,
so a hang turns CI red in minutes instead of running into its time limit. The slowest
tests (one real benchmark run, a background renewal over several token lifetimes) take up to
about a minute and a half here."""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
from collections.abc import Iterator

import pytest

WATCHDOG_SECONDS = 900


def end_the_run(test: str) -> None:
    print(f"\nwatchdog: {test} still running after {WATCHDOG_SECONDS} s: ending the run",
          file=sys.stderr, flush=True)
    faulthandler.dump_traceback(all_threads=True)
    os._exit(1)


@pytest.fixture(autouse=True)
def watchdog(request: pytest.FixtureRequest) -> Iterator[None]:
    timer = threading.Timer(WATCHDOG_SECONDS, end_the_run, args=(request.node.nodeid,))
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()
