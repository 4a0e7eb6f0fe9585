"""The local OpenID provider, driven over HTTP as a real process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devtools.provider_process import ProviderProcess, start_provider

CLIENT_ID = "demo-spa"
# A query in the registered URI must survive the authorization response.
REDIRECT_URI = "http://127.0.0.1:9/app/callback?tenant=demo"
POST_LOGOUT_URI = "http://127.0.0.1:9/app/signed-out"


# ----------------------------------------------------------------------------- a tiny browser


class _NoRaise(urllib.request.HTTPErrorProcessor):
    """Hand back every response as is: no exceptions, and so no redirects followed."""

    def http_response(self, request: urllib.request.Request, response: Any) -> Any:
        return response

    https_response = http_response


_OPENER = urllib.request.build_opener(_NoRaise())


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    def redirect_params(self) -> dict[str, str]:
        assert self.status == 302, (self.status, self.text)
        query = urlsplit(self.headers["Location"]).query
        return {name: values[0] for name, values in parse_qs(query).items()}


@dataclass
class Browser:
    """Keeps cookies by hand (a flat jar: one host in these tests)."""

    cookies: dict[str, str] = field(default_factory=dict)
    set_cookie_headers: list[str] = field(default_factory=list)

    def send(self, method: str, url: str, *, form: Mapping[str, str] | None = None,
             body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Reply:
        all_headers = dict(headers or {})
        if form is not None:
            body = urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(url, data=body, headers=all_headers, method=method)
        with _OPENER.open(request, timeout=10) as response:
            reply = Reply(response.status, response.headers, response.read())
        for header in reply.headers.get_all("Set-Cookie") or []:
            self._store_cookie(header)
        return reply

    def _store_cookie(self, header: str) -> None:
        self.set_cookie_headers.append(header)
        name, _, rest = header.partition("=")
        value = rest.split(";")[0]
        if "max-age=0" in header.lower():
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, url: str, **kwargs: Any) -> Reply:
        return self.send("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Reply:
        return self.send("POST", url, **kwargs)


# ----------------------------------------------------------------------------- flow helpers


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Flow:
    """One authorization request's parameters and secrets."""

    issuer: str
    scope: str = "openid profile email"
    verifier: str = ""
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    extra: dict[str, str] = field(default_factory=dict)

    def url(self, **overrides: str | None) -> str:
        self.verifier, challenge = pkce_pair()
        params: dict[str, str | None] = {
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code",
            "scope": self.scope, "state": self.state, "nonce": self.nonce,
            "code_challenge": challenge, "code_challenge_method": "S256", **self.extra,
        }
        params.update(overrides)
        sent = {name: value for name, value in params.items() if value is not None}
        return f"{self.issuer}/authorize?{urlencode(sent)}"


def form_request_id(page: Reply) -> str:
    assert page.status == 200, page.text
    match = re.search(r"name='request_id' value='([^']+)'", page.text)
    assert match, page.text
    return match.group(1)


def log_in(browser: Browser, flow: Flow, user: str = "alice", password: str | None = None,
           action: str = "sign-in") -> Reply:
    request_id = form_request_id(browser.get(flow.url()))
    return browser.post(f"{flow.issuer}/authorize", form={
        "request_id": request_id, "username": user,
        "password": password or f"{user}-demo", "action": action,
    })


def exchange(issuer: str, code: str, verifier: str, **overrides: str) -> Reply:
    form = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code,
            "redirect_uri": REDIRECT_URI, "code_verifier": verifier, **overrides}
    return Browser().post(f"{issuer}/token", form=form)


def refresh(issuer: str, refresh_token: str) -> Reply:
    form = {"grant_type": "refresh_token", "client_id": CLIENT_ID,
            "refresh_token": refresh_token}
    return Browser().post(f"{issuer}/token", form=form)


def userinfo(issuer: str, access_token: str) -> Reply:
    return Browser().get(f"{issuer}/userinfo",
                         headers={"Authorization": f"Bearer {access_token}"})


def signed_in_tokens(issuer: str, scope: str = "openid profile email") -> dict[str, Any]:
    flow = Flow(issuer, scope=scope)
    code = log_in(Browser(), flow).redirect_params()["code"]
    reply = exchange(issuer, code, flow.verifier)
    assert reply.status == 200, reply.text
    return reply.json()


def verify_id_token(issuer: str, id_token: str) -> dict[str, Any]:
    jwks = Browser().get(f"{issuer}/jwks").json()
    key = jwt.PyJWK(jwks["keys"][0])
    assert jwt.get_unverified_header(id_token)["kid"] == key.key_id
    return jwt.decode(id_token, key, algorithms=["RS256"], audience=CLIENT_ID, issuer=issuer)


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderProcess]:
    with start_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI],
                        post_logout_redirect_uris=[POST_LOGOUT_URI],
                        test_controls=True) as running:
        yield running


@pytest.fixture
def issuer(provider: ProviderProcess) -> str:
    return provider.issuer


# ----------------------------------------------------------------------------- tests


def test_discovery_document(issuer: str) -> None:
    reply = Browser().get(f"{issuer}/.well-known/openid-configuration")
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    meta = reply.json()
    assert meta["issuer"] == issuer and not issuer.endswith("/")
    for name, path in [("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"),
                       ("userinfo_endpoint", "/userinfo"), ("jwks_uri", "/jwks"),
                       ("end_session_endpoint", "/end_session")]:
        assert meta[name] == issuer + path
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["token_endpoint_auth_methods_supported"] == ["none"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "profile", "email", "offline_access"} <= set(meta["scopes_supported"])
    assert {"refresh_token", "authorization_code"} <= set(meta["grant_types_supported"])


def test_issuer_ignores_host_header(issuer: str) -> None:
    reply = Browser().get(f"{issuer}/.well-known/openid-configuration",
                          headers={"Host": "evil.example"})
    assert reply.json()["issuer"] == issuer


def test_jwks_publishes_public_signing_key(issuer: str) -> None:
    (key,) = Browser().get(f"{issuer}/jwks").json()["keys"]
    assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256"
    assert key["kid"] and "d" not in key


def test_code_flow_with_pkce(issuer: str) -> None:
    browser, flow = Browser(), Flow(issuer)
    redirect = log_in(browser, flow)
    location = redirect.headers["Location"]
    assert location.startswith(REDIRECT_URI + "&")
    params = redirect.redirect_params()
    assert params["iss"] == issuer and params["state"] == flow.state
    assert params["tenant"] == "demo"
    (cookie,) = browser.set_cookie_headers
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie

    reply = exchange(issuer, params["code"], flow.verifier)
    assert reply.status == 200, reply.text
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    tokens = reply.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    assert tokens["scope"] == "openid profile email"
    assert "refresh_token" not in tokens  # no offline_access requested

    claims = verify_id_token(issuer, tokens["id_token"])
    assert claims["sub"] == "alice" and claims["aud"] == CLIENT_ID
    assert claims["nonce"] == flow.nonce
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["auth_time"] <= claims["iat"]
    assert claims["email"] == "alice@example.org" and claims["name"] == "Alice Liddell"
    assert claims["picture"] == f"{issuer}/avatars/alice.svg"

    info = userinfo(issuer, tokens["access_token"])
    assert info.status == 200
    assert info.json()["sub"] == "alice" and info.json()["email_verified"] is True
    avatar = Browser().get(claims["picture"])
    assert avatar.status == 200 and avatar.headers["Content-Type"] == "image/svg+xml"


def test_claims_follow_scope(issuer: str) -> None:
    tokens = signed_in_tokens(issuer, scope="openid email")
    claims = verify_id_token(issuer, tokens["id_token"])
    assert claims["email"] == "alice@example.org" and "name" not in claims
    assert set(userinfo(issuer, tokens["access_token"]).json()) == {
        "sub", "email", "email_verified"}


def test_single_sign_on_and_end_session(issuer: str) -> None:
    browser, flow = Browser(), Flow(issuer)
    tokens_code = log_in(browser, flow).redirect_params()["code"]
    id_token = exchange(issuer, tokens_code, flow.verifier).json()["id_token"]
    # With a provider session the next request gets a code without a form.
    assert "code" in browser.get(Flow(issuer).url()).redirect_params()
    stolen_cookie = dict(browser.cookies)

    logout = browser.get(f"{issuer}/end_session?" + urlencode({
        "id_token_hint": id_token, "client_id": CLIENT_ID,
        "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "bye-1"}))
    assert logout.status == 302
    assert logout.headers["Location"] == f"{POST_LOGOUT_URI}?state=bye-1"
    assert browser.cookies == {}

    assert browser.get(Flow(issuer).url()).status == 200  # the login form again
    # The server-side session is gone too, not only the cookie.
    assert Browser(cookies=stolen_cookie).get(Flow(issuer).url()).status == 200


def test_end_session_rejects_unregistered_target(issuer: str) -> None:
    reply = Browser().get(f"{issuer}/end_session?" + urlencode({
        "client_id": CLIENT_ID, "post_logout_redirect_uri": "http://127.0.0.1:9/evil"}))
    assert reply.status == 400 and "Location" not in reply.headers


def test_end_session_without_target_shows_page(issuer: str) -> None:
    reply = Browser().get(f"{issuer}/end_session")
    assert reply.status == 200 and "Signed out" in reply.text


def test_prompt_none_needs_session_and_prompt_login_forces_form(issuer: str) -> None:
    browser, flow = Browser(), Flow(issuer)
    params = browser.get(flow.url(prompt="none")).redirect_params()
    assert params["error"] == "login_required"
    assert params["state"] == flow.state and params["iss"] == issuer
    log_in(browser, Flow(issuer))
    assert "code" in browser.get(Flow(issuer).url(prompt="none")).redirect_params()
    assert browser.get(Flow(issuer).url(prompt="login")).status == 200


def test_wrong_password_shows_form_again(issuer: str) -> None:
    reply = log_in(Browser(), Flow(issuer), password="nope")
    assert reply.status == 200 and "Wrong username or password" in reply.text


def test_cancel_returns_access_denied(issuer: str) -> None:
    flow = Flow(issuer)
    params = log_in(Browser(), flow, action="cancel").redirect_params()
    assert params["error"] == "access_denied" and params["state"] == flow.state
    assert params["iss"] == issuer


def test_wrong_code_verifier_is_invalid_grant(issuer: str) -> None:
    flow = Flow(issuer)
    code = log_in(Browser(), flow).redirect_params()["code"]
    other_verifier, _ = pkce_pair()
    reply = exchange(issuer, code, other_verifier)
    assert reply.status == 400 and reply.json()["error"] == "invalid_grant"
    assert reply.headers["Cache-Control"] == "no-store"


def test_redirect_uri_must_match_at_token_endpoint(issuer: str) -> None:
    flow = Flow(issuer)
    code = log_in(Browser(), flow).redirect_params()["code"]
    reply = exchange(issuer, code, flow.verifier, redirect_uri="http://127.0.0.1:9/app/callback")
    assert reply.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("overrides", "error"), [
    ({"code_challenge": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"scope": "profile email"}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
])
def test_bad_authorization_request_redirects_error(issuer: str, overrides: dict[str, None],
                                                   error: str) -> None:
    flow = Flow(issuer)
    params = Browser().get(flow.url(**overrides)).redirect_params()
    assert params["error"] == error
    assert params["state"] == flow.state and params["iss"] == issuer
    assert "code" not in params


@pytest.mark.parametrize("overrides", [
    {"redirect_uri": "http://127.0.0.1:9/app/callback"},
    {"redirect_uri": "http://127.0.0.1:9/elsewhere"},
    {"redirect_uri": None},
    {"client_id": "someone-else"},
])
def test_untrusted_client_or_redirect_gets_error_page(issuer: str,
                                                      overrides: dict[str, str | None]) -> None:
    reply = Browser().get(Flow(issuer).url(**overrides))
    assert reply.status == 400 and "Location" not in reply.headers
    assert reply.headers["Content-Type"].startswith("text/html")


def test_reused_code_is_rejected_and_revokes_its_tokens(issuer: str) -> None:
    flow = Flow(issuer)
    code = log_in(Browser(), flow).redirect_params()["code"]
    first = exchange(issuer, code, flow.verifier)
    assert first.status == 200
    assert userinfo(issuer, first.json()["access_token"]).status == 200
    second = exchange(issuer, code, flow.verifier)
    assert second.status == 400 and second.json()["error"] == "invalid_grant"
    assert userinfo(issuer, first.json()["access_token"]).status == 401


def test_refresh_rotation_and_reuse_detection(issuer: str) -> None:
    Browser().post(f"{issuer}/_test/reset-log")
    tokens = signed_in_tokens(issuer, scope="openid profile offline_access")
    first_refresh = tokens["refresh_token"]

    rotated = refresh(issuer, first_refresh)
    assert rotated.status == 200, rotated.text
    assert rotated.headers["Cache-Control"] == "no-store"
    new = rotated.json()
    assert new["refresh_token"] != first_refresh
    claims = verify_id_token(issuer, new["id_token"])
    assert "nonce" not in claims and claims["sub"] == "alice"

    reuse = refresh(issuer, first_refresh)  # the old token again: theft is assumed
    assert reuse.status == 400 and reuse.json()["error"] == "invalid_grant"
    assert refresh(issuer, new["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(issuer, new["access_token"]).status == 401

    calls = Browser().get(f"{issuer}/_test/log").json()["token_calls"]
    assert [(c["grant_type"], c["outcome"]) for c in calls] == [
        ("authorization_code", "ok"), ("refresh_token", "ok"),
        ("refresh_token", "invalid_grant"), ("refresh_token", "invalid_grant")]
    assert calls[1]["refresh_token_sha256_prefix"] == calls[2]["refresh_token_sha256_prefix"]
    assert calls[1]["issued_refresh_token_sha256_prefix"] == (
        calls[3]["refresh_token_sha256_prefix"])


def test_userinfo_rejects_bad_tokens(issuer: str) -> None:
    reply = userinfo(issuer, "not-a-token")
    assert reply.status == 401
    assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert Browser().get(f"{issuer}/userinfo").status == 401


def test_token_endpoint_errors(issuer: str) -> None:
    unknown_client = Browser().post(f"{issuer}/token", form={
        "grant_type": "authorization_code", "client_id": "nobody", "code": "x"})
    assert unknown_client.status == 401 and unknown_client.json()["error"] == "invalid_client"
    bad_grant = Browser().post(f"{issuer}/token", form={
        "grant_type": "password", "client_id": CLIENT_ID})
    assert bad_grant.json()["error"] == "unsupported_grant_type"


def test_cors_preflight(issuer: str) -> None:
    reply = Browser().send("OPTIONS", f"{issuer}/token")
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]
    authorize = Browser().get(Flow(issuer).url())
    assert "Access-Control-Allow-Origin" not in authorize.headers


def test_settings_and_users_controls(issuer: str) -> None:
    controls = Browser()
    user = {"name": "Carol Test", "given_name": "Carol", "email": "carol@example.org",
            "email_verified": False}
    put = controls.send("PUT", f"{issuer}/_test/users/carol", body=json.dumps(user).encode(),
                        headers={"Content-Type": "application/json"})
    assert put.status == 200
    settings = json.dumps({"id_token_ttl": 5, "access_token_ttl": 7}).encode()
    assert controls.post(f"{issuer}/_test/settings", body=settings).status == 200
    try:
        flow = Flow(issuer)
        code = log_in(Browser(), flow, user="carol").redirect_params()["code"]
        tokens = exchange(issuer, code, flow.verifier).json()
        claims = verify_id_token(issuer, tokens["id_token"])
        assert claims["sub"] == "carol" and claims["given_name"] == "Carol"
        assert claims["exp"] - claims["iat"] == 5 and tokens["expires_in"] == 7
    finally:
        reset = json.dumps({"id_token_ttl": 3600, "access_token_ttl": 3600}).encode()
        controls.post(f"{issuer}/_test/settings", body=reset)
    log = controls.get(f"{issuer}/_test/log").json()
    assert log["authorize_calls"] > 0 and log["userinfo_calls"] >= 0


def test_test_controls_absent_without_flag() -> None:
    with start_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI],
                        post_logout_redirect_uris=[]) as plain:
        browser = Browser()
        assert browser.get(f"{plain.issuer}/_test/log").status == 404
        assert browser.post(f"{plain.issuer}/_test/reset-log").status == 404
        assert browser.post(f"{plain.issuer}/_test/settings", body=b"{}").status == 404
        assert browser.send("PUT", f"{plain.issuer}/_test/users/x", body=b"{}").status == 404
        assert browser.get(f"{plain.issuer}/_test/misbehave").status == 404
        body = b'{"mode": "token_500"}'
        assert browser.post(f"{plain.issuer}/_test/misbehave", body=body).status == 404
        assert browser.post(f"{plain.issuer}/_test/reset", body=b"{}").status == 404
        assert browser.get(f"{plain.issuer}/_test/refresh-token?prefix={'0' * 16}").status == 404


# ----------------------------------------------------------------------------- misbehaviour

# The modes the end-to-end tests rely on, spelled out independently of the provider.
EXPECTED_MODES = {
    "id_token_wrong_aud", "id_token_wrong_iss", "id_token_bad_signature", "id_token_alg_none",
    "id_token_hs256_public_key", "id_token_expired", "id_token_iat_future",
    "id_token_wrong_nonce", "id_token_no_sub", "id_token_aud_list_no_azp",
    "id_token_unknown_kid", "id_token_signed_by_rotated_key",
    "callback_wrong_iss", "callback_no_iss", "callback_wrong_state",
    "userinfo_wrong_sub", "userinfo_401", "userinfo_500", "userinfo_slow",
    "token_500", "token_bad_json", "token_slow", "token_answer_late", "token_400_invalid_grant",
    "discovery_500", "discovery_slow", "jwks_500", "discovery_wrong_issuer",
}
GRANTS = ["authorization_code", "refresh_token"]


def control(issuer: str, method: str, path: str, body: Any = None) -> Reply:
    data = json.dumps(body).encode() if body is not None else None
    return Browser().send(method, f"{issuer}{path}", body=data,
                          headers={"Content-Type": "application/json"})


@pytest.fixture
def misbehave(issuer: str) -> Iterator[Callable[..., dict[str, Any]]]:
    """Switch a misbehaviour on for one test; /_test/reset switches it off afterwards."""
    def switch(mode: str | None, **extra: Any) -> dict[str, Any]:
        reply = control(issuer, "POST", "/_test/misbehave", {"mode": mode, **extra})
        assert reply.status == 200, reply.text
        return reply.json()

    yield switch
    assert control(issuer, "POST", "/_test/reset").status == 200


def published_keys(issuer: str) -> dict[str, jwt.PyJWK]:
    return {key["kid"]: jwt.PyJWK(key) for key in Browser().get(f"{issuer}/jwks").json()["keys"]}


class NonceMismatch(ValueError):
    pass


def strict_verify(issuer: str, id_token: str, nonce: str | None) -> dict[str, Any]:
    """What a careful client does with an ID token; raises on anything wrong."""
    kid = jwt.get_unverified_header(id_token).get("kid")
    key = published_keys(issuer).get(kid)
    if key is None:
        raise LookupError(f"kid {kid!r} is not in the JWKS")
    claims = jwt.decode(id_token, key, algorithms=["RS256"], audience=CLIENT_ID, issuer=issuer,
                        options={"require": ["iss", "sub", "aud", "exp", "iat"],
                                 "strict_aud": True})
    if claims.get("nonce") != nonce:  # a refreshed ID token carries no nonce
        raise NonceMismatch(claims.get("nonce"))
    return claims


def id_token_under(issuer: str, misbehave: Callable[..., Any], mode: str | None,
                   grant: str) -> tuple[str, str | None]:
    """An ID token issued while `mode` is on; returns it and the nonce it should carry."""
    flow = Flow(issuer, scope="openid profile offline_access")
    code = log_in(Browser(), flow).redirect_params()["code"]
    if grant == "authorization_code":
        misbehave(mode)
        reply, nonce = exchange(issuer, code, flow.verifier), flow.nonce
    else:
        first = exchange(issuer, code, flow.verifier).json()
        misbehave(mode)
        reply, nonce = refresh(issuer, first["refresh_token"]), None
    assert reply.status == 200, reply.text
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    tokens = reply.json()  # the rest of the answer is still right
    assert tokens["refresh_token"] and userinfo(issuer, tokens["access_token"]).status == 200
    return tokens["id_token"], nonce


@pytest.mark.parametrize("grant", GRANTS)
@pytest.mark.parametrize(("mode", "error", "match"), [
    ("id_token_wrong_aud", jwt.InvalidAudienceError, "Audience doesn't match"),
    ("id_token_wrong_iss", jwt.InvalidIssuerError, None),
    ("id_token_bad_signature", jwt.InvalidSignatureError, None),
    ("id_token_alg_none", jwt.InvalidAlgorithmError, None),
    ("id_token_hs256_public_key", jwt.InvalidAlgorithmError, None),
    ("id_token_expired", jwt.ExpiredSignatureError, None),
    ("id_token_iat_future", jwt.ImmatureSignatureError, None),
    ("id_token_wrong_nonce", NonceMismatch, None),
    ("id_token_no_sub", jwt.MissingRequiredClaimError, "sub"),
    ("id_token_aud_list_no_azp", jwt.InvalidAudienceError, "strict"),
    ("id_token_unknown_kid", LookupError, "unpublished"),
])
def test_id_token_misbehaviour_is_rejected(issuer: str, misbehave: Callable[..., Any],
                                           mode: str, error: type[Exception], match: str | None,
                                           grant: str) -> None:
    id_token, nonce = id_token_under(issuer, misbehave, mode, grant)
    with pytest.raises(error, match=match):
        strict_verify(issuer, id_token, nonce)
    # Switched off, the same flow verifies: the knob was the only fault.
    strict_verify(issuer, *id_token_under(issuer, misbehave, None, grant))


def test_forged_id_tokens_have_the_expected_shape(issuer: str,
                                                  misbehave: Callable[..., Any]) -> None:
    (kid, key), = published_keys(issuer).items()
    none_token, _ = id_token_under(issuer, misbehave, "id_token_alg_none", GRANTS[0])
    assert jwt.get_unverified_header(none_token) == {"alg": "none", "typ": "JWT", "kid": kid}
    assert none_token.endswith(".")

    hs_token, _ = id_token_under(issuer, misbehave, "id_token_hs256_public_key", GRANTS[0])
    assert jwt.get_unverified_header(hs_token)["alg"] == "HS256"
    signing_input, _, signature = hs_token.rpartition(".")
    pem = key.key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    forged = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(forged).rstrip(b"=").decode() == signature

    aud_token, _ = id_token_under(issuer, misbehave, "id_token_aud_list_no_azp", GRANTS[0])
    claims = jwt.decode(aud_token, key, algorithms=["RS256"], audience=CLIENT_ID)
    assert claims["aud"] == [CLIENT_ID, "other"] and "azp" not in claims

    expired, _ = id_token_under(issuer, misbehave, "id_token_expired", GRANTS[0])
    claims = jwt.decode(expired, key, algorithms=["RS256"], options={"verify_exp": False},
                        audience=CLIENT_ID)
    assert claims["exp"] - claims["iat"] == 3600 and claims["auth_time"] <= claims["iat"]


@pytest.mark.parametrize("grant", GRANTS)
def test_rotated_key_replaces_the_published_one(issuer: str, misbehave: Callable[..., Any],
                                                grant: str) -> None:
    old_token = signed_in_tokens(issuer)["id_token"]
    (old_kid, old_key), = published_keys(issuer).items()
    id_token, nonce = id_token_under(issuer, misbehave, "id_token_signed_by_rotated_key", grant)

    (new_kid,) = published_keys(issuer)
    assert new_kid != old_kid and jwt.get_unverified_header(id_token)["kid"] == new_kid
    assert strict_verify(issuer, id_token, nonce)["sub"] == "alice"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(id_token, old_key, algorithms=["RS256"], audience=CLIENT_ID)

    # Switching off and resetting keep the rotation; new tokens use the new key.
    control(issuer, "POST", "/_test/reset")
    assert set(published_keys(issuer)) == {new_kid}
    assert verify_id_token(issuer, signed_in_tokens(issuer)["id_token"])["sub"] == "alice"
    # An ID token from before the rotation still works as a logout hint.
    logout = Browser().get(f"{issuer}/end_session?" + urlencode({
        "id_token_hint": old_token, "post_logout_redirect_uri": POST_LOGOUT_URI}))
    assert logout.status == 302


@pytest.mark.parametrize(("mode", "check"), [
    ("callback_wrong_iss", lambda params, flow: params["iss"] == flow.issuer + "/evil"),
    ("callback_no_iss", lambda params, flow: "iss" not in params),
    ("callback_wrong_state", lambda params, flow: params["state"] not in ("", flow.state)),
])
def test_callback_misbehaviour(issuer: str, misbehave: Callable[..., Any], mode: str,
                               check: Callable[[dict[str, str], Flow], bool]) -> None:
    misbehave(mode)
    flow = Flow(issuer)
    params = log_in(Browser(), flow).redirect_params()
    assert "code" in params and check(params, flow)
    cancelled = Flow(issuer)  # error responses misbehave the same way
    assert check(log_in(Browser(), cancelled, action="cancel").redirect_params(), cancelled)
    meta = Browser().get(f"{issuer}/.well-known/openid-configuration").json()
    assert meta["authorization_response_iss_parameter_supported"] is True


@pytest.mark.parametrize(("mode", "status", "content_type"), [
    ("userinfo_wrong_sub", 200, "application/json"),
    ("userinfo_401", 401, "application/json"),
    ("userinfo_500", 500, "text/html"),
])
def test_userinfo_misbehaviour(issuer: str, misbehave: Callable[..., Any], mode: str,
                               status: int, content_type: str) -> None:
    access_token = signed_in_tokens(issuer)["access_token"]
    misbehave(mode)
    reply = userinfo(issuer, access_token)
    assert reply.status == status and reply.headers["Content-Type"].startswith(content_type)
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    if mode == "userinfo_wrong_sub":
        assert reply.json()["sub"] == "someone-else" and reply.json()["name"]
    if mode == "userinfo_401":
        assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]


@pytest.mark.parametrize(("mode", "status", "content_type"), [
    ("token_500", 500, "text/html"),
    ("token_bad_json", 200, "application/json"),
    ("token_400_invalid_grant", 400, "application/json"),
])
def test_token_misbehaviour(issuer: str, misbehave: Callable[..., Any], mode: str,
                            status: int, content_type: str) -> None:
    flow = Flow(issuer)
    code = log_in(Browser(), flow).redirect_params()["code"]
    misbehave(mode)
    reply = exchange(issuer, code, flow.verifier)
    assert reply.status == status and reply.headers["Content-Type"].startswith(content_type)
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    if mode == "token_bad_json":
        assert reply.body == b'{"access_token": '
    if mode == "token_400_invalid_grant":
        assert reply.json()["error"] == "invalid_grant"
    calls = control(issuer, "GET", "/_test/log").json()["token_calls"]
    assert calls[-1]["outcome"] == mode
    misbehave(None)  # the request was not processed: the code is still good
    assert exchange(issuer, code, flow.verifier).status == 200


@pytest.mark.parametrize(("mode", "path", "status"), [
    ("discovery_500", "/.well-known/openid-configuration", 500),
    ("jwks_500", "/jwks", 500),
    ("discovery_wrong_issuer", "/.well-known/openid-configuration", 200),
])
def test_discovery_misbehaviour(issuer: str, misbehave: Callable[..., Any], mode: str,
                                path: str, status: int) -> None:
    misbehave(mode)
    reply = Browser().get(issuer + path)
    assert reply.status == status
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    if mode == "discovery_wrong_issuer":
        meta = reply.json()
        assert meta["issuer"] == issuer + "/evil" and meta["token_endpoint"] == issuer + "/token"


def slow_call(issuer: str, mode: str) -> Callable[[], Reply]:
    """The request a *_slow mode delays, prepared so only the call itself is timed."""
    if mode in ("token_slow", "token_answer_late"):
        flow = Flow(issuer)
        code = log_in(Browser(), flow).redirect_params()["code"]
        return lambda: exchange(issuer, code, flow.verifier)
    if mode == "userinfo_slow":
        access_token = signed_in_tokens(issuer)["access_token"]
        return lambda: userinfo(issuer, access_token)
    return lambda: Browser().get(f"{issuer}/.well-known/openid-configuration")


def timed(call: Callable[[], Reply]) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = call()
    return reply, time.monotonic() - started


@pytest.mark.parametrize("mode", ["token_slow", "token_answer_late", "userinfo_slow",
                                  "discovery_slow"])
def test_slow_modes_delay_only_their_endpoint(issuer: str, misbehave: Callable[..., Any],
                                              mode: str) -> None:
    call = slow_call(issuer, mode)
    assert misbehave(mode, seconds=1) == {"mode": mode, "seconds": 1.0}
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(timed, call)
        time.sleep(0.2)  # let the slow request reach its sleep
        other, other_took = timed(lambda: Browser().get(f"{issuer}/jwks"))
        assert other.status == 200 and other_took < 0.5 and not slow.done()
        reply, took = slow.result(timeout=10)
    assert reply.status == 200 and took >= 1.0
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_misbehave_control(provider: ProviderProcess, issuer: str,
                           misbehave: Callable[..., Any]) -> None:
    assert control(issuer, "GET", "/_test/misbehave").json() == {"mode": None, "seconds": None}
    assert misbehave("token_slow") == {"mode": "token_slow", "seconds": 5.0}
    assert misbehave("jwks_500") == {"mode": "jwks_500", "seconds": None}  # replaces
    current = control(issuer, "GET", "/_test/misbehave")
    assert current.json()["mode"] == "jwks_500"
    assert current.headers["Access-Control-Allow-Origin"] == "*"
    assert Browser().get(f"{issuer}/jwks").status == 500
    assert control(issuer, "POST", "/_test/misbehave", {}).json()["mode"] is None
    assert Browser().get(f"{issuer}/jwks").status == 200

    misbehave("token_500")
    Browser().post(f"{issuer}/token", form={"grant_type": "refresh_token"})
    deadline = time.monotonic() + 5  # stderr is read by a thread in the test process
    while "POST /token 500 [misbehave token_500]" not in provider.stderr_tail():
        assert time.monotonic() < deadline, provider.stderr_tail()
        time.sleep(0.05)


@pytest.mark.parametrize("body", [
    {"mode": "teapot"}, {"mode": 3}, {"mode": "token_500", "seconds": 1},
    {"mode": "token_slow", "seconds": -1}, {"mode": "token_slow", "seconds": True},
    {"mode": "token_slow", "seconds": 61}, {"mode": None, "extra": 1}, ["token_500"],
])
def test_misbehave_rejects_bad_requests(issuer: str, body: Any) -> None:
    reply = control(issuer, "POST", "/_test/misbehave", body)
    assert reply.status == 400, reply.text
    assert set(reply.json()["known_modes"]) == EXPECTED_MODES
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert control(issuer, "GET", "/_test/misbehave").json()["mode"] is None


def test_reset_restores_settings_and_stops_misbehaving(issuer: str,
                                                       misbehave: Callable[..., Any]) -> None:
    control(issuer, "POST", "/_test/settings",
            {"id_token_ttl": 5, "access_token_ttl": 7, "rotate_refresh_tokens": False})
    misbehave("discovery_500")
    reply = control(issuer, "POST", "/_test/reset")
    assert reply.status == 200 and reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.json() == {"misbehave": {"mode": None, "seconds": None},
                            "settings": {"id_token_ttl": 3600, "access_token_ttl": 3600,
                                         "rotate_refresh_tokens": True}}
    assert Browser().get(f"{issuer}/.well-known/openid-configuration").status == 200


# ----------------------------------------------------------------------------- revocation


def revoke(issuer: str, token: str | None, **extra: str) -> Reply:
    """POST /revoke as the browser page would: a plain form from the public client."""
    form = {"client_id": CLIENT_ID, **extra}
    if token is not None:
        form["token"] = token
    return Browser().post(f"{issuer}/revoke", form=form)


def sha256_prefix(token: str) -> str:
    """How the test log names a token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def revocations(issuer: str) -> list[dict[str, Any]]:
    return control(issuer, "GET", "/_test/log").json()["revocations"]


def refresh_token_state(issuer: str, token: str) -> str:
    reply = control(issuer, "GET", f"/_test/refresh-token?prefix={sha256_prefix(token)}")
    assert reply.status == 200, reply.text
    return reply.json()["state"]


def renewing_tokens(issuer: str) -> dict[str, Any]:
    return signed_in_tokens(issuer, scope="openid profile offline_access")


def test_discovery_lists_revocation_endpoint(issuer: str) -> None:
    meta = Browser().get(f"{issuer}/.well-known/openid-configuration").json()
    assert meta["revocation_endpoint"] == f"{issuer}/revoke"
    assert meta["revocation_endpoint_auth_methods_supported"] == ["none"]


def test_revoking_a_refresh_token_revokes_its_grant(issuer: str) -> None:
    control(issuer, "POST", "/_test/reset-log")
    first = renewing_tokens(issuer)
    second = refresh(issuer, first["refresh_token"]).json()
    assert userinfo(issuer, first["access_token"]).status == 200

    reply = revoke(issuer, second["refresh_token"], token_type_hint="refresh_token")
    assert reply.status == 200 and reply.body == b""
    assert reply.headers["Access-Control-Allow-Origin"] == "*"

    gone = refresh(issuer, second["refresh_token"])
    assert gone.status == 400 and gone.json()["error"] == "invalid_grant"
    for access_token in (first["access_token"], second["access_token"]):
        dead = userinfo(issuer, access_token)  # the grant's every access token
        assert dead.status == 401 and 'error="invalid_token"' in dead.headers["WWW-Authenticate"]
    issued = control(issuer, "GET", "/_test/log").json()["token_calls"][1]
    assert revocations(issuer) == [{"token_sha256_prefix": issued[
        "issued_refresh_token_sha256_prefix"], "token_type": "refresh_token", "outcome": "ok"}]

    again = revoke(issuer, second["refresh_token"])  # already revoked: still fine
    assert again.status == 200 and again.body == b""
    assert revocations(issuer)[-1]["outcome"] == "ok"


def test_revoking_an_access_token_spares_the_rest(issuer: str) -> None:
    control(issuer, "POST", "/_test/reset-log")
    tokens = renewing_tokens(issuer)
    # A wrong hint only orders the search (RFC 7009 2.1): the token is still found.
    assert revoke(issuer, tokens["access_token"], token_type_hint="refresh_token").status == 200
    assert userinfo(issuer, tokens["access_token"]).status == 401

    assert refresh_token_state(issuer, tokens["refresh_token"]) == "live"
    renewed = refresh(issuer, tokens["refresh_token"])
    assert renewed.status == 200, renewed.text
    assert userinfo(issuer, renewed.json()["access_token"]).status == 200
    assert revocations(issuer) == [{"token_sha256_prefix": sha256_prefix(tokens["access_token"]),
                                    "token_type": "access_token", "outcome": "ok"}]


@pytest.mark.parametrize("hint", [None, "access_token", "id_token"])
def test_revoking_an_unknown_token_answers_200(issuer: str, hint: str | None) -> None:
    control(issuer, "POST", "/_test/reset-log")
    extra = {"token_type_hint": hint} if hint else {}
    reply = revoke(issuer, "not-a-token", **extra)  # an unknown hint is ignored too
    assert reply.status == 200 and reply.body == b""
    assert revocations(issuer) == [{"token_sha256_prefix": sha256_prefix("not-a-token"),
                                    "token_type": "unknown", "outcome": "ok"}]


def repeated_token(access_token: str) -> dict[str, Any]:
    body = urlencode([("client_id", CLIENT_ID), ("token", access_token),
                      ("token", access_token)]).encode()
    return {"body": body, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


@pytest.mark.parametrize(("request_for", "status", "error"), [
    (lambda t: {"form": {"client_id": CLIENT_ID, "token": t, "client_secret": "s"}},
     401, "invalid_client"),
    (lambda t: {"form": {"client_id": CLIENT_ID, "token": t},
                "headers": {"Authorization": "Basic ZGVtby1zcGE6cw=="}}, 401, "invalid_client"),
    (lambda t: {"form": {"client_id": "someone-else", "token": t}}, 401, "invalid_client"),
    (lambda t: {"form": {"token": t}}, 401, "invalid_client"),
    (lambda t: {"form": {"client_id": CLIENT_ID}}, 400, "invalid_request"),
    (lambda t: {"form": {"client_id": CLIENT_ID, "token": ""}}, 400, "invalid_request"),
    (repeated_token, 400, "invalid_request"),
    (lambda t: {"body": json.dumps({"client_id": CLIENT_ID, "token": t}).encode(),
                "headers": {"Content-Type": "application/json"}}, 400, "invalid_request"),
])
def test_revoke_refuses_bad_requests(issuer: str, request_for: Callable[[str], dict[str, Any]],
                                     status: int, error: str) -> None:
    control(issuer, "POST", "/_test/reset-log")
    access_token = signed_in_tokens(issuer)["access_token"]
    reply = Browser().post(f"{issuer}/revoke", **request_for(access_token))
    assert reply.status == status and reply.json()["error"] == error, reply.text
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    if "Authorization" in request_for(access_token).get("headers", {}):
        assert reply.headers["WWW-Authenticate"].startswith("Basic")
    assert userinfo(issuer, access_token).status == 200  # nothing was revoked
    (entry,) = revocations(issuer)
    assert entry["outcome"] == error and entry["token_type"] == "unknown"


def test_revoke_is_open_to_the_browser_page(issuer: str) -> None:
    preflight = Browser().send("OPTIONS", f"{issuer}/revoke")
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    # What fetch(..., {keepalive: true}) or a form sends: a simple, credential-free POST.
    simple = revoke(issuer, renewing_tokens(issuer)["refresh_token"])
    assert simple.status == 200 and simple.headers["Access-Control-Allow-Origin"] == "*"
    assert Browser().get(f"{issuer}/revoke").status == 405


def test_refresh_token_state_control(issuer: str) -> None:
    tokens = renewing_tokens(issuer)
    first = tokens["refresh_token"]
    assert refresh_token_state(issuer, first) == "live"
    assert refresh_token_state(issuer, first) == "live"  # asking does not spend it
    second = refresh(issuer, first).json()["refresh_token"]
    assert refresh_token_state(issuer, first) == "rotated"
    assert refresh_token_state(issuer, second) == "live"
    assert revoke(issuer, second).status == 200
    assert [refresh_token_state(issuer, t) for t in (first, second)] == ["revoked", "revoked"]
    assert refresh_token_state(issuer, tokens["access_token"]) == "unknown"
    reply = control(issuer, "GET", f"/_test/refresh-token?prefix={'0' * 16}")
    assert reply.json() == {"state": "unknown"}
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("query", ["", "?prefix=xyz", f"?prefix={'A' * 16}",
                                   f"?prefix={'0' * 15}", f"?prefix={'0' * 16}&prefix=0"])
def test_refresh_token_state_control_refuses_bad_prefixes(issuer: str, query: str) -> None:
    reply = control(issuer, "GET", f"/_test/refresh-token{query}")
    assert reply.status == 400 and reply.json()["error"] == "invalid_request"


def test_reuse_after_revocation_is_still_refused(issuer: str) -> None:
    tokens = renewing_tokens(issuer)
    assert revoke(issuer, tokens["refresh_token"]).status == 200
    assert refresh(issuer, tokens["refresh_token"]).json()["error"] == "invalid_grant"


# ----------------------------------------------------------------------------- rotation switch


def settings(issuer: str, **values: Any) -> Reply:
    return control(issuer, "POST", "/_test/settings", values)


@pytest.fixture
def rotation_off(issuer: str) -> Iterator[None]:
    assert settings(issuer, rotate_refresh_tokens=False).json()["rotate_refresh_tokens"] is False
    yield
    assert control(issuer, "POST", "/_test/reset").status == 200


def assert_reused_three_times(issuer: str, refresh_token: str) -> list[str]:
    """Refresh three times with the same token; returns the access tokens issued."""
    access_tokens = []
    for _ in range(3):
        reply = refresh(issuer, refresh_token)
        assert reply.status == 200, reply.text
        answer = reply.json()
        assert "refresh_token" not in answer  # the client keeps the one it has
        assert "nonce" not in verify_id_token(issuer, answer["id_token"])
        assert userinfo(issuer, answer["access_token"]).status == 200
        access_tokens.append(answer["access_token"])
        assert refresh_token_state(issuer, refresh_token) == "live"
    assert len(set(access_tokens)) == 3
    return access_tokens


@pytest.mark.usefixtures("rotation_off")
def test_without_rotation_one_refresh_token_serves_the_grant(issuer: str) -> None:
    control(issuer, "POST", "/_test/reset-log")
    tokens = renewing_tokens(issuer)
    assert "refresh_token" in tokens  # the code grant still issues one
    access_tokens = assert_reused_three_times(issuer, tokens["refresh_token"])
    calls = control(issuer, "GET", "/_test/log").json()["token_calls"]
    prefix = sha256_prefix(tokens["refresh_token"])
    assert [(c["refresh_token_sha256_prefix"], c["issued_refresh_token_sha256_prefix"])
            for c in calls[1:]] == [(prefix, None)] * 3

    # Revocation still ends it, and everything issued from it.
    assert revoke(issuer, tokens["refresh_token"]).status == 200
    assert refresh(issuer, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert all(userinfo(issuer, token).status == 401 for token in access_tokens)
    assert refresh_token_state(issuer, tokens["refresh_token"]) == "revoked"


def test_switching_rotation_back_on_rotates_the_kept_token(issuer: str,
                                                           rotation_off: None) -> None:
    kept = renewing_tokens(issuer)["refresh_token"]
    assert refresh(issuer, kept).status == 200
    assert settings(issuer, rotate_refresh_tokens=True).status == 200
    rotated = refresh(issuer, kept).json()
    assert rotated["refresh_token"] != kept
    assert refresh_token_state(issuer, kept) == "rotated"
    assert refresh(issuer, kept).json()["error"] == "invalid_grant"  # reuse detection again
    assert refresh_token_state(issuer, rotated["refresh_token"]) == "revoked"


@pytest.mark.parametrize("body", [
    {"rotate_refresh_tokens": 0}, {"rotate_refresh_tokens": 1},
    {"rotate_refresh_tokens": "false"}, {"rotate_refresh_tokens": None},
    {"id_token_ttl": True}, {"access_token_ttl": False}, {"id_token_ttl": 5.5},
    {"rotate_tokens": False}, [False],
])
def test_settings_validation(issuer: str, body: Any) -> None:
    reply = control(issuer, "POST", "/_test/settings", body)
    assert reply.status == 400 and reply.json()["error"] == "invalid_request", reply.text
    assert control(issuer, "GET", "/_test/settings").json() == {
        "id_token_ttl": 3600, "access_token_ttl": 3600, "rotate_refresh_tokens": True}


def test_reset_restores_rotation(issuer: str) -> None:
    assert settings(issuer, rotate_refresh_tokens=False).status == 200
    current = control(issuer, "GET", "/_test/settings").json()
    assert current["rotate_refresh_tokens"] is False
    reset = control(issuer, "POST", "/_test/reset").json()
    assert reset["settings"]["rotate_refresh_tokens"] is True
    first = renewing_tokens(issuer)["refresh_token"]
    assert refresh(issuer, first).json()["refresh_token"] != first


def test_no_rotation_flag_sets_the_default() -> None:
    with start_provider(client_id=CLIENT_ID, redirect_uris=[REDIRECT_URI], test_controls=True,
                        extra_args=["--no-refresh-token-rotation"]) as running:
        plain = running.issuer
        assert control(plain, "GET", "/_test/settings").json()["rotate_refresh_tokens"] is False
        assert_reused_three_times(plain, renewing_tokens(plain)["refresh_token"])
        # A reset goes back to the configured default, not to rotation.
        assert control(plain, "POST", "/_test/reset").json()["settings"][
            "rotate_refresh_tokens"] is False


def test_a_late_answer_is_processed_before_the_wait(issuer: str,
                                                   misbehave: Callable[..., Any]) -> None:
    call = slow_call(issuer, "token_answer_late")
    misbehave("token_answer_late", seconds=1)
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(timed, call)
        time.sleep(0.5)  # the code is redeemed at once; only the answer waits
        calls = control(issuer, "GET", "/_test/log").json()["token_calls"]
        assert calls[-1]["outcome"] == "ok" and not slow.done()
        reply, took = slow.result(timeout=10)
    assert reply.status == 200 and took >= 1.0
