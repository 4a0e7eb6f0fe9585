"""The README's run command, as a newcomer uses it: the demo signs a user in at the
certified local provider (node-oidc-provider), keeps the session across a reload, calls
the protected API and logs out, in real Chromium."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from helpers import alert_text, close_tab, log_in, open_app, wait_for_state
from run_process import RunProcess, free_ports

pytestmark = pytest.mark.e2e


def test_run_command_signs_a_demo_user_in_at_the_certified_provider(
        browser_context: Any, tmp_path: Path) -> None:
    site_port, provider_port, api_port = free_ports(3)
    run = RunProcess(["--site-port", str(site_port), "--provider-port", str(provider_port),
                      "--api-port", str(api_port), "--out", str(tmp_path / "_site")])
    page = browser_context.new_page()
    try:
        url = run.wait_for_url()
        open_app(page, url)
        log_in(page, "bob", "bob-demo")
        assert page.text_content(".nickname") == "bobby"
        assert page.text_content(".email") == "bob@example.test"
        page.reload()
        wait_for_state(page, "authenticated")
        page.click(".btn-call-api")
        page.wait_for_selector(".api-result:text('HTTP 200')")
        page.click(".btn-logout")
        page.wait_for_url(url)
        wait_for_state(page, "anonymous")
        assert alert_text(page) == ""
        # The provider's session ended too: signing in again asks for the password.
        page.click(".btn-login")
        page.wait_for_selector("#password")
        assert page.url.startswith(f"http://127.0.0.1:{provider_port}/")
    finally:
        close_tab(page)
        if run.process.poll() is None:
            run.process.send_signal(signal.SIGINT)
            run.finish()
