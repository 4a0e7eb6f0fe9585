"""What a person does on the sample page, as Playwright steps: the e2e tests and the
benchmark log in the same way."""

from __future__ import annotations

import contextlib
from typing import Any


def wait_for_state(page: Any, state: str, timeout: float = 30_000) -> None:
    """The page says where it is in <body data-session>; wait on it by selector (not
    wait_for_function, which a strict Content-Security-Policy would block)."""
    page.wait_for_selector(f"body[data-session='{state}']", state="attached", timeout=timeout)


def sign_in_at_provider(page: Any, username: str, password: str) -> None:
    page.wait_for_selector("#username")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[value='sign-in']")


def log_in(page: Any, username: str, password: str) -> None:
    """From the logged-out page: click Log in, sign in, wait for the logged-in page."""
    page.click(".btn-login")
    sign_in_at_provider(page, username, password)
    wait_for_state(page, "authenticated")


# How long close_tab waits for Chromium to report a tab gone.
CLOSE_WAIT_MS = 10_000


def close_tab(tab: Any) -> bool:
    """Close a tab, waiting at most CLOSE_WAIT_MS; False if Chromium never said it closed.

    Page.close() waits for that answer with no time limit, and once (a CI run on this
    machine, the tab of a logout at the provider) it never came: the suite hung in a
    teardown. Here the close is asked for without waiting (the page's unload handlers
    run, as a person closing the tab would have them run), then waited for, bounded."""
    if tab.is_closed():
        return True
    try:
        # Listening before asking: a close reported at once is not missed.
        with tab.expect_event("close", timeout=CLOSE_WAIT_MS):
            tab.close(run_before_unload=True)
    except Exception:  # Playwright's TimeoutError; the browser goes on regardless
        if not tab.is_closed():
            # Left open, it must at least stop running the app (its ticks, its storage
            # listener), which could otherwise act on the next test's storage.
            with contextlib.suppress(Exception):
                tab.goto("about:blank", timeout=CLOSE_WAIT_MS)
        return tab.is_closed()
    return True
