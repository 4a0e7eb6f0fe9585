"""The build's Content-Security-Policy: only what the library itself accepts gets in."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from devtools.build.csp import (
    Discovered,
    PolicyError,
    content_security_policy,
    discovered_origins,
    insert_policy,
)

MARKED = "<head><!-- content-security-policy --></head>"


@pytest.mark.parametrize("config", [
    {"domain": 'evil.test"><script src=//x.test/a.js></script>', "clientId": "a"},
    {"domain": "tenant.auth0.com/path", "clientId": "a"},
    {"issuer": "javascript:alert(1)", "clientId": "a"},
    {"domain": "t.auth0.com", "clientId": "a", "apiUrl": "http://api.example.test/"},
    {"domain": "t.auth0.com", "clientId": "a", "apiOrigins": ['https://x.test"><b>']},
])
def test_settings_the_page_would_refuse_never_reach_the_policy(config):
    with pytest.raises(PolicyError):
        content_security_policy(config)


def test_only_the_issuers_origin_enters_the_policy():
    policy = content_security_policy({"issuer": 'https://op.test/"><script>', "clientId": "a"})
    assert "connect-src 'self' https://op.test;" in policy
    assert "<script>" not in policy


def test_a_valid_auth0_domain_and_api_origins_are_allowed():
    policy = content_security_policy({"domain": "T.eu.auth0.com", "clientId": "a",
                                      "apiUrl": "https://api.example.test/v1",
                                      "apiOrigins": ["https://other.example.test"]})
    assert ("connect-src 'self' https://t.eu.auth0.com https://api.example.test "
            "https://other.example.test;") in policy


def test_the_policy_attribute_cannot_be_broken_out_of():
    html = insert_policy(MARKED, 'default-src \'self\'; x "><script>')
    assert "<script>" not in html
    assert html.count('"') == 4  # http-equiv="..." content="..."


# -- the provider's endpoints, from its discovery document ----------------------------------

class DiscoveryServer:
    """A provider's discovery document served from a local http.server thread."""

    def __init__(self) -> None:
        self.document: dict[str, Any] | None = None
        self.status = 200
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                body = json.dumps(owner.document).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/realms/demo"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, **endpoints: str) -> None:
        base = self.issuer + "/protocol/openid-connect"
        self.document = {"issuer": self.issuer, "authorization_endpoint": base + "/auth",
                         "token_endpoint": base + "/token", "jwks_uri": base + "/certs",
                         **endpoints}


@pytest.fixture
def discovery() -> Iterator[DiscoveryServer]:
    server = DiscoveryServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_every_origin_discovery_points_to_enters_connect_src(discovery):
    discovery.publish(userinfo_endpoint="https://userinfo.example.test/me",
                      end_session_endpoint="https://logout.example.test:8443/end",
                      revocation_endpoint="https://tokens.example.test/revoke",
                      authorization_endpoint="https://login.example.test/authorize")
    config = {"issuer": discovery.issuer, "clientId": "a"}
    found = discovered_origins(config)
    assert discovery.requests == ["/realms/demo/.well-known/openid-configuration"]
    issuer_origin = discovery.issuer.removesuffix("/realms/demo")
    assert found.origins == (issuer_origin, "https://userinfo.example.test",
                             "https://logout.example.test:8443", "https://tokens.example.test")
    assert "https://userinfo.example.test" in (found.note or "")
    policy = content_security_policy(config, endpoint_origins=found.origins)
    assert (f"connect-src 'self' {issuer_origin} https://userinfo.example.test "
            "https://logout.example.test:8443 https://tokens.example.test;") in policy
    # The authorization endpoint is navigated to, not fetched; images stay as they were.
    assert "login.example.test" not in policy
    assert f"img-src 'self' https: {issuer_origin};" in policy


def test_endpoints_on_the_issuers_origin_add_nothing_and_say_nothing(discovery):
    discovery.publish()
    found = discovered_origins({"issuer": discovery.issuer, "clientId": "a"})
    assert found.origins == (discovery.issuer.removesuffix("/realms/demo"),)
    assert found.note is None


@pytest.mark.parametrize(("change", "reason"), [
    ({"status": 404}, "HTTP Error 404"),
    ({"document": {"issuer": "https://other.example.test"}}, "another issuer"),
    ({"document": ["not", "an", "object"]}, "could not be read (not JSON)"),
    ({"document": {"token_endpoint": "http://tokens.example.test/t"}}, "unsafe address"),
])
def test_a_document_the_page_would_refuse_falls_back_to_the_issuer_and_says_so(
        discovery, change, reason):
    discovery.publish()
    if "document" in change and isinstance(change["document"], dict):
        discovery.document = {**discovery.document, **change["document"]}
    elif "document" in change:
        discovery.document = change["document"]
    discovery.status = change.get("status", 200)
    found = discovered_origins({"issuer": discovery.issuer, "clientId": "a"})
    assert found.origins == (discovery.issuer.removesuffix("/realms/demo"),)
    assert reason in found.note
    assert found.note.startswith(f"did not read the provider's discovery document "
                                 f"{discovery.issuer}/.well-known/openid-configuration (")
    assert '"cspOrigins"' in found.note and "issuer's origin" in found.note


def test_an_unreachable_provider_falls_back_within_the_timeout():
    with socket.socket() as listener:  # accepts the connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        issuer = f"http://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        found = discovered_origins({"issuer": issuer, "clientId": "a"}, timeout=0.5)
    assert time.monotonic() - started < 5
    assert found.origins == (issuer,) and "timed out" in found.note


def test_no_request_for_auth0_nor_when_told_not_to():
    def no_fetch(url: str, timeout: float) -> str:
        raise AssertionError(f"fetched {url}")

    found = discovered_origins({"domain": "t.eu.auth0.com", "clientId": "a"}, fetch=no_fetch)
    assert found == Discovered(("https://t.eu.auth0.com",))
    found = discovered_origins({"issuer": "https://op.test", "clientId": "a"}, read=False,
                               fetch=no_fetch)
    assert found.origins == ("https://op.test",) and "--no-discovery" in found.note
    assert discovered_origins(None, fetch=no_fetch) == Discovered(())
    assert discovered_origins({"clientId": "a"}, fetch=no_fetch) == Discovered(())


def test_csp_origins_from_the_settings_enter_the_policy():
    policy = content_security_policy({"issuer": "https://op.test", "clientId": "a",
                                      "cspOrigins": ["https://cdn.op.test", "https://op.test"]})
    assert "connect-src 'self' https://op.test https://cdn.op.test;" in policy
    assert "img-src 'self' https: https://op.test https://cdn.op.test;" in policy


@pytest.mark.parametrize("csp_origins", [
    ["https://cdn.op.test/path"], ["'unsafe-inline'"], ["https://x.test\"><b>"], "https://a.test",
    ["http://cdn.op.test"],
])
def test_csp_origins_the_page_would_refuse_never_reach_the_policy(csp_origins):
    with pytest.raises(PolicyError, match="cspOrigins"):
        content_security_policy({"issuer": "https://op.test", "clientId": "a",
                                 "cspOrigins": csp_origins})
