"""The page itself, for the browser shell's modules: its address and its console.

Pyodide only (it touches `js`); oidc_spa.browser re-exports the address helpers.
"""

from __future__ import annotations

import traceback

import js  # type: ignore[import-not-found]  # Pyodide's bridge to the page


def current_url() -> str:
    return str(js.window.location.href)


def replace_url(url: str) -> None:
    """Change the address bar without a reload or a new history entry."""
    js.window.history.replaceState(None, "", url)


def navigate(url: str) -> None:
    js.window.location.assign(url)


def log_unexpected(error: BaseException) -> None:
    """A bug's traceback, for the console only: the page shows sentences, never this."""
    js.console.error("oidc_spa: " + "".join(traceback.format_exception(error)))
