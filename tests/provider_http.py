"""A tiny browser (urllib, cookies, no redirects followed) and the authorization code flow
with PKCE, for the tests that drive the local provider over HTTP without Chromium:
tools/test_node_provider.py, tools/test_api.py and e2e/test_fault_proxy.py. Its client and
redirect URI are what those tests register with the provider they start.

Shared by tools and e2e tests, so it lives in tests/ (on sys.path: pyproject's pytest
pythonpath)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

CLIENT_ID = "demo-spa"
# A query in the registered URI must survive the authorization response.
REDIRECT_URI = "http://127.0.0.1:9/app/callback?tenant=demo"
POST_LOGOUT_URI = "http://127.0.0.1:9/app/signed-out"
APP_ORIGIN = "http://127.0.0.1:9"
OTHER_ORIGIN = "http://127.0.0.1:7"
DISCOVERY = "/.well-known/openid-configuration"


# ----------------------------------------------------------------------------- a tiny browser


class _NoRaise(urllib.request.HTTPErrorProcessor):
    """Hand back every response as is: no exceptions, and so no redirects followed."""

    def http_response(self, request: urllib.request.Request, response: Any) -> Any:
        return response

    https_response = http_response


_OPENER = urllib.request.build_opener(_NoRaise())


@dataclass
class Reply:
    url: str
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def location(self) -> str:
        assert self.status in (302, 303), (self.status, self.text)
        return urljoin(self.url, self.headers["Location"])

    def redirect_params(self) -> dict[str, str]:
        query = urlsplit(self.location).query
        return {name: values[0] for name, values in parse_qs(query).items()}


@dataclass
class Browser:
    """Keeps cookies by name (one host here; the provider reads them by name)."""

    cookies: dict[str, str] = field(default_factory=dict)

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
            reply = Reply(url, response.status, response.headers, response.read())
        for header in reply.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if "expires=thu, 01 jan 1970" in header.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";")[0]
        return reply

    def get(self, url: str, **kwargs: Any) -> Reply:
        return self.send("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Reply:
        return self.send("POST", url, **kwargs)

    def follow(self, reply: Reply, stop_at: str = REDIRECT_URI) -> Reply:
        """Follow redirects within the provider; stop at one to the app (nothing listens)."""
        for _ in range(10):
            if reply.status not in (302, 303) or reply.location.startswith(stop_at):
                return reply
            reply = self.get(reply.location)
        raise AssertionError("too many redirects")


# ----------------------------------------------------------------------------- flow helpers


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


@dataclass
class Flow:
    """One authorization request's parameters and secrets."""

    issuer: str
    scope: str = "openid profile email"
    verifier: str = ""
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    def url(self, **overrides: str | None) -> str:
        self.verifier, challenge = pkce_pair()
        params: dict[str, str | None] = {
            "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code",
            "scope": self.scope, "state": self.state, "nonce": self.nonce,
            "code_challenge": challenge, "code_challenge_method": "S256",
        }
        params.update(overrides)
        sent = {name: value for name, value in params.items() if value is not None}
        return f"{self.issuer}/authorize?{urlencode(sent)}"


def login_page(browser: Browser, flow: Flow, **overrides: str | None) -> Reply:
    page = browser.follow(browser.get(flow.url(**overrides)))
    assert page.status == 200, (page.status, page.text)
    return page


def submit(browser: Browser, page: Reply, user: str = "alice", password: str | None = None,
           action: str = "sign-in") -> Reply:
    match = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert match, page.text
    reply = browser.post(urljoin(page.url, match.group(1)), form={
        "username": user, "password": password or f"{user}-demo", "action": action})
    return browser.follow(reply)


def log_in(browser: Browser, flow: Flow, **kwargs: str) -> Reply:
    """Sign in through the provider's page; the reply is the redirect to the app."""
    reply = submit(browser, login_page(browser, flow), **kwargs)
    assert reply.location.startswith(REDIRECT_URI), reply.location
    return reply


def exchange(issuer: str, code: str, verifier: str, **headers: str) -> Reply:
    form = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code,
            "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    return Browser().post(f"{issuer}/token", form=form, headers=headers)


def dpop_proof(key: ec.EllipticCurvePrivateKey, method: str, url: str, **claims: str) -> str:
    """An RFC 9449 proof of `key` for this request (ES256); claims adds nonce or ath."""
    public_jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    body = {"htm": method, "htu": url, "iat": int(time.time()),
            "jti": secrets.token_urlsafe(16), **claims}
    return jwt.encode(body, key, algorithm="ES256",
                      headers={"typ": "dpop+jwt", "jwk": public_jwk})


def refresh(issuer: str, refresh_token: str) -> Reply:
    return Browser().post(f"{issuer}/token", form={
        "grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": refresh_token})


def userinfo(issuer: str, access_token: str) -> Reply:
    return Browser().get(f"{issuer}/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def signed_in_tokens(issuer: str, scope: str = "openid profile email",
                     browser: Browser | None = None) -> dict[str, Any]:
    flow = Flow(issuer, scope=scope)
    code = log_in(browser or Browser(), flow).redirect_params()["code"]
    reply = exchange(issuer, code, flow.verifier)
    assert reply.status == 200, reply.text
    return reply.json()


def verify_id_token(issuer: str, id_token: str) -> dict[str, Any]:
    (key,) = Browser().get(f"{issuer}/jwks").json()["keys"]
    assert jwt.get_unverified_header(id_token)["kid"] == key["kid"]
    return jwt.decode(id_token, jwt.PyJWK(key), algorithms=["RS256"], audience=CLIENT_ID,
                      issuer=issuer, options={"require": ["iss", "sub", "aud", "exp", "iat"]})


def read_log(issuer: str) -> dict[str, Any]:
    return Browser().get(f"{issuer}/_test/log").json()


def digest_prefix(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def change_settings(issuer: str, **settings: Any) -> Reply:
    return Browser().post(f"{issuer}/_test/settings", body=json.dumps(settings).encode(),
                          headers={"Content-Type": "application/json"})
