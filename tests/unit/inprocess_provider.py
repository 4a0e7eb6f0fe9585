"""An in-process OpenID provider for the CPython tests of the session core.

It answers the session's Http calls directly (no sockets) so the whole login flow
runs in milliseconds, and signs real RS256/ES256 tokens with PyJWT + cryptography.
The end-to-end tests use the real provider process (node-oidc-provider, started by
devtools/oidc_provider/launcher.mjs) instead.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm, get_default_algorithms

from oidc_spa.errors import NetworkError
from oidc_spa.transport import HttpResponse

ISSUER = "https://op.example.test"
CLIENT_ID = "spa-client"
PAGE_URL = "https://app.example.test/repo/"


class FakeClock:
    """A clock the tests move by hand: `clock.now += 60`."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class PyJwtVerifier:
    """SignatureVerifier for CPython: PyJWT's algorithms (with cryptography)."""

    async def verify(
        self, algorithm: str, jwk: Mapping[str, Any], signing_input: bytes, signature: bytes
    ) -> bool:
        implementation = get_default_algorithms()[algorithm]
        key = implementation.from_jwk(json.dumps(dict(jwk)))
        return implementation.verify(signing_input, key, signature)


@dataclass
class SigningKey:
    kid: str | None  # None: tokens and the JWKS name no kid at all
    algorithm: str
    private_key: Any

    @classmethod
    def rsa(cls, kid: str | None = "rsa-1") -> SigningKey:
        return cls(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def ec(cls, kid: str = "ec-1") -> SigningKey:
        return cls(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))

    def public_jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.algorithm.startswith("RS") else ECAlgorithm
        jwk = json.loads(algorithm.to_jwk(self.private_key.public_key()))
        named = {"kid": self.kid} if self.kid is not None else {}
        return {**jwk, **named, "use": "sig", "alg": self.algorithm}

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        named = {"kid": self.kid} if self.kid is not None else {}
        return jwt.encode(
            dict(claims), self.private_key, algorithm=self.algorithm,
            headers={**named, **(headers or {})},
        )


@dataclass
class InProcessProvider:
    """Holds codes and tokens; its `http` attribute is what the Session is given."""

    clock: Callable[[], float]
    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey.rsa()])
    user: dict[str, Any] = field(default_factory=lambda: {
        "sub": "alice", "nickname": "alice", "name": "Alice Example",
        "email": "alice@example.test", "picture": "https://img.example.test/alice.png",
    })
    id_token_ttl: int = 3600
    send_iss: bool = True
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    refresh_uses: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Hooks for misbehaviour: change the ID token's claims, or replace an endpoint's answer.
    tamper_claims: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Rewrites a successful refresh answer's JSON, e.g. its token_type.
    tamper_refresh_answer: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    override: dict[str, HttpResponse | Exception] = field(default_factory=dict)
    # Refresh grants: "rotate" (a new refresh token each time, reuse refused), "omit"
    # (no refresh_token in the answer, the old one stays valid: Google, Okta's default)
    # or "same" (the same refresh token sent back).
    rotation: str = "rotate"
    # What a refresh answer leaves out, e.g. {"id_token"} or {"id_token", "expires_in"}.
    refresh_omits: set[str] = field(default_factory=set)
    # While set, token requests wait for it: a provider answering late, on cue.
    token_gate: asyncio.Event | None = None
    revocations: list[str] = field(default_factory=list)
    # Offers DPoP (ES256) and answers token_type "DPoP" to token requests that carry a
    # proof; proofs are not checked here (test_dpop.py checks how they are made).
    dpop: bool = False

    def __post_init__(self) -> None:
        self.http = _ProviderHttp(self)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token",
            "userinfo_endpoint": f"{ISSUER}/userinfo",
            "jwks_uri": f"{ISSUER}/jwks",
            "end_session_endpoint": f"{ISSUER}/end_session",
            "revocation_endpoint": f"{ISSUER}/revoke",
            "authorization_response_iss_parameter_supported": self.send_iss,
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            **({"dpop_signing_alg_values_supported": ["ES256"]} if self.dpop else {}),
        }

    def authorize(self, authorization_url: str) -> str:
        """What the browser would come back with after the user signs in."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        iss = f"&iss={ISSUER}" if self.send_iss else ""
        return f"{query['redirect_uri']}?code={code}&state={query['state']}{iss}"

    def id_token_claims(self, nonce: str | None) -> dict[str, Any]:
        now = int(self.clock())
        claims = {
            "iss": ISSUER, "aud": CLIENT_ID, "sub": self.user["sub"],
            "iat": now, "exp": now + self.id_token_ttl, "nickname": self.user["nickname"],
        }
        if nonce:
            claims["nonce"] = nonce
        return self.tamper_claims(claims) if self.tamper_claims else claims

    def token(self, form: Mapping[str, str], headers: Mapping[str, str]) -> HttpResponse:
        bound = self.dpop and "DPoP" in headers
        if form.get("grant_type") == "refresh_token":
            return self._typed(self.refresh(form.get("refresh_token", "")), bound,
                               self.tamper_refresh_answer)
        return self._typed(self._exchange(form), bound)

    def _exchange(self, form: Mapping[str, str]) -> HttpResponse:
        request = self.codes.pop(form.get("code", ""), None)
        if request is None:
            return _json(400, {"error": "invalid_grant", "error_description": "code unknown"})
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        ).rstrip(b"=").decode()
        if challenge != request["code_challenge"] or form["redirect_uri"] != request[
            "redirect_uri"
        ]:
            return _json(400, {"error": "invalid_grant", "error_description": "PKCE failed"})
        return self.issue(request.get("nonce"), "offline_access" in request.get("scope", ""))

    def issue(self, nonce: str | None, with_refresh_token: bool,
              omit: set[str] | frozenset[str] = frozenset()) -> HttpResponse:
        access_token = secrets.token_urlsafe(16)
        self.access_tokens[access_token] = self.user["sub"]
        answer = {"access_token": access_token, "token_type": "Bearer",
                  "expires_in": self.id_token_ttl,
                  "id_token": self.keys[0].sign(self.id_token_claims(nonce))}
        if with_refresh_token:
            answer["refresh_token"] = refresh_token = secrets.token_urlsafe(16)
            self.refresh_tokens[refresh_token] = "live"
        return _json(200, {k: v for k, v in answer.items() if k not in omit})

    def refresh(self, refresh_token: str) -> HttpResponse:
        """With rotation each refresh token works once and a reused one is refused;
        without, it works until revoked."""
        self.refresh_uses.append(refresh_token)
        if self.refresh_tokens.get(refresh_token) != "live":
            return _json(400, {"error": "invalid_grant", "error_description": "reused"})
        if self.rotation == "rotate":
            self.refresh_tokens[refresh_token] = "used"
            return self.issue(None, True, self.refresh_omits)
        answer = json.loads(self.issue(None, False, self.refresh_omits).text)
        if self.rotation == "same":
            answer["refresh_token"] = refresh_token
        return _json(200, answer)

    @staticmethod
    def _typed(answer: HttpResponse, bound: bool,
               tamper: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> HttpResponse:
        """A successful answer, DPoP-typed when its request was bound, then tampered."""
        if answer.status != 200:
            return answer
        body = {**json.loads(answer.text), **({"token_type": "DPoP"} if bound else {})}
        return _json(200, tamper(body) if tamper else body)

    def revoke(self, form: Mapping[str, str]) -> HttpResponse:
        """RFC 7009: a refresh token's grant ends (here: every token, one user)."""
        token = form.get("token", "")
        self.revocations.append(token)
        if token in self.refresh_tokens:
            self.revoke_all()
        return HttpResponse(200, "")

    def live_refresh_tokens(self) -> list[str]:
        return [token for token, state in self.refresh_tokens.items() if state == "live"]

    def revoke_all(self) -> None:
        self.access_tokens.clear()
        self.refresh_tokens = dict.fromkeys(self.refresh_tokens, "revoked")

    def userinfo(self, headers: Mapping[str, str]) -> HttpResponse:
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme not in ("Bearer", "DPoP") or token not in self.access_tokens:
            return HttpResponse(401, "")
        return _json(200, self.user)


class _ProviderHttp:
    def __init__(self, provider: InProcessProvider) -> None:
        self.provider = provider

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        timeout: float,
    ) -> HttpResponse:
        await asyncio.sleep(0.001)  # a real request lets other tasks (other tabs) run meanwhile
        if method == "POST" and urlsplit(url).path == "/token":
            form = {k: v[0] for k, v in parse_qs(body or "").items()}
            gate = self.provider.token_gate
            sent = headers or {}
            answer = self._answer(method, url, lambda path: self.provider.token(form, sent))
            if gate is not None:  # processed at once, answered late
                await gate.wait()
            return answer
        return self._answer(method, url, lambda path: self._get(path, headers or {}))

    def send_detached(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                      body: str | None = None) -> None:
        form = {k: v[0] for k, v in parse_qs(body or "").items()}
        assert method == "POST" and urlsplit(url).path == "/revoke", url
        self._answer(method, url, lambda path: self.provider.revoke(form))

    def _answer(
        self, method: str, url: str, handler: Callable[[str], HttpResponse]
    ) -> HttpResponse:
        path = urlsplit(url).path
        self.provider.requests.append((method, path))
        override = self.provider.override.get(path)
        if isinstance(override, Exception):
            raise override
        return override if override is not None else handler(path)

    def _get(self, path: str, headers: Mapping[str, str]) -> HttpResponse:
        provider = self.provider
        if path == "/.well-known/openid-configuration":
            return _json(200, provider.discovery())
        if path == "/jwks":
            return _json(200, {"keys": [key.public_jwk() for key in provider.keys]})
        if path in ("/userinfo", "/api"):
            return provider.userinfo(headers)
        raise NetworkError("network.provider_unreachable", detail=path)


def _json(status: int, body: object) -> HttpResponse:
    return HttpResponse(status, json.dumps(body))


# -- this app's keys in storage (oidc_spa.store.SessionStore's layout) -------------

PLANTED_ID = "planted-session-0001"


def has_session(storage: Any, client_id: str = CLIENT_ID) -> bool:
    """A login is signed in, or a record of one is left behind."""
    prefix = f"oidc_spa:{client_id}:"
    return any(key == prefix + "current" or key.startswith(prefix + "session:")
               for key in storage.items)


def plant_record(storage: Any, text: str, client_id: str = CLIENT_ID) -> None:
    """Put `text` where the signed-in login's record is read from."""
    storage.items[f"oidc_spa:{client_id}:current"] = PLANTED_ID
    storage.items[f"oidc_spa:{client_id}:session:{PLANTED_ID}"] = text
