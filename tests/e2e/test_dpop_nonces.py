"""DPoP server nonces (RFC 9449 8 and 9) in real Chromium: a provider and an API of this
module's own that ask every DPoP proof for their nonce, so that the rest of the suite keeps
a provider that sends none.

Each server refuses a proof without its nonce once, naming the nonce; the page must retry
exactly once with it, and keep it for that server's next requests. Every test fails if the
page did not retry (oidc_spa.dpop.Binder.send): the login, the renewal in a fresh page and
the API call would each end on the refusal.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from helpers import (
    APP_PREFIX,
    alert_text,
    has_session,
    log_in,
    open_app,
    session_record,
    stored_items,
    wait_for_state,
)

pytestmark = pytest.mark.e2e

USE_NONCE = "use_dpop_nonce"


@pytest.fixture(scope="module")
def nonce_stack(servers_factory: Callable[..., Any],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """The default and renewing builds, served against a provider and an API that both
    require DPoP nonces."""
    with servers_factory(tmp_path_factory.mktemp("nonce_site"), ("", "renewing/"),
                         require_dpop_nonce=True) as stack:
        yield stack


# These replace the suite's `site` and `provider` in this module, for the conftest's
# `page` fixture too: it clears this site's storage and resets this provider.
@pytest.fixture(scope="module")
def site(nonce_stack: tuple[Any, Any]) -> Any:
    return nonce_stack[0]


@pytest.fixture(scope="module")
def provider(nonce_stack: tuple[Any, Any]) -> Any:
    return nonce_stack[1]


class SentProofs:
    """The DPoP proofs the page sent, by request, as Playwright saw them leave."""

    def __init__(self, page: Any) -> None:
        self.requests: list[Any] = []
        page.on("request", lambda request: self.requests.append(request)
                if request.method != "OPTIONS" else None)

    def clear(self) -> None:
        self.requests.clear()

    def nonces(self, path: str, grant_type: str | None = None) -> list[str | None]:
        """The `nonce` claim of each proof sent to `path` (for /token: with this grant)."""
        return [proof_nonce(request) for request in self.requests
                if urlsplit(request.url).path == path
                and (grant_type is None or form_grant(request) == grant_type)]


def proof_nonce(request: Any) -> str | None:
    proof = request.headers.get("dpop")
    assert proof, f"no DPoP proof on {request.method} {request.url}"
    return jwt.decode(proof, options={"verify_signature": False}).get("nonce")


def form_grant(request: Any) -> str | None:
    return parse_qs(request.post_data or "").get("grant_type", [None])[0]


def token_outcomes(provider: Any, grant_type: str) -> list[str]:
    """What the provider answered each token request with this grant: ok or its error."""
    return [call["outcome"] for call in provider.log()["token_calls"]
            if call["grant_type"] == grant_type]


def api_statuses(site: Any) -> list[int]:
    base = site.api_url.removesuffix("/api/private")
    with urllib.request.urlopen(base + "/_test/log", timeout=10) as response:
        return [call["status"] for call in json.load(response)["calls"]]


def reset_api_log(site: Any) -> None:
    base = site.api_url.removesuffix("/api/private")
    request = urllib.request.Request(base + "/_test/reset-log", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def refused_then_retried(nonces: list[str | None]) -> bool:
    """One proof without a nonce (refused), then exactly one retry that carries one."""
    return len(nonces) == 2 and nonces[0] is None and bool(nonces[1])


def force_renewal(page: Any) -> int:
    """Make the stored access token due for renewal (within the renew margin, with time
    left for a page to start); returns the generation the renewal must replace."""
    record = session_record(page)
    page.evaluate("""([key, record]) => {
        record.access_token_expires_at = Date.now() / 1000 + 30; record.issued_at -= 3600;
        localStorage.setItem(key, JSON.stringify(record)); }""",
                  [f"{APP_PREFIX}session:{record['session_id']}", record])
    return record["generation"]


def wait_for_renewal(page: Any, generation: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert has_session(stored_items(page)), f"the session ended: {alert_text(page)!r}"
        if session_record(page)["generation"] != generation:
            return
        assert time.monotonic() < deadline, "the page did not renew"
        page.wait_for_timeout(250)


def test_login_retries_the_code_exchange_once_with_the_providers_nonce(page, site, provider):
    proofs = SentProofs(page)
    open_app(page, site.url)
    provider.reset_log()
    log_in(page, "alice", "alice-demo")
    assert session_record(page)["token_type"] == "DPoP"
    assert page.text_content(".nickname") == "ali"  # the profile, userinfo's included
    assert token_outcomes(provider, "authorization_code") == [USE_NONCE, "ok"]
    code_nonces = proofs.nonces("/token", "authorization_code")
    assert refused_then_retried(code_nonces), code_nonces
    # The nonce is kept for the provider: userinfo sends it at once, no refusal first.
    assert [bool(nonce) for nonce in proofs.nonces("/userinfo")] == [True]
    assert provider.log()["userinfo_calls"] == 1


def test_a_renewal_carries_the_kept_nonce_and_a_fresh_page_retries_once(page, site, provider):
    proofs = SentProofs(page)
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    # The page that logged in still holds the provider's nonce: one call, no refusal.
    provider.reset_log()
    proofs.clear()
    wait_for_renewal(page, force_renewal(page))
    assert token_outcomes(provider, "refresh_token") == ["ok"]
    assert [bool(nonce) for nonce in proofs.nonces("/token", "refresh_token")] == [True]
    # A new page starts with no nonce: refused once, then renewed with it. The record is
    # made due on a page of the site without the app, so no tick of the old one renews.
    page.goto(site.renewing_url + "auth_config.json")
    generation = force_renewal(page)
    provider.reset_log()
    proofs.clear()
    page.goto(site.renewing_url)
    wait_for_renewal(page, generation)
    wait_for_state(page, "authenticated")
    assert session_record(page)["token_type"] == "DPoP"
    assert token_outcomes(provider, "refresh_token") == [USE_NONCE, "ok"]
    refresh_nonces = proofs.nonces("/token", "refresh_token")
    assert refused_then_retried(refresh_nonces), refresh_nonces


def test_call_api_retries_once_with_the_apis_nonce(page, site):
    open_app(page, site.url)  # no refresh token: a refused call is not renewed and retried
    log_in(page, "alice", "alice-demo")
    proofs = SentProofs(page)
    reset_api_log(site)
    page.click(".btn-call-api")
    page.wait_for_selector(".api-result:text-matches('^HTTP [0-9]')")
    result = page.text_content(".api-result")
    assert result.startswith("HTTP 200\n"), result
    assert json.loads(result.split("\n", 1)[1])["sub"] == "alice"
    assert api_statuses(site) == [401, 200]
    api_nonces = proofs.nonces(urlsplit(site.api_url).path)
    assert refused_then_retried(api_nonces), api_nonces
