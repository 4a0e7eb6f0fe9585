"""node-oidc-provider as the local OpenID provider (oidc_provider/launcher.mjs), driven over
HTTP as a real Node.js process: CPython and urllib, no browser."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from provider_http import (
    APP_ORIGIN,
    CLIENT_ID,
    DISCOVERY,
    OTHER_ORIGIN,
    POST_LOGOUT_URI,
    REDIRECT_URI,
    Browser,
    Flow,
    Reply,
    b64url,
    change_settings,
    digest_prefix,
    dpop_proof,
    exchange,
    log_in,
    login_page,
    pkce_pair,
    read_log,
    refresh,
    signed_in_tokens,
    submit,
    userinfo,
    verify_id_token,
)

from devtools.servers.node_provider_process import (
    NodeProviderProcess,
    NodeProviderStartError,
    start_node_provider,
)
from devtools.servers.provider_process import READY_RE


@pytest.fixture(scope="session")
def node_provider() -> Iterator[NodeProviderProcess]:
    with start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI],
                             post_logout_redirect_uris=[POST_LOGOUT_URI],
                             allowed_origins=[APP_ORIGIN], test_controls=True) as running:
        yield running


@pytest.fixture
def issuer(node_provider: NodeProviderProcess) -> Iterator[str]:
    yield node_provider.issuer
    assert node_provider.process.poll() is None, node_provider.stderr_tail()


# ----------------------------------------------------------------------------- discovery


def test_discovery_document(issuer: str) -> None:
    reply = Browser().get(issuer + DISCOVERY)
    assert reply.status == 200
    meta = reply.json()
    assert meta["issuer"] == issuer and not issuer.endswith("/")
    for name, path in [("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"),
                       ("userinfo_endpoint", "/userinfo"), ("jwks_uri", "/jwks"),
                       ("end_session_endpoint", "/end_session"),
                       ("revocation_endpoint", "/revoke")]:
        assert meta[name] == issuer + path
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    # A public client; client_secret_basic is the demo API's, for introspection only.
    assert meta["token_endpoint_auth_methods_supported"] == ["none", "client_secret_basic"]
    assert meta["introspection_endpoint"] == issuer + "/token/introspection"
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "ES256" in meta["dpop_signing_alg_values_supported"]
    assert {"openid", "profile", "email", "offline_access"} <= set(meta["scopes_supported"])
    assert set(meta["grant_types_supported"]) == {"authorization_code", "refresh_token"}


def test_jwks_publishes_only_the_public_key(issuer: str) -> None:
    (key,) = Browser().get(f"{issuer}/jwks").json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key["kid"] and "d" not in key


# ----------------------------------------------------------------------------- sign-in


def test_code_flow_with_pkce(issuer: str) -> None:
    browser, flow = Browser(), Flow(issuer)
    page = login_page(browser, flow)
    assert urlsplit(page.url).path.startswith("/interaction/")
    for needle in ('id="username"', 'id="password"', 'value="sign-in"', 'value="cancel"'):
        assert needle in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[1]
    assert page.headers["Cache-Control"] == "no-store"

    redirect = submit(browser, page)
    assert redirect.location.startswith(REDIRECT_URI + "&")
    params = redirect.redirect_params()
    assert params["iss"] == issuer and params["state"] == flow.state
    assert params["tenant"] == "demo" and params["code"]

    reply = exchange(issuer, params["code"], flow.verifier)
    assert reply.status == 200, reply.text
    assert reply.headers["Cache-Control"] == "no-store"
    tokens = reply.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == {"openid", "profile", "email"}
    assert "refresh_token" not in tokens  # offline_access not asked for

    claims = verify_id_token(issuer, tokens["id_token"])
    assert claims["sub"] == "alice" and claims["aud"] == CLIENT_ID
    assert claims["nonce"] == flow.nonce
    assert claims["exp"] - claims["iat"] == 3600
    access_digest = hashlib.sha256(tokens["access_token"].encode()).digest()
    assert claims["at_hash"] == b64url(access_digest[:16])

    info = userinfo(issuer, tokens["access_token"])
    assert info.status == 200
    assert info.json() == {
        "sub": "alice", "name": "Alice Example", "given_name": "Alice",
        "family_name": "Example", "nickname": "ali", "email": "alice@example.test",
        "email_verified": True, "picture": f"{issuer}/avatars/alice.svg",
        "updated_at": 1_700_000_000}
    avatar = Browser().get(info.json()["picture"])
    assert avatar.status == 200 and avatar.headers["Content-Type"] == "image/svg+xml"
    assert avatar.body.startswith(b"<svg") and b"<script" not in avatar.body


def test_claims_follow_scope(issuer: str) -> None:
    tokens = signed_in_tokens(issuer, scope="openid email")
    assert userinfo(issuer, tokens["access_token"]).json() == {
        "sub": "alice", "email": "alice@example.test", "email_verified": True}


def test_second_user_and_single_sign_on(issuer: str) -> None:
    browser = Browser()
    first = signed_in_tokens(issuer, browser=browser)
    assert userinfo(issuer, first["access_token"]).json()["sub"] == "alice"
    # With a provider session the next request gets a code without a form.
    assert "code" in browser.follow(browser.get(Flow(issuer).url())).redirect_params()

    other = Browser()
    flow = Flow(issuer)
    code = log_in(other, flow, user="bob").redirect_params()["code"]
    tokens = exchange(issuer, code, flow.verifier).json()
    assert userinfo(issuer, tokens["access_token"]).json()["nickname"] == "bobby"


@pytest.mark.parametrize("overrides", [
    {"code_challenge": None, "code_challenge_method": None},
    {"code_challenge_method": "plain"},
    {"code_challenge_method": None},
])
def test_pkce_missing_or_plain_is_refused(issuer: str, overrides: dict[str, None]) -> None:
    flow = Flow(issuer)
    reply = Browser().get(flow.url(**overrides))
    assert reply.location.startswith(REDIRECT_URI)
    params = reply.redirect_params()
    assert params["error"] == "invalid_request" and "code" not in params
    assert params["state"] == flow.state and params["iss"] == issuer


def test_wrong_code_verifier_is_invalid_grant(issuer: str) -> None:
    flow = Flow(issuer)
    code = log_in(Browser(), flow).redirect_params()["code"]
    reply = exchange(issuer, code, pkce_pair()[0])
    assert reply.status == 400 and reply.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("overrides", [
    {"redirect_uri": "http://127.0.0.1:9/app/callback"},
    {"redirect_uri": None},
    {"client_id": "someone-else"},
])
def test_untrusted_client_or_redirect_gets_error_page(issuer: str,
                                                      overrides: dict[str, str | None]) -> None:
    reply = Browser().get(Flow(issuer).url(**overrides))
    assert reply.status == 400 and "Location" not in reply.headers
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in reply.headers["Content-Security-Policy"]


def test_wrong_password_shows_the_form_again(issuer: str) -> None:
    browser = Browser()
    page = login_page(browser, Flow(issuer))
    again = submit(browser, page, password="nope")
    assert again.status == 200 and "Wrong username or password." in again.text
    assert 'id="username"' in again.text and 'value="alice"' in again.text
    # The same interaction still accepts the right password.
    assert "code" in submit(browser, again).redirect_params()


def test_cancel_returns_access_denied(issuer: str) -> None:
    browser, flow = Browser(), Flow(issuer)
    reply = submit(browser, login_page(browser, flow), action="cancel")
    params = reply.redirect_params()
    assert params["error"] == "access_denied" and params["state"] == flow.state
    assert params["iss"] == issuer and "code" not in params


def test_sign_in_page_without_its_cookie_is_expired(issuer: str) -> None:
    browser = Browser()
    page = login_page(browser, Flow(issuer))
    stranger = Browser()
    assert stranger.get(page.url).status == 400
    reply = stranger.post(page.url, form={"username": "alice", "password": "alice-demo",
                                          "action": "sign-in"})
    assert reply.status == 400 and "Sign-in expired" in reply.text


def test_prompt_consent_is_answered_without_a_page(issuer: str) -> None:
    browser = Browser()
    log_in(browser, Flow(issuer, scope="openid"))  # a session: no form the second time
    flow = Flow(issuer, scope="openid profile offline_access")
    reply = browser.follow(browser.get(flow.url(prompt="consent")))
    tokens = exchange(issuer, reply.redirect_params()["code"], flow.verifier).json()
    assert set(tokens["scope"].split()) == {"openid", "profile", "offline_access"}
    assert tokens["refresh_token"]


def test_prompt_none_without_session_is_login_required(issuer: str) -> None:
    flow = Flow(issuer)
    params = Browser().get(flow.url(prompt="none")).redirect_params()
    assert params["error"] == "login_required" and params["iss"] == issuer


def test_dpop_is_offered_not_required(issuer: str) -> None:
    flow = Flow(issuer)
    code = log_in(Browser(), flow).redirect_params()["code"]
    key = ec.generate_private_key(ec.SECP256R1())
    reply = exchange(issuer, code, flow.verifier, Origin=APP_ORIGIN,
                     DPoP=dpop_proof(key, "POST", f"{issuer}/token"))
    assert reply.status == 200, reply.text
    assert reply.json()["token_type"] == "DPoP"
    # No server nonces unless asked for (--require-dpop-nonce): none sent, none exposed.
    assert "DPoP-Nonce" not in reply.headers
    assert "DPoP-Nonce" not in reply.headers["Access-Control-Expose-Headers"]


def test_require_dpop_nonce_makes_every_proof_carry_the_providers_nonce() -> None:
    """RFC 9449 8: a proof without the nonce is refused with use_dpop_nonce and the nonce
    in DPoP-Nonce, which the page's origin may read; the same request with it works."""
    with start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI],
                             allowed_origins=[APP_ORIGIN], require_dpop_nonce=True) as strict:
        flow, token_url = Flow(strict.issuer), f"{strict.issuer}/token"
        code = log_in(Browser(), flow).redirect_params()["code"]
        key = ec.generate_private_key(ec.SECP256R1())
        refused = exchange(strict.issuer, code, flow.verifier, Origin=APP_ORIGIN,
                           DPoP=dpop_proof(key, "POST", token_url))
        assert refused.status == 400 and refused.json()["error"] == "use_dpop_nonce"
        nonce = refused.headers["DPoP-Nonce"]
        assert nonce and "DPoP-Nonce" in refused.headers["Access-Control-Expose-Headers"]
        reply = exchange(strict.issuer, code, flow.verifier, Origin=APP_ORIGIN,
                         DPoP=dpop_proof(key, "POST", token_url, nonce=nonce))
        assert reply.status == 200, reply.text
        assert reply.json()["token_type"] == "DPoP"


# ----------------------------------------------------------------------------- refresh tokens


def test_offline_access_without_prompt_consent_gives_a_refresh_token(issuer: str) -> None:
    tokens = signed_in_tokens(issuer, scope="openid profile offline_access")
    assert tokens["refresh_token"] and "offline_access" in tokens["scope"].split()


def test_the_librarys_own_rule_wants_prompt_consent_for_offline_access(issuer: str) -> None:
    """offline_access_needs_consent: node-oidc-provider as it comes (OIDC Core 11)."""
    assert change_settings(issuer, offline_access_needs_consent=True).json()[
        "offline_access_needs_consent"] is True
    try:
        tokens = signed_in_tokens(issuer, scope="openid offline_access")
        assert "refresh_token" not in tokens and tokens["scope"] == "openid"
        browser, flow = Browser(), Flow(issuer, scope="openid offline_access")
        page = login_page(browser, flow, prompt="consent")
        code = submit(browser, page).redirect_params()["code"]
        consented = exchange(issuer, code, flow.verifier).json()
        assert consented["refresh_token"] and "offline_access" in consented["scope"].split()
    finally:
        change_settings(issuer, offline_access_needs_consent=False)


def test_refresh_rotation_and_reuse_detection(issuer: str) -> None:
    Browser().post(f"{issuer}/_test/reset-log")
    first = signed_in_tokens(issuer, scope="openid profile offline_access")["refresh_token"]

    rotated = refresh(issuer, first)
    assert rotated.status == 200, rotated.text
    new = rotated.json()
    assert new["refresh_token"] != first
    assert verify_id_token(issuer, new["id_token"])["sub"] == "alice"
    assert userinfo(issuer, new["access_token"]).status == 200

    reuse = refresh(issuer, first)  # the spent token again: theft is assumed
    assert reuse.status == 400 and reuse.json()["error"] == "invalid_grant"
    # ... and the whole grant is revoked: the newer token and its access token too.
    assert refresh(issuer, new["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(issuer, new["access_token"]).status == 401

    calls = read_log(issuer)["token_calls"]
    assert [(c["grant_type"], c["outcome"]) for c in calls] == [
        ("authorization_code", "ok"), ("refresh_token", "ok"),
        ("refresh_token", "invalid_grant"), ("refresh_token", "invalid_grant")]
    assert calls[0]["issued_refresh_token_sha256_prefix"] == digest_prefix(first)
    assert calls[1]["refresh_token_sha256_prefix"] == digest_prefix(first)
    assert calls[1]["issued_refresh_token_sha256_prefix"] == digest_prefix(new["refresh_token"])
    assert calls[2]["refresh_token_sha256_prefix"] == digest_prefix(first)
    assert calls[3]["refresh_token_sha256_prefix"] == digest_prefix(new["refresh_token"])
    assert calls[3]["issued_refresh_token_sha256_prefix"] is None


def test_without_rotation_the_same_refresh_token_keeps_working(issuer: str) -> None:
    assert change_settings(issuer, rotate_refresh_tokens=False).json()[
        "rotate_refresh_tokens"] is False
    try:
        token = signed_in_tokens(issuer, scope="openid offline_access")["refresh_token"]
        for _ in range(3):
            reply = refresh(issuer, token)
            assert reply.status == 200, reply.text
            assert reply.json().get("refresh_token", token) == token
    finally:
        change_settings(issuer, rotate_refresh_tokens=True)


def test_revoked_refresh_token_stops_working_and_is_logged(issuer: str) -> None:
    Browser().post(f"{issuer}/_test/reset-log")
    tokens = signed_in_tokens(issuer, scope="openid offline_access")
    revoke = Browser().post(f"{issuer}/revoke", form={
        "client_id": CLIENT_ID, "token": tokens["refresh_token"],
        "token_type_hint": "refresh_token"})
    assert revoke.status == 200
    assert refresh(issuer, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(issuer, tokens["access_token"]).status == 401  # the grant went with it

    log = read_log(issuer)
    assert log["revocations"] == [{"token_sha256_prefix": digest_prefix(tokens["refresh_token"]),
                                   "token_type": "refresh_token", "outcome": "ok"}]
    assert log["token_calls"][-1]["outcome"] == "invalid_grant"


# ----------------------------------------------------------------------------- test controls


def test_settings_change_token_lifetimes(issuer: str) -> None:
    assert change_settings(issuer, id_token_ttl=5, access_token_ttl=7).json() == {
        "id_token_ttl": 5, "access_token_ttl": 7, "rotate_refresh_tokens": True,
        "login_age": 0, "offline_access_needs_consent": False}
    try:
        tokens = signed_in_tokens(issuer)
        claims = verify_id_token(issuer, tokens["id_token"])
        assert claims["exp"] - claims["iat"] == 5 and tokens["expires_in"] == 7
    finally:
        change_settings(issuer, id_token_ttl=3600, access_token_ttl=3600)
    assert Browser().get(f"{issuer}/_test/settings").json()["id_token_ttl"] == 3600


def test_login_age_makes_the_sign_in_earlier_and_max_age_asks_for_auth_time(
        issuer: str) -> None:
    Browser().post(f"{issuer}/_test/reset-log")
    assert change_settings(issuer, login_age=3600).json()["login_age"] == 3600
    try:
        browser, flow = Browser(), Flow(issuer)
        page = login_page(browser, flow, max_age="300", login_hint="bob", ui_locales="de",
                          acme_flag="on")
        assert 'value="bob"' in page.text  # login_hint fills the username in
        code = submit(browser, page, user="bob").redirect_params()["code"]
        claims = verify_id_token(issuer, exchange(issuer, code, flow.verifier).json()["id_token"])
        assert 3590 <= time.time() - claims["auth_time"] <= 3610
    finally:
        change_settings(issuer, login_age=0)
    (sent,) = read_log(issuer)["authorizations"]
    assert {name: sent["query"][name] for name in ("max_age", "login_hint", "ui_locales",
                                                   "acme_flag", "state", "nonce")} == {
        "max_age": "300", "login_hint": "bob", "ui_locales": "de", "acme_flag": "on",
        "state": "(sent)", "nonce": "(sent)"}
    assert sent["status"] == 303
    # Without login_age, auth_time is the sign-in's own time.
    browser, flow = Browser(), Flow(issuer)
    code = submit(browser, login_page(browser, flow, max_age="300")).redirect_params()["code"]
    claims = verify_id_token(issuer, exchange(issuer, code, flow.verifier).json()["id_token"])
    assert abs(time.time() - claims["auth_time"]) < 10


@pytest.mark.parametrize("settings", [
    {"id_token_ttl": "5"}, {"id_token_ttl": 0}, {"access_token_ttl": True},
    {"rotate_refresh_tokens": 1}, {"colour": "blue"}, {"login_age": -1}, {"login_age": 1.5},
    {"offline_access_needs_consent": "yes"},
])
def test_bad_settings_are_refused(issuer: str, settings: dict[str, Any]) -> None:
    reply = change_settings(issuer, **settings)
    assert reply.status == 400 and reply.json()["error"] == "invalid_request"


def put_user(issuer: str, sub: str, body: Any) -> Reply:
    return Browser().send("PUT", f"{issuer}/_test/users/{sub}", body=json.dumps(body).encode(),
                          headers={"Content-Type": "application/json"})


def test_a_user_added_by_the_tests_signs_in_with_the_claims_given(issuer: str) -> None:
    claims = {"nickname": "<img src=x>", "locale": "en-GB", "email": "c@example.test",
              "email_verified": False}
    assert put_user(issuer, "carol", {"password": "carol-pw", "claims": claims}).status == 200
    browser, flow = Browser(), Flow(issuer)
    code = log_in(browser, flow, user="carol", password="carol-pw").redirect_params()["code"]
    tokens = exchange(issuer, code, flow.verifier).json()
    # Released as given, markup included: escaping is the page's job.
    assert userinfo(issuer, tokens["access_token"]).json() == {"sub": "carol", **claims}
    assert Browser().get(f"{issuer}/avatars/carol.svg").status == 200


@pytest.mark.parametrize("body", [
    {"claims": {}}, {"password": "", "claims": {}}, {"password": "p", "claims": []},
    {"password": "p", "claims": {"sub": "other"}}, ["p"],
])
def test_bad_users_are_refused(issuer: str, body: Any) -> None:
    reply = put_user(issuer, "dave", body)
    assert reply.status == 400 and reply.json()["error"] == "invalid_request"


def token_state(issuer: str, token: str) -> str:
    return Browser().get(f"{issuer}/_test/refresh-token?prefix={digest_prefix(token)}").json()[
        "state"]


def test_refresh_token_state_is_read_without_spending_the_token(issuer: str) -> None:
    first = signed_in_tokens(issuer, scope="openid offline_access")["refresh_token"]
    assert token_state(issuer, first) == token_state(issuer, first) == "live"
    second = refresh(issuer, first).json()["refresh_token"]  # still live: it was not spent
    assert (token_state(issuer, first), token_state(issuer, second)) == ("rotated", "live")
    assert refresh(issuer, first).status == 400  # reuse: the library revokes the grant
    assert (token_state(issuer, first), token_state(issuer, second)) == ("revoked", "revoked")
    other = signed_in_tokens(issuer, scope="openid offline_access")["refresh_token"]
    Browser().post(f"{issuer}/revoke", form={"client_id": CLIENT_ID, "token": other})
    assert token_state(issuer, other) == "revoked"
    assert token_state(issuer, "never-issued") == "unknown"


def test_log_counts_userinfo_and_resets(issuer: str) -> None:
    tokens = signed_in_tokens(issuer)
    assert Browser().post(f"{issuer}/_test/reset-log").json() == {
        "authorizations": [], "token_calls": [], "revocations": [], "userinfo_calls": 0}
    userinfo(issuer, tokens["access_token"])
    userinfo(issuer, "not-a-token")
    assert read_log(issuer)["userinfo_calls"] == 2


# ----------------------------------------------------------------------------- logout


def test_logout_with_id_token_hint_needs_no_click(issuer: str) -> None:
    browser = Browser()
    id_token = signed_in_tokens(issuer, browser=browser)["id_token"]
    reply = browser.get(f"{issuer}/end_session?" + urlencode({
        "id_token_hint": id_token, "client_id": CLIENT_ID,
        "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "bye-1"}))
    assert reply.status == 303, reply.text
    assert reply.location == f"{POST_LOGOUT_URI}?state=bye-1"
    assert not any(name.startswith("_session") for name in browser.cookies)
    # The next authorization request shows the sign-in form again.
    assert 'id="password"' in login_page(browser, Flow(issuer)).text


def test_logout_ends_the_server_side_session_and_its_tokens(issuer: str) -> None:
    browser = Browser()
    tokens = signed_in_tokens(issuer, browser=browser)
    stolen = dict(browser.cookies)
    browser.get(f"{issuer}/end_session?" + urlencode({
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT_URI}))
    assert login_page(Browser(cookies=stolen), Flow(issuer)).status == 200
    # Tokens without offline_access live only as long as the session.
    assert userinfo(issuer, tokens["access_token"]).status == 401


def test_logout_without_hint_asks_first(issuer: str) -> None:
    browser = Browser()
    signed_in_tokens(issuer, browser=browser)
    page = browser.get(f"{issuer}/end_session?" + urlencode({
        "client_id": CLIENT_ID, "post_logout_redirect_uri": POST_LOGOUT_URI}))
    assert page.status == 200 and "Yes, sign me out" in page.text
    assert "code" in browser.follow(browser.get(Flow(issuer).url())).redirect_params()


def test_logout_with_someone_elses_hint_asks_first(issuer: str) -> None:
    alices_id_token = signed_in_tokens(issuer, browser=Browser())["id_token"]
    browser = Browser()
    flow = Flow(issuer)
    log_in(browser, flow, user="bob")  # this browser's session is bob's, the hint alice's
    assert jwt.decode(alices_id_token, options={"verify_signature": False})["sub"] == "alice"
    page = browser.get(f"{issuer}/end_session?" + urlencode({
        "id_token_hint": alices_id_token, "post_logout_redirect_uri": POST_LOGOUT_URI}))
    assert page.status == 200 and 'form="op.logoutForm"' in page.text
    assert "<script" not in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    # Confirming signs out, with the library's own confirmation endpoint.
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text)
    assert xsrf
    done = browser.post(f"{issuer}/end_session/confirm",
                        form={"xsrf": xsrf.group(1), "logout": "yes"})
    assert done.status == 303 and done.location.startswith(POST_LOGOUT_URI)


def test_logout_without_a_session_just_redirects(issuer: str) -> None:
    reply = Browser().get(f"{issuer}/end_session?" + urlencode({
        "client_id": CLIENT_ID, "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "s"}))
    assert reply.status == 303 and reply.location == f"{POST_LOGOUT_URI}?state=s"


def test_logout_rejects_unregistered_target(issuer: str) -> None:
    reply = Browser().get(f"{issuer}/end_session?" + urlencode({
        "client_id": CLIENT_ID, "post_logout_redirect_uri": "http://127.0.0.1:9/evil"}))
    assert reply.status == 400 and "Location" not in reply.headers


# ----------------------------------------------------------------------------- CORS


def cors_origin(reply: Reply) -> str | None:
    return reply.headers["Access-Control-Allow-Origin"]


def test_cors_only_for_the_allowed_origin(issuer: str) -> None:
    tokens = signed_in_tokens(issuer, scope="openid offline_access")
    for origin, expected in [(APP_ORIGIN, APP_ORIGIN), (OTHER_ORIGIN, None)]:
        headers = {"Origin": origin}
        for path in (DISCOVERY, "/jwks"):
            assert cors_origin(Browser().get(issuer + path, headers=headers)) == expected
        for path in ("/token", "/userinfo", "/revoke"):
            preflight = Browser().send("OPTIONS", issuer + path, headers={
                **headers, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,dpop"})
            assert cors_origin(preflight) == expected, path
        info = userinfo_from(issuer, tokens["access_token"], origin)
        assert cors_origin(info) == expected
        assert (info.status == 200) == (expected is not None)
    assert cors_origin(Browser().get(issuer + DISCOVERY)) is None  # no Origin, no CORS


def userinfo_from(issuer: str, access_token: str, origin: str) -> Reply:
    return Browser().get(f"{issuer}/userinfo", headers={
        "Authorization": f"Bearer {access_token}", "Origin": origin})


def test_token_endpoint_cors_and_refusal_for_other_origins(issuer: str) -> None:
    token = signed_in_tokens(issuer, scope="openid offline_access")["refresh_token"]
    refused = Browser().post(f"{issuer}/token", headers={"Origin": OTHER_ORIGIN}, form={
        "grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": token})
    assert refused.status == 400 and cors_origin(refused) is None
    allowed = Browser().post(f"{issuer}/token", headers={"Origin": APP_ORIGIN}, form={
        "grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": token})
    assert allowed.status == 200 and cors_origin(allowed) == APP_ORIGIN


# ----------------------------------------------------------------------------- the process


def test_plain_process_flags_and_clean_stop() -> None:
    with start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI],
                             extra_args=["--no-refresh-token-rotation", "--id-token-ttl",
                                         "60", "--access-token-ttl", "90"]) as plain:
        assert READY_RE.fullmatch(f"provider ready at {plain.issuer}")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", plain.issuer)
        browser = Browser()
        for method, path in [("GET", "/_test/log"), ("POST", "/_test/reset-log"),
                             ("GET", "/_test/settings"), ("POST", "/_test/settings"),
                             ("PUT", "/_test/users/carol"), ("GET", "/_test/refresh-token")]:
            assert browser.send(method, plain.issuer + path, body=b"{}").status == 404

        tokens = signed_in_tokens(plain.issuer, scope="openid offline_access")
        assert tokens["expires_in"] == 90
        claims = verify_id_token(plain.issuer, tokens["id_token"])
        assert claims["exp"] - claims["iat"] == 60
        for _ in range(3):
            assert refresh(plain.issuer, tokens["refresh_token"]).status == 200
        # No allowed origin given: no CORS for anyone.
        headers = {"Origin": APP_ORIGIN}
        assert cors_origin(browser.get(plain.issuer + DISCOVERY, headers=headers)) is None

        plain.process.send_signal(signal.SIGTERM)
        assert plain.process.wait(timeout=5) == 0
        # stdout carried the ready line alone (the library's notices go to stderr).
        assert plain._stdout_lines.get(timeout=5) is None


def test_issuer_flag_puts_the_public_origin_everywhere() -> None:
    """Behind a proxy: the issuer is the proxy's origin, and the URLs the provider builds
    follow the Host header the proxy passes on, sign-out's own redirect included."""
    public = "http://op.example.test:8443"
    host = {"Host": "op.example.test:8443"}
    with start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI],
                             issuer=public) as behind:
        assert behind.issuer == public and behind.url != public
        meta = Browser().get(behind.url + DISCOVERY, headers=host).json()
        assert meta["issuer"] == public and meta["token_endpoint"] == f"{public}/token"
        browser, flow = Browser(), Flow(behind.url)
        params = log_in(browser, flow).redirect_params()
        assert params["iss"] == public
        tokens = exchange(behind.url, params["code"], flow.verifier).json()
        assert jwt.decode(tokens["id_token"], options={"verify_signature": False})[
            "iss"] == public
        picture = userinfo(behind.url, tokens["access_token"]).json()["picture"]
        assert picture == f"{public}/avatars/alice.svg"
        reply = browser.get(f"{behind.url}/end_session?" + urlencode(
            {"id_token_hint": tokens["id_token"]}), headers=host)
        assert reply.status == 303 and reply.location == f"{public}/end_session/success"


def test_sigint_stops_cleanly() -> None:
    with start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI]) as running:
        Browser().get(running.issuer + DISCOVERY)  # a keep-alive connection must not hold it
        running.process.send_signal(signal.SIGINT)
        assert running.process.wait(timeout=5) == 0


def test_bad_arguments_fail_to_start() -> None:
    with pytest.raises(NodeProviderStartError, match="--allowed-origin needs"):
        start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI],
                            allowed_origins=["http://127.0.0.1:9/path"])
    with pytest.raises(NodeProviderStartError, match="--issuer needs"):
        start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI],
                            issuer="http://127.0.0.1:9/oidc")
    with pytest.raises(NodeProviderStartError, match="redirect-uri are required"):
        start_node_provider(client_id=CLIENT_ID, redirect_uris=[])


def test_missing_node_modules_says_run_setup(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Any) -> None:
    monkeypatch.setattr("devtools.servers.node_provider_process.PACKAGE_MANIFEST",
                        tmp_path / "package.json")
    with pytest.raises(NodeProviderStartError, match="run scripts/setup"):
        start_node_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI])
