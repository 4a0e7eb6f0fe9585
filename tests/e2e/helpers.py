"""Steps shared by the end-to-end tests: what a person does on the page."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# The steps the benchmark takes too live in devtools; the tests import them from here.
from devtools.page_steps import (  # noqa: F401
    CLOSE_WAIT_MS,
    close_tab,
    log_in,
    sign_in_at_provider,
    wait_for_state,
)

# The sites' request timeout (auth_config.json "timeout", seconds): short, so the
# slow-provider tests are quick.
REQUEST_TIMEOUT = 5

# The knobs/ build's authorizationParams: a hint, locales, a fresh sign-in asked for,
# consent (node-oidc-provider's condition for offline_access) and a provider's own.
KNOBS = {"login_hint": "bob", "ui_locales": "en-GB de", "max_age": 300, "prompt": "consent",
         "acme_flag": "on"}

# The page says where it is in <body data-session>; tests wait on it by selector
# (not wait_for_function, which a strict Content-Security-Policy would block).
STATES = ("checking", "authenticated", "anonymous")

# Records every value <body data-session> takes from now on.
WATCH_STATES = """() => {
    window.__states = [];
    new MutationObserver(() => window.__states.push(document.body.dataset.session))
        .observe(document.body, {attributes: true, attributeFilter: ['data-session']});
}"""


def open_app(page: Any, url: str, state: str = "anonymous", lane: str | None = "full") -> None:
    """Open the page and wait for its state and, unless `lane` is None, for that lane to
    run it: "full" (Pyodide, which the default fullLane policy starts once idle) or
    "first" (MicroPython painted, the full lane maybe not yet up)."""
    page.goto(url)
    wait_for_state(page, state)
    if lane is not None:
        wait_for_lane(page, lane)


def wait_for_lane(page: Any, lane: str) -> None:
    page.wait_for_selector(f"body[data-lane='{lane}']", state="attached", timeout=30_000)


def start_login(page: Any) -> dict[str, str]:
    """Click Log in, wait for the provider's sign-in form; returns the authorization
    request's parameters (the address bar shows the provider's own sign-in URL by then)."""
    with page.expect_request(lambda r: urlsplit(r.url).path == "/authorize") as sent:
        page.click(".btn-login")
    page.wait_for_selector("#username")
    return dict(parse_qsl(urlsplit(sent.value.url).query))


def stored_items(page: Any) -> dict[str, str]:
    return json.loads(page.evaluate("JSON.stringify(Object.assign({}, localStorage))"))


def alert_text(page: Any) -> str:
    alert = page.locator("#auth-error")
    return alert.text_content() if alert.is_visible() else ""


# This app's keys in storage (oidc_spa.store.SessionStore): a pointer to the signed-in
# login, and that login's record.
APP_PREFIX = "oidc_spa:e2e-spa:"
CURRENT_KEY = APP_PREFIX + "current"
PLANTED_ID = "planted-session-0001"


def has_session(items: dict[str, str]) -> bool:
    """A login is signed in, or a record of one is left behind."""
    return any(key == CURRENT_KEY or key.startswith(APP_PREFIX + "session:") for key in items)


def session_record(page: Any) -> dict[str, Any]:
    """The signed-in login's record in localStorage."""
    items = stored_items(page)
    return json.loads(items[f"{APP_PREFIX}session:{items[CURRENT_KEY]}"])


def plant_record(page: Any, text: str) -> None:
    """Put `text` where the page reads the signed-in login's record from."""
    page.evaluate("""([current, id, key, text]) => {
        localStorage.setItem(current, id);
        localStorage.setItem(key, text);
    }""", [CURRENT_KEY, PLANTED_ID, f"{APP_PREFIX}session:{PLANTED_ID}", text])
