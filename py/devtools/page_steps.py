"""What a person does on the sample page, as Playwright steps: the e2e tests and the
benchmark log in the same way."""

from __future__ import annotations

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
