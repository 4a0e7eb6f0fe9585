"""The e2e tests' fault proxy, in front of the real node-oidc-provider process, driven by
CPython's urllib (no browser): it passes everything on unchanged, and each kind of fault
does what the e2e tests count on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import faults
import jwt
import pytest
from fault_proxy import Answer, Fault, FaultProxy

# The tiny browser and code-flow helpers the provider tests use too (tests/provider_http.py).
from provider_http import (
    APP_ORIGIN,
    CLIENT_ID,
    DISCOVERY,
    OTHER_ORIGIN,
    REDIRECT_URI,
    Browser,
    Flow,
    exchange,
    log_in,
    read_log,
    refresh,
)

from devtools.servers.node_provider_process import NodeProviderProcess, start_node_provider


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[FaultProxy, NodeProviderProcess]]:
    proxy = FaultProxy().start()
    try:
        with start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI],
                                 allowed_origins=[APP_ORIGIN], issuer=proxy.url,
                                 test_controls=True) as provider:
            proxy.upstream = provider.url
            yield proxy, provider
    finally:
        proxy.stop()


@pytest.fixture
def proxy(stack: tuple[FaultProxy, NodeProviderProcess]) -> Iterator[FaultProxy]:
    proxy, provider = stack
    Browser().post(f"{provider.url}/_test/reset-log")
    proxy.reset_log()
    yield proxy
    proxy.clear()


def tokens_through(proxy: FaultProxy, scope: str = "openid profile") -> dict[str, Any]:
    """Sign alice in and redeem the code, all through the proxy."""
    flow = Flow(proxy.url, scope=scope)
    code = log_in(Browser(), flow).redirect_params()["code"]
    reply = exchange(proxy.url, code, flow.verifier)
    assert reply.status == 200, reply.text
    return reply.json()


def keys_through(proxy: FaultProxy) -> dict[str, dict[str, Any]]:
    return {key["kid"]: key for key in Browser().get(f"{proxy.url}/jwks").json()["keys"]}


def test_everything_passes_unchanged_and_the_proxy_is_the_issuer(proxy: FaultProxy) -> None:
    assert Browser().get(proxy.url + DISCOVERY).json()["token_endpoint"] == f"{proxy.url}/token"
    browser, flow = Browser(), Flow(proxy.url)
    reply = log_in(browser, flow)  # cookies and redirects through the proxy, both ways
    assert any(name.startswith("_session") for name in browser.cookies)
    params = reply.redirect_params()
    assert params["iss"] == proxy.url and params["state"] == flow.state
    tokens = exchange(proxy.url, params["code"], flow.verifier).json()
    (kid,) = keys_through(proxy)
    claims = jwt.decode(tokens["id_token"], jwt.PyJWK(keys_through(proxy)[kid]),
                        algorithms=["RS256"], audience=CLIENT_ID, issuer=proxy.url)
    assert claims["nonce"] == flow.nonce
    assert [(p.method, p.status) for p in proxy.passed("/token")] == [("POST", 200)]


def test_a_made_up_answer_never_reaches_the_provider_and_keeps_its_cors(
        proxy: FaultProxy) -> None:
    proxy.install(faults.token_invalid_grant())
    form = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": "x"}
    for origin, allowed in [(APP_ORIGIN, APP_ORIGIN), (OTHER_ORIGIN, None)]:
        reply = Browser().post(f"{proxy.url}/token", form=form, headers={"Origin": origin})
        assert reply.status == 400 and reply.json()["error"] == "invalid_grant"
        assert reply.headers["Access-Control-Allow-Origin"] == allowed
    assert read_log(proxy.upstream)["token_calls"] == []
    # A preflight is the browser's: it always passes.
    preflight = Browser().send("OPTIONS", f"{proxy.url}/token", headers={
        "Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204


def test_injected_faults_go_away_however_the_block_ends(proxy: FaultProxy) -> None:
    with pytest.raises(RuntimeError), proxy.injected(faults.server_error("/jwks")):
        assert Browser().get(f"{proxy.url}/jwks").status == 500
        raise RuntimeError
    assert Browser().get(f"{proxy.url}/jwks").status == 200


def test_a_late_answer_comes_after_the_provider_did_its_work(proxy: FaultProxy) -> None:
    token = tokens_through(proxy, scope="openid offline_access")["refresh_token"]
    release = threading.Event()

    def held(answer: Answer, request: Any) -> Answer:
        release.wait(10)  # a cue, not a duration: held until the test lets it go
        return answer

    proxy.install(Fault("/token", change=held))
    replies: list[Any] = []
    thread = threading.Thread(target=lambda: replies.append(refresh(proxy.url, token)))
    thread.start()
    while not [c for c in read_log(proxy.upstream)["token_calls"]
               if c["grant_type"] == "refresh_token"]:
        assert thread.is_alive()
        time.sleep(0.05)
    assert replies == []  # renewed at the provider, the answer still held back
    release.set()
    thread.join(10)
    assert replies[0].status == 200


def test_a_json_edit_only_where_when_says(proxy: FaultProxy) -> None:
    proxy.install(faults.refresh_answers_without_refresh_token())
    tokens = tokens_through(proxy, scope="openid offline_access")
    assert "refresh_token" in tokens  # the code grant's answer is left alone
    renewed = refresh(proxy.url, tokens["refresh_token"]).json()
    assert "refresh_token" not in renewed and renewed["id_token"]


def test_the_authorization_response_is_rewritten(proxy: FaultProxy) -> None:
    proxy.install(faults.callback_no_iss())
    flow = Flow(proxy.url)
    params = log_in(Browser(), flow).redirect_params()
    assert "iss" not in params and params["code"] and params["state"] == flow.state


def test_tampered_claims_are_signed_by_the_published_test_key(proxy: FaultProxy) -> None:
    proxy.install(faults.id_token_claims(lambda claims: claims.update(aud="someone-else")))
    id_token = tokens_through(proxy)["id_token"]
    header = jwt.get_unverified_header(id_token)
    assert header["kid"] == faults.TEST_KID
    claims = jwt.decode(id_token, jwt.PyJWK(keys_through(proxy)[faults.TEST_KID]),
                        algorithms=["RS256"], audience="someone-else", issuer=proxy.url)
    assert claims["sub"] == "alice"


@pytest.mark.parametrize(("fault", "alg", "published"), [
    (faults.id_token_alg_none, "none", True),
    (faults.id_token_hs256_public_key, "HS256", True),
    (faults.id_token_unknown_kid, "RS256", False),
    (faults.id_token_bad_signature, "RS256", True),
])
def test_forged_signatures(proxy: FaultProxy, fault: Any, alg: str, published: bool) -> None:
    proxy.install(fault())
    id_token = tokens_through(proxy)["id_token"]
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == alg and (header["kid"] in keys_through(proxy)) == published
    if alg == "RS256" and published:
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(id_token, jwt.PyJWK(keys_through(proxy)[header["kid"]]),
                       algorithms=["RS256"], audience=CLIENT_ID)


def test_a_key_rotation_publishes_the_new_key_from_the_rotation_on(proxy: FaultProxy) -> None:
    proxy.install(faults.key_rotation())
    assert faults.TEST_KID not in keys_through(proxy)
    id_token = tokens_through(proxy)["id_token"]
    assert jwt.get_unverified_header(id_token)["kid"] == faults.TEST_KID
    assert faults.TEST_KID in keys_through(proxy)


def test_an_unreachable_provider_is_a_502(proxy: FaultProxy) -> None:
    lonely = FaultProxy(upstream="http://127.0.0.1:9").start()
    try:
        assert Browser().get(lonely.url + DISCOVERY).status == 502
    finally:
        lonely.stop()
