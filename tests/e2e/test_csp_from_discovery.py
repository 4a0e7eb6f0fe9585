"""The page's Content-Security-Policy follows the provider's discovery document, in real
Chromium.

This module's provider puts its token, userinfo, JWKS, revocation and end-session endpoints
on a second origin: the fault proxy rewrites the discovery document (faults.endpoints_moved)
to name a second fault proxy in front of the same provider; the issuer (discovery, sign-in)
stays on the first. Two builds of the same page are made while that document is served:

- "": the build reads discovery, its policy names the second origin, and a whole login,
  profile, API call and logout run without one violation, the endpoints' requests going
  there. Built without that origin, the browser would refuse the token request.
- "fallback/": built while discovery answered 500, so the build falls back to the issuer's
  origin and says so; the browser refuses the token request and the page says the login
  failed, in words, with no traceback.
"""

from __future__ import annotations

import html
import io
import json
import re
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fault_proxy import Fault, FaultProxy
from faults import DISCOVERY, endpoints_moved, server_error
from helpers import (
    alert_text,
    has_session,
    log_in,
    open_app,
    sign_in_at_provider,
    stored_items,
    wait_for_state,
)

from devtools.build.build import build_site
from oidc_spa.messages import MESSAGES

pytestmark = pytest.mark.e2e

FALLBACK = "fallback/"
# Every endpoint the page fetches from, and end-session, which it navigates to; the
# authorization endpoint stays at the issuer with the sign-in pages and their cookies.
MOVED = ("token_endpoint", "userinfo_endpoint", "jwks_uri", "revocation_endpoint",
         "end_session_endpoint")
FETCHED = ("token_endpoint", "userinfo_endpoint", "jwks_uri")
# offline_access: a refresh token, which the logout revokes at the moved revocation endpoint.
SCOPE = "openid profile email offline_access"
POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
VIOLATION = "Content Security Policy"


@dataclass
class CspStack:
    site: Any
    provider: Any
    elsewhere: FaultProxy  # the endpoints' origin
    moved: Fault  # the discovery rewrite that sends them there
    build_notes: dict[str, str] = field(default_factory=dict)  # stderr, by page


def build_noted(out: Path, config: dict[str, Any]) -> str:
    """Build the page into out; returns what the build said on stderr."""
    said = io.StringIO()
    with redirect_stderr(said):
        build_site(out, config)
    return said.getvalue()


@pytest.fixture(scope="module")
def csp_stack(servers_factory: Any,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[CspStack]:
    issuer_proxy = FaultProxy().start()
    elsewhere = FaultProxy().start()
    stack = CspStack(None, None, elsewhere, endpoints_moved(elsewhere.url, MOVED))

    def build(work: Path, root: Path, config: dict[str, Any], variants: Sequence[str]) -> None:
        config = {**config, "scope": SCOPE}
        # Root first: building it clears what lies below it.
        stack.build_notes[""] = build_noted(root, config)
        with issuer_proxy.injected(server_error(DISCOVERY)):
            stack.build_notes[FALLBACK] = build_noted(root / FALLBACK, config)

    try:
        # The rewrite is on while the build reads discovery; each test puts it on again.
        with issuer_proxy.injected(stack.moved), servers_factory(
                tmp_path_factory.mktemp("csp_site"), ("", FALLBACK), proxy=issuer_proxy,
                build=build) as (stack.site, stack.provider):
            elsewhere.upstream = stack.provider.process.url
            yield stack
    finally:
        elsewhere.stop()


# These replace the suite's `site` and `provider` in this module, for the conftest's
# `page` fixture too: it clears this site's storage and resets this provider.
@pytest.fixture(scope="module")
def site(csp_stack: CspStack) -> Any:
    return csp_stack.site


@pytest.fixture(scope="module")
def provider(csp_stack: CspStack) -> Any:
    return csp_stack.provider


@pytest.fixture
def elsewhere(csp_stack: CspStack, page: Any) -> Iterator[FaultProxy]:
    """The endpoints' origin, with the rewrite on for the test (after `page`: its reset
    clears the issuer proxy's faults)."""
    csp_stack.elsewhere.reset_log()
    with csp_stack.provider.proxy.injected(csp_stack.moved):
        yield csp_stack.elsewhere


def connect_src(page_dir: Path) -> list[str]:
    """The sources of connect-src in the built index.html's policy."""
    found = POLICY.search((page_dir / "index.html").read_text())
    assert found, f"no Content-Security-Policy in {page_dir / 'index.html'}"
    directives = dict(part.strip().split(" ", 1) for part in html.unescape(found[1]).split(";"))
    return directives["connect-src"].split()


def endpoint_paths(provider: Any) -> dict[str, str]:
    """The provider's own endpoint paths, asked at the process (no rewrite there)."""
    with urllib.request.urlopen(provider.process.url + DISCOVERY, timeout=10) as response:
        meta = json.load(response)
    return {name: urlsplit(meta[name]).path for name in MOVED}


class Watched:
    """What a tab does from now on: the URLs it requests (preflights aside), its console
    messages and its uncaught errors."""

    def __init__(self, page: Any) -> None:
        self.requested: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requested.append(request.url)
                if request.method != "OPTIONS" else None)
        page.on("console", lambda message: self.console.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def violations(self) -> list[str]:
        """Chromium reports every Content-Security-Policy violation on the console."""
        return [message for message in self.console if VIOLATION in message]


def test_the_build_reads_discovery_and_the_policy_names_the_endpoints_origin(csp_stack):
    issuer, elsewhere = csp_stack.provider.issuer, csp_stack.elsewhere.url
    sources = connect_src(csp_stack.site.root)
    assert issuer in sources
    assert elsewhere in sources
    assert elsewhere in csp_stack.build_notes[""]  # the build says what it added


def test_login_api_call_and_logout_reach_the_endpoints_origin_without_a_violation(
        page, site, provider, elsewhere):
    watched = Watched(page)
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    assert page.text_content(".nickname") == "ali"  # userinfo's profile
    page.click(".btn-call-api")
    page.wait_for_selector(".api-result:text('HTTP 200')")
    with page.expect_navigation():  # to the moved end_session, then back
        page.click(".btn-logout")
    page.wait_for_url(site.url)
    wait_for_state(page, "anonymous")

    assert watched.violations() == []
    assert watched.errors == []
    paths = endpoint_paths(provider)
    for name in FETCHED:
        assert elsewhere.url + paths[name] in watched.requested, name
        assert provider.issuer + paths[name] not in watched.requested, name
    # The logout's two, as they arrived: the revocation (a keepalive fetch sent as the
    # page leaves) and the navigation.
    assert elsewhere.passed(paths["revocation_endpoint"]), "no revocation at the moved endpoint"
    assert elsewhere.passed(paths["end_session_endpoint"])


def test_a_page_built_without_discovery_fails_the_login_clearly(
        page, site, provider, csp_stack, elsewhere):
    note = csp_stack.build_notes[FALLBACK]
    assert "did not read the provider's discovery document" in note
    assert f"origin {provider.issuer} only" in note
    assert elsewhere.url not in connect_src(csp_stack.site.root / FALLBACK)

    watched = Watched(page)
    open_app(page, site.url + FALLBACK)
    page.click(".btn-login")
    sign_in_at_provider(page, "alice", "alice-demo")
    page.wait_for_selector("#auth-error", state="visible")
    wait_for_state(page, "anonymous")

    token_url = elsewhere.url + endpoint_paths(provider)["token_endpoint"]
    # The browser refused the code exchange: it never left, and it was reported.
    assert watched.violations(), watched.console
    assert all(token_url in message for message in watched.violations())
    assert elsewhere.passed() == []
    # The sentence names the cause (this site's policy) and the origin, not the network.
    assert alert_text(page) == MESSAGES["network.blocked_by_policy"].format(
        origin=elsewhere.url.rstrip("/"))
    assert "Traceback" not in page.text_content("body")
    assert watched.errors == []
    assert not has_session(stored_items(page))
