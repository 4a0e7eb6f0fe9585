"""A second PyScript app on the library's wheel, as a developer of another app uses it.

The app in second_app/ (its own index.html, pyscript.toml and a short main.py; no code
shared with the sample page) gets the library from the wheel that the documented command
builds, unpacked by PyScript's [files], with the vendored runtime (offline). In real
Chromium, against the local provider (node-oidc-provider) and the demo API: alice logs
in, the page shows her name, calls the API, and a second tab follows her logout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import close_tab, sign_in_at_provider

from devtools.build.build import build_app, build_library_wheel
from devtools.servers.api_process import start_api
from devtools.servers.node_provider_process import start_node_provider
from devtools.servers.serve import serve_in_thread

pytestmark = pytest.mark.e2e

APP = Path(__file__).with_name("second_app")
CLIENT_ID = "second-app"
BASE_PATH = "/second-app/"


class SecondApp:
    def __init__(self, url: str, wheel: Path) -> None:
        self.url = url
        self.wheel = wheel


@pytest.fixture(scope="module")
def second_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondApp]:
    work = tmp_path_factory.mktemp("second_app")
    wheel = build_library_wheel(work / "dist")
    root = work / "site"
    root.mkdir()
    # The server starts first so that its address can be registered at the provider.
    with serve_in_thread(root, BASE_PATH) as url:
        origin = url.removesuffix(BASE_PATH)
        with start_node_provider(client_id=CLIENT_ID, redirect_uris=[url],
                                 post_logout_redirect_uris=[url],
                                 allowed_origins=[origin]) as provider, \
                start_api(issuer=provider.issuer, allowed_origin=origin) as api:
            config = {"issuer": provider.issuer, "clientId": CLIENT_ID,
                      "apiUrl": api.url + "/api/private"}
            build_app(APP, root, wheel, config)
            yield SecondApp(url, wheel)


def wait_signed_out(page: Any) -> None:
    page.wait_for_selector("#login", state="visible")
    assert page.locator("#logout").is_hidden()
    assert page.text_content("#name") == ""


def test_a_second_app_logs_in_calls_the_api_and_logs_out_with_the_wheel(
        browser_context: Any, second_app: SecondApp) -> None:
    wheels: list[bytes] = []
    requested: list[str] = []

    def note(response: Any) -> None:
        requested.append(response.url)
        if response.url.endswith("/" + second_app.wheel.name):
            wheels.append(response.body())

    problems: list[str] = []  # uncaught errors and Content-Security-Policy violations

    def watch(tab: Any) -> Any:
        tab.on("pageerror", lambda error: problems.append(str(error)))
        tab.on("console", lambda message: problems.append(message.text)
               if "Content Security Policy" in message.text else None)
        return tab

    browser_context.clear_cookies()
    page = watch(browser_context.new_page())
    other_tab = None
    page.on("response", note)
    try:
        page.goto(second_app.url)
        wait_signed_out(page)
        page.click("#login")
        sign_in_at_provider(page, "alice", "alice-demo")
        page.wait_for_selector("#name:text-is('Alice Example')")
        assert page.url == second_app.url  # code and state gone from the address bar
        assert page.text_content("#message") == ""

        page.click("#call-api")
        page.wait_for_selector("#message:text-matches('^HTTP 200: ')")
        assert '"sub": "alice"' in page.text_content("#message").replace('":"', '": "')

        # keep_in_step: another tab of the app is signed in too, and follows the logout.
        other_tab = watch(browser_context.new_page())
        other_tab.goto(second_app.url)
        other_tab.wait_for_selector("#name:text-is('Alice Example')")
        page.click("#logout")
        page.wait_for_url(second_app.url)  # back from the provider's logout
        wait_signed_out(page)
        other_tab.wait_for_selector("#message:text-is('Session signed_out.')", timeout=5_000)
        wait_signed_out(other_tab)
    finally:
        close_tab(page)
        if other_tab is not None:
            close_tab(other_tab)

    assert problems == []
    # The library came from the wheel the command built, not from sources.
    digest = hashlib.sha256(second_app.wheel.read_bytes()).hexdigest()
    assert wheels, f"no request for {second_app.wheel.name}: {requested}"
    assert {hashlib.sha256(body).hexdigest() for body in wheels} == {digest}
    sources = [url for url in requested if url.endswith(".py") and not url.endswith("/main.py")]
    assert sources == []
    assert [url for url in requested if "/oidc_spa/" in url or url.endswith("python.zip")] == []
