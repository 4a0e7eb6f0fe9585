"""The end-to-end tests' fixtures: the real components, each started once per test session.

- `site`: the built static site, served from a sub-path like a GitHub Pages project site.
- `provider`: the local OpenID provider (node-oidc-provider, OpenID Certified) as a real
  process with its test controls on, behind the fault proxy (fault_proxy.py, here),
  whose URL is the issuer: the browser, the page and the API only ever see the proxy.
- `proxy`: that proxy, for a test to inject faults; cleared after every test.
- `servers_factory`: the same stack again (e2e_servers), for a module that needs one of
  its own, e.g. with DPoP nonces required (test_dpop_nonces.py).
- `browser_context`: one Chromium with one persistent profile, so the HTTP cache and
  the wasm code cache work across tests (Pyodide's cold start is several seconds).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy
from helpers import CLOSE_WAIT_MS, KNOBS, REQUEST_TIMEOUT, close_tab

from devtools.build.build import build_site
from devtools.chromium import CHROMIUM_ARGS, chromium_executable
from devtools.servers.api_process import start_api
from devtools.servers.node_provider_process import NodeProviderProcess, start_node_provider
from devtools.servers.serve import serve_in_thread
from oidc_spa.popup import popup_redirect_uri

CLIENT_ID = "e2e-spa"
# The site's builds, as paths below its URL: the default (fast) one, one asking for
# refresh tokens, the plain (sources) build, the renewing one with fullLane on-demand, and
# one with authorizationParams (helpers.KNOBS).
VARIANTS = ("", "renewing/", "plain/", "on-demand/", "knobs/")
BASE_PATH = "/pyscript-login/"
# Builds the pages named in variants: (work, root, auth_config, variants), as build_variants.
Builder = Callable[[Path, Path, dict[str, Any], Sequence[str]], None]


@dataclass
class Site:
    url: str
    root: Path
    api_url: str = ""

    @property
    def renewing_url(self) -> str:
        """The same app asking for offline_access: it gets refresh tokens and renews."""
        return self.url + "renewing/"

    @property
    def on_demand_url(self) -> str:
        """The renewing app with "fullLane": "on-demand": Pyodide only when needed."""
        return self.url + "on-demand/"

    @property
    def knobs_url(self) -> str:
        """The on-demand app with authorizationParams (KNOBS) and offline_access."""
        return self.url + "knobs/"

    @property
    def plain_url(self) -> str:
        """The same app built with --plain: stock Pyodide and Python sources."""
        return self.url + "plain/"

    @property
    def origin(self) -> str:
        return self.url.split(BASE_PATH)[0]


# The launcher's defaults, which every test gets back (Provider.reset).
DEFAULT_SETTINGS = {"id_token_ttl": 3600, "access_token_ttl": 3600, "rotate_refresh_tokens": True,
                    "login_age": 0, "offline_access_needs_consent": False}


@dataclass
class Provider:
    """The provider's test controls (launcher.mjs --test-controls), asked directly at the
    process, and the fault proxy in front of it."""

    process: NodeProviderProcess
    proxy: FaultProxy

    @property
    def issuer(self) -> str:
        """The proxy's URL: what the page and the browser know as the provider."""
        return self.process.issuer

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.process.url + path, data=data, method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def add_user(self, sub: str, claims: dict[str, Any]) -> str:
        """Create (or replace) a user with these claims; returns its password."""
        password = f"{sub}-demo"
        self.call("PUT", f"/_test/users/{sub}", {"password": password, "claims": claims})
        return password

    def settings(self, **values: int | bool) -> dict[str, Any]:
        """id_token_ttl, access_token_ttl (seconds, >= 1), rotate_refresh_tokens; login_age
        (seconds a sign-in claims it happened ago: auth_time); offline_access_needs_consent
        (node-oidc-provider's own rule: offline_access only with prompt=consent)."""
        return self.call("POST", "/_test/settings", values)

    def log(self) -> dict[str, Any]:
        """authorizations (each request's query: state, nonce and code_challenge as
        "(sent)"), token_calls, revocations and userinfo_calls, as the provider saw them."""
        return self.call("GET", "/_test/log")

    def reset_log(self) -> None:
        """The provider's log and the proxy's, both empty."""
        self.call("POST", "/_test/reset-log")
        self.proxy.reset_log()

    def refresh_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.log()["token_calls"] if c["grant_type"] == "refresh_token"]

    def revocations(self) -> list[dict[str, Any]]:
        """Calls to /revoke: token_sha256_prefix, token_type and outcome of each."""
        return self.log()["revocations"]

    def refresh_token_state(self, prefix: str) -> str:
        """live, rotated, revoked, expired or unknown, for the refresh token whose SHA-256
        starts with prefix (as the token log shows it); the token is not spent."""
        return self.call("GET", f"/_test/refresh-token?prefix={prefix}")["state"]

    def reset(self) -> None:
        """No faults, default lifetimes and rotation again."""
        self.proxy.clear()
        self.settings(**DEFAULT_SETTINGS)


@contextmanager
def e2e_servers(work: Path, variants: Sequence[str] = VARIANTS, *,
                require_dpop_nonce: bool = False, proxy: FaultProxy | None = None,
                build: Builder | None = None) -> Iterator[tuple[Site, Provider]]:
    """The site (these builds, "" always among them) served from work, the provider with
    its test controls behind a fault proxy, and the API. `require_dpop_nonce`: the
    provider and the API both ask every DPoP proof for their nonce (RFC 9449 8 and 9).

    `proxy`: a started fault proxy to use (stopped at the end), so that faults installed
    beforehand act on what the build reads (discovery). `build`: makes the pages named in
    variants instead of build_variants, for pages the suite's variants do not cover."""
    root = work / "_site"
    root.mkdir()
    proxy = proxy or FaultProxy().start()
    # The server and the proxy start first: the provider must know the site's redirect
    # URIs and origin, and its issuer, which is the proxy's URL.
    try:
        with serve_in_thread(root, BASE_PATH) as site_url, start_node_provider(
            client_id=CLIENT_ID, issuer=proxy.url,
            # each build's page, and its popup login's return page (oidc_spa.popup)
            redirect_uris=[uri for v in variants
                           for uri in (site_url + v, popup_redirect_uri(site_url + v))],
            post_logout_redirect_uris=[site_url + v for v in variants],
            allowed_origins=[site_url.split(BASE_PATH)[0]], test_controls=True,
            require_dpop_nonce=require_dpop_nonce,
        ) as process:
            proxy.upstream = process.url
            with start_api(issuer=proxy.url, allowed_origin=site_url.split(BASE_PATH)[0],
                           require_dpop_nonce=require_dpop_nonce) as api:
                api_url = api.url + "/api/private"
                # A short request timeout keeps the slow-provider tests quick.
                (build or build_variants)(
                    work, root, {"issuer": proxy.url, "clientId": CLIENT_ID,
                                 "timeout": REQUEST_TIMEOUT, "apiUrl": api_url}, variants)
                yield Site(site_url, root, api_url), Provider(process, proxy)
    finally:
        proxy.stop()


@pytest.fixture(scope="session")
def servers_factory() -> Callable[..., AbstractContextManager[tuple[Site, Provider]]]:
    """e2e_servers, for a module that needs a stack of its own (a provider set otherwise)."""
    return e2e_servers


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Provider]]:
    with e2e_servers(tmp_path_factory.mktemp("site")) as stack:
        yield stack


def build_variants(work: Path, root: Path, config: dict[str, Any],
                   variants: Sequence[str] = VARIANTS) -> None:
    """The builds named in variants (VARIANTS' names) in root; "" is root itself."""
    renewing = {**config, "scope": "openid profile email offline_access"}
    builds = {  # variant: (its auth_config.json, plain)
        "renewing/": (renewing, False),
        "on-demand/": ({**renewing, "fullLane": "on-demand"}, False),
        "knobs/": ({**renewing, "fullLane": "on-demand", "authorizationParams": KNOBS}, False),
        "plain/": (config, True),
    }
    # Each in work first: building root clears it.
    others = [variant for variant in variants if variant]
    for variant in others:
        variant_config, plain = builds[variant]
        build_site(work / variant, variant_config, plain=plain)
    build_site(root, config)
    for variant in others:
        shutil.move(work / variant, root / variant)


@pytest.fixture(scope="session")
def site(e2e_stack: tuple[Site, Provider]) -> Site:
    return e2e_stack[0]


@pytest.fixture(scope="session")
def provider(e2e_stack: tuple[Site, Provider]) -> Provider:
    return e2e_stack[1]


@pytest.fixture
def proxy(provider: Provider) -> Iterator[FaultProxy]:
    """The fault proxy, for faults to install for the rest of the test (cleared after)."""
    yield provider.proxy
    provider.proxy.clear()


@pytest.fixture(scope="session")
def browser_context() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="e2e-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, headless=True, executable_path=chromium_executable(), args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


# Pyodide's full standard library on the fast builds: only stdlib_fallback fetches it,
# for a module the trimmed one left out. The sample page must never need it.
FULL_STDLIB = "/vendor/pyodide/python_stdlib.zip"


@pytest.fixture(scope="session")
def full_stdlib_fetches(browser_context: Any) -> list[str]:
    """URLs of the fast builds' full standard library requested in any tab, in order."""
    fetches: list[str] = []

    def note(request: Any) -> None:
        if request.url.endswith(FULL_STDLIB) and "/plain/" not in request.url:
            fetches.append(request.url)

    browser_context.on("request", note)
    return fetches


@pytest.fixture
def page(browser_context: Any, site: Site, provider: Provider,
         full_stdlib_fetches: list[str], request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab with no session: this app's storage (its DPoP keys in IndexedDB too) and
    the provider's cookies cleared.

    Afterwards, gives the provider its defaults back (no faults, default settings), and
    fails the test if the page fell back on the full standard library (a module the fast
    build's trim left out) unless it is marked `full_stdlib`."""
    fetched_before = len(full_stdlib_fetches)
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    cdp = browser_context.new_cdp_session(tab)
    for origin in (site.origin, provider.issuer):
        cdp.send("Storage.clearDataForOrigin",
                 {"origin": origin,
                  "storageTypes": "local_storage,session_storage,indexeddb"})
    cdp.detach()
    yield tab
    # Every tab the test opened, so that none goes on ticking into the next test.
    for opened in browser_context.pages:
        url = opened.url
        if not close_tab(opened):
            warnings.warn(f"a tab did not close within {CLOSE_WAIT_MS} ms (sent to "
                          f"about:blank instead): {url}", stacklevel=1)
    provider.reset()
    if request.node.get_closest_marker("full_stdlib") is None:
        assert full_stdlib_fetches[fetched_before:] == [], (
            "the page imported a module the fast build left out; the console names it "
            "(stdlib_fallback: ...): add it to ALWAYS in py/devtools/build/bytecode_in_pyodide.py")
