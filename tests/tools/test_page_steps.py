"""close_tab (devtools/page_steps.py): a tab that Chromium never reports closed costs a
bounded wait, not a hung test run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from devtools import page_steps


class FakeTab:
    """What close_tab uses of a Playwright page; `closes` says whether the close happens."""

    def __init__(self, *, closed: bool = False, closes: bool = True) -> None:
        self.closed, self.closes = closed, closes
        self.calls: list[tuple[str, object]] = []

    def goto(self, url: str, timeout: float) -> None:
        self.calls.append(("goto", url))

    def is_closed(self) -> bool:
        return self.closed

    def close(self, *, run_before_unload: bool = False) -> None:
        self.calls.append(("close", run_before_unload))
        self.closed = self.closes

    @contextlib.contextmanager
    def expect_event(self, event: str, timeout: float) -> Iterator[None]:
        self.calls.append((event, timeout))
        yield  # the close happens here, while the event is listened for
        if not self.closed:
            raise TimeoutError(f"Timeout {timeout}ms exceeded while waiting for event")


def test_a_tab_is_closed_without_an_unbounded_wait():
    tab = FakeTab()
    assert page_steps.close_tab(tab) is True
    # Page.close() without run_before_unload waits for Chromium with no time limit.
    assert tab.calls == [("close", page_steps.CLOSE_WAIT_MS), ("close", True)]


def test_a_tab_that_never_closes_is_reported_and_sent_away_from_the_app():
    tab = FakeTab(closes=False)
    assert page_steps.close_tab(tab) is False
    assert tab.calls == [("close", page_steps.CLOSE_WAIT_MS), ("close", True),
                         ("goto", "about:blank")]


def test_a_closed_tab_is_left_alone():
    tab = FakeTab(closed=True)
    assert page_steps.close_tab(tab) is True and tab.calls == []
