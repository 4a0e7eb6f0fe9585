"""The demo's protected API as a real process, checking real tokens at a real provider."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

# The tiny browser and code-flow helpers the provider tests use too (tests/provider_http.py).
from provider_http import (
    CLIENT_ID,
    REDIRECT_URI,
    Browser,
    Flow,
    Reply,
    dpop_proof,
    exchange,
    log_in,
    refresh,
    signed_in_tokens,
)

from devtools.servers.api_process import ApiProcess, ApiStartError, start_api
from devtools.servers.node_provider_process import NodeProviderProcess, start_node_provider
from oidc_spa.dpop import access_token_hash

SITE_ORIGIN = "http://127.0.0.1:8000"
OTHER_ORIGIN = "http://127.0.0.1:8001"


@pytest.fixture(scope="module")
def provider() -> Iterator[NodeProviderProcess]:
    with start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI]) as running:
        yield running


@pytest.fixture(scope="module")
def api_log() -> io.StringIO:
    return io.StringIO()


@pytest.fixture(scope="module")
def api(provider: NodeProviderProcess, api_log: io.StringIO) -> Iterator[ApiProcess]:
    with start_api(issuer=provider.issuer, allowed_origin=SITE_ORIGIN,
                   log_to=api_log) as running:
        yield running


def call_private(api: ApiProcess, token: str | None, origin: str | None = SITE_ORIGIN) -> Reply:
    headers = {"Origin": origin} if origin else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return Browser().get(f"{api.url}/api/private", headers=headers)


def access_token(provider: NodeProviderProcess, scope: str = "openid profile email") -> str:
    return signed_in_tokens(provider.issuer, scope=scope)["access_token"]


def wait_for_log_line(log: io.StringIO, line: str, timeout: float = 5.0) -> str:
    """The log's text once it holds `line`; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while line not in log.getvalue():
        assert time.monotonic() < deadline, f"{line!r} not logged: {log.getvalue()!r}"
        time.sleep(0.02)
    return log.getvalue()


def assert_no_store_json(reply: Reply) -> None:
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Content-Type"] == "application/json"


# ----------------------------------------------------------------------------- /api/private


def test_valid_token_greets_the_user(api: ApiProcess, provider: NodeProviderProcess,
                                    api_log: io.StringIO) -> None:
    token = access_token(provider)
    reply = call_private(api, token)
    assert reply.status == 200, reply.text
    assert_no_store_json(reply)
    body = reply.json()
    # Introspection (RFC 7662) says whose the token is, not the user's name.
    assert body["message"] == "Hello from the protected API, alice!"
    assert body["sub"] == "alice"
    called_at = datetime.fromisoformat(body["called_at"])
    assert called_at.tzinfo is not None
    assert abs(datetime.now(UTC) - called_at) < timedelta(minutes=1)
    # The log line crosses a pipe and a reader thread, so it may land just after the reply.
    log = wait_for_log_line(api_log, "GET /api/private 200")
    assert token not in log  # the request log never shows the token


def test_without_profile_scope_the_greeting_uses_sub(api: ApiProcess,
                                                     provider: NodeProviderProcess) -> None:
    reply = call_private(api, access_token(provider, scope="openid"))
    assert reply.status == 200, reply.text
    assert reply.json()["message"] == "Hello from the protected API, alice!"


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic YWxpY2U6eA==",
                                           "Bearer two words"])
def test_missing_or_malformed_header_is_invalid_request(api: ApiProcess,
                                                        authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = Browser().get(f"{api.url}/api/private", headers=headers)
    assert reply.status == 401
    assert reply.json() == {"error": "invalid_request"}
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert_no_store_json(reply)


def test_made_up_token_is_invalid_token(api: ApiProcess) -> None:
    reply = call_private(api, "made-up-token")
    assert reply.status == 401
    assert reply.json() == {"error": "invalid_token"}
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert_no_store_json(reply)


def test_token_revoked_at_the_provider_stops_working(api: ApiProcess,
                                                     provider: NodeProviderProcess) -> None:
    tokens = signed_in_tokens(provider.issuer, scope="openid profile offline_access")
    assert call_private(api, tokens["access_token"]).status == 200
    assert refresh(provider.issuer, tokens["refresh_token"]).status == 200
    # Reusing the rotated refresh token makes the provider revoke the whole grant.
    assert refresh(provider.issuer, tokens["refresh_token"]).status == 400
    reply = call_private(api, tokens["access_token"])
    assert reply.status == 401 and reply.json() == {"error": "invalid_token"}


def test_unreachable_provider_is_503(provider: NodeProviderProcess) -> None:
    with socket.socket() as unused:  # a port that nothing listens on
        unused.bind(("127.0.0.1", 0))
        closed_issuer = f"http://127.0.0.1:{unused.getsockname()[1]}"
    with start_api(issuer=closed_issuer, allowed_origin=SITE_ORIGIN) as lonely_api:
        reply = call_private(lonely_api, access_token(provider))
    assert reply.status == 503
    assert reply.json()["error"] == "provider_unavailable"
    assert_no_store_json(reply)


def test_require_dpop_nonce_refuses_a_proof_without_the_apis_nonce_once(
        api: ApiProcess, provider: NodeProviderProcess) -> None:
    """RFC 9449 9: the challenge names the nonce (CORS lets the page read it); a proof
    with it is served. Off by default: the module's API serves the first proof."""
    key = ec.generate_private_key(ec.SECP256R1())
    flow = Flow(provider.issuer)
    code = log_in(Browser(), flow).redirect_params()["code"]
    token = exchange(provider.issuer, code, flow.verifier,
                     DPoP=dpop_proof(key, "POST", f"{provider.issuer}/token")).json()
    assert token["token_type"] == "DPoP"

    def call(running: ApiProcess, **claims: str) -> Reply:
        url = f"{running.url}/api/private"
        proof = dpop_proof(key, "GET", url, ath=access_token_hash(token["access_token"]),
                           **claims)
        return Browser().get(url, headers={"Origin": SITE_ORIGIN, "DPoP": proof,
                                           "Authorization": f"DPoP {token['access_token']}"})

    with start_api(issuer=provider.issuer, allowed_origin=SITE_ORIGIN,
                   require_dpop_nonce=True) as strict:
        refused = call(strict)
        assert refused.status == 401 and refused.json() == {"error": "use_dpop_nonce"}
        assert refused.headers["WWW-Authenticate"].startswith(
            'DPoP algs="ES256", error="use_dpop_nonce"')
        nonce = refused.headers["DPoP-Nonce"]
        assert nonce and "DPoP-Nonce" in refused.headers["Access-Control-Expose-Headers"]
        assert call(strict, nonce=nonce).status == 200
        assert call(strict, nonce="made-up").status == 401
    served = call(api)
    assert served.status == 200 and "DPoP-Nonce" not in served.headers


# ----------------------------------------------------------------------------- CORS


@pytest.mark.parametrize("token", ["valid", "made-up", None])
def test_cors_headers_for_the_allowed_origin(api: ApiProcess, provider: NodeProviderProcess,
                                             token: str | None) -> None:
    sent = access_token(provider) if token == "valid" else token
    reply = call_private(api, sent)
    assert reply.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
    assert reply.headers["Access-Control-Expose-Headers"] == "WWW-Authenticate, DPoP-Nonce"
    assert reply.headers["Vary"] == "Origin"


@pytest.mark.parametrize("origin", [OTHER_ORIGIN, "null", None])
def test_no_cors_headers_for_another_origin(api: ApiProcess, provider: NodeProviderProcess,
                                            origin: str | None) -> None:
    reply = call_private(api, access_token(provider), origin=origin)
    assert reply.status == 200  # served, but a browser keeps it from that page
    assert not [name for name in reply.headers if name.lower().startswith("access-control-")]
    assert reply.headers["Vary"] == "Origin"


def preflight(api: ApiProcess, origin: str) -> Reply:
    return Browser().send("OPTIONS", f"{api.url}/api/private", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})


def test_preflight_for_the_allowed_origin(api: ApiProcess) -> None:
    reply = preflight(api, SITE_ORIGIN)
    assert reply.status == 204 and reply.body == b""
    assert reply.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
    assert reply.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    assert reply.headers["Access-Control-Allow-Headers"] == "Authorization, DPoP"
    assert reply.headers["Access-Control-Max-Age"] == "600"
    assert reply.headers["Cache-Control"] == "no-store"


def test_preflight_for_another_origin_grants_nothing(api: ApiProcess) -> None:
    reply = preflight(api, OTHER_ORIGIN)
    assert not [name for name in reply.headers if name.lower().startswith("access-control-")]


# ----------------------------------------------------------------------------- the rest


def test_public_route_needs_no_token(api: ApiProcess) -> None:
    reply = Browser().get(f"{api.url}/api/public", headers={"Origin": SITE_ORIGIN})
    assert reply.status == 200
    assert reply.json() == {"message": "Anyone can read this."}
    assert_no_store_json(reply)
    assert reply.headers["Access-Control-Allow-Origin"] == SITE_ORIGIN


def test_unknown_path_and_wrong_method(api: ApiProcess) -> None:
    assert Browser().get(f"{api.url}/api/nothing").status == 404
    reply = Browser().post(f"{api.url}/api/private", body=b"")
    assert reply.status == 405 and reply.headers["Allow"] == "GET, OPTIONS"


def test_log_lists_calls_and_resets(api: ApiProcess) -> None:
    browser = Browser()
    assert browser.post(f"{api.url}/_test/reset-log").json() == {"calls": []}
    call_private(api, None)
    preflight(api, SITE_ORIGIN)  # preflights are left out of the log
    browser.get(f"{api.url}/api/public")
    reply = browser.get(f"{api.url}/_test/log")
    assert reply.json() == {"calls": [{"path": "/api/private", "status": 401},
                                      {"path": "/api/public", "status": 200}]}
    assert_no_store_json(reply)


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8000/", "127.0.0.1:8000",
                                    "http://127.0.0.1:8000/app"])
def test_allowed_origin_must_be_an_origin(origin: str) -> None:
    with pytest.raises(ApiStartError, match="must be an origin"):
        start_api(issuer="http://127.0.0.1:9", allowed_origin=origin)
