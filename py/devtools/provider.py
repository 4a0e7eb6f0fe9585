"""A strict local OpenID Connect provider for development and end-to-end tests.

Run:
    python py/devtools/provider.py --host 127.0.0.1 --port 0 --client-id demo-spa \
        --redirect-uri http://127.0.0.1:8000/ [--post-logout-redirect-uri URL] [--test-controls] \
        [--no-refresh-token-rotation]

Follows OpenID Connect Core 1.0, Discovery 1.0 and RP-Initiated Logout 1.0, RFC 6749,
RFC 7636 (PKCE, S256 only), RFC 7009 (token revocation at /revoke: a refresh token takes its
whole grant with it, an access token only itself), RFC 9207 (`iss` in authorization
responses) and RFC 9700 (refresh token rotation with reuse detection). Everything lives in
memory; the signing key is generated at start, so tokens never outlive the process.

Refresh tokens rotate by default. --no-refresh-token-rotation (or the test setting
rotate_refresh_tokens) behaves like the many providers that do not rotate: a refresh answers
without a refresh_token member and the presented one stays usable while its grant lives.

With --test-controls, POST /_test/misbehave {"mode": NAME[, "seconds": N]} makes the provider
break one rule on purpose (see MISBEHAVIOURS) so tests can prove the client notices;
{"mode": null} stops it. POST /_test/reset stops it and restores the default settings, but a
key rotation done by id_token_signed_by_rotated_key is real and stays. GET /_test/log lists
token and revocation calls (secrets only as SHA-256 prefixes); GET /_test/refresh-token?prefix=P
says whether the refresh token with that prefix still works, without spending it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

if __package__ in (None, ""):  # run as a script: make `devtools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.lifecycle import serve_until_signalled

CODE_TTL = 60
PENDING_LOGIN_TTL = 600
REFRESH_TOKEN_TTL = 24 * 3600
MAX_BODY = 64 * 1024

SUPPORTED_SCOPES = ("openid", "profile", "email", "offline_access")
# OIDC Core 5.4: which standard claims each scope value releases.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
        "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
}
PROTOCOL_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash")

# RFC 7636 4.1 / 4.2: verifier is 43-128 unreserved chars; an S256 challenge is 43 base64url.
VERIFIER_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
S256_CHALLENGE_RE = re.compile(r"[A-Za-z0-9\-_]{43}")
SUB_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")

# Test-only misbehaviours, grouped by where they act.
ID_TOKEN_CLAIM_MODES = (
    "id_token_wrong_aud", "id_token_wrong_iss", "id_token_expired", "id_token_iat_future",
    "id_token_wrong_nonce", "id_token_no_sub", "id_token_aud_list_no_azp",
)
ID_TOKEN_SIGNING_MODES = (
    "id_token_bad_signature", "id_token_alg_none", "id_token_hs256_public_key",
    "id_token_unknown_kid", "id_token_signed_by_rotated_key",
)
CALLBACK_MODES = ("callback_wrong_iss", "callback_no_iss", "callback_wrong_state")
USERINFO_MODES = ("userinfo_wrong_sub", "userinfo_401", "userinfo_500", "userinfo_slow")
TOKEN_MODES = ("token_500", "token_bad_json", "token_slow", "token_answer_late",
               "token_400_invalid_grant")
DISCOVERY_MODES = ("discovery_500", "discovery_slow", "jwks_500", "discovery_wrong_issuer")
MISBEHAVIOURS = (*ID_TOKEN_CLAIM_MODES, *ID_TOKEN_SIGNING_MODES, *CALLBACK_MODES,
                 *USERINFO_MODES, *TOKEN_MODES, *DISCOVERY_MODES)
# token_slow waits before it handles the request; token_answer_late handles it at once
# (a refresh token is rotated, new tokens issued) and waits before it answers.
SLOW_MODES = ("userinfo_slow", "token_slow", "token_answer_late", "discovery_slow")
DEFAULT_SLOW_SECONDS = 5.0
MAX_SLOW_SECONDS = 60.0  # a typo must not hang a test run
EVIL_SUFFIX = "/evil"  # appended to the issuer where a misbehaviour claims another one
UNPUBLISHED_KID = "unpublished"

CORS_PATHS = frozenset({"/.well-known/openid-configuration", "/jwks", "/token", "/revoke",
                        "/userinfo"})
DIGEST_PREFIX_RE = re.compile(r"[0-9a-f]{16}")  # digest(token)[:16], as the test log shows
INT_SETTINGS = ("id_token_ttl", "access_token_ttl")
BOOL_SETTINGS = ("rotate_refresh_tokens",)
HTML_SECURITY_HEADERS = (
    ("Cache-Control", "no-store"),
    # Inline styles only; frame-ancestors stops the login form being framed (clickjacking).
    ("Content-Security-Policy",
     "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
)


# ----------------------------------------------------------------------------- small helpers


def now() -> float:
    return time.time()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """Hex SHA-256: secrets are stored and logged only as hashes."""
    return hashlib.sha256(value.encode()).hexdigest()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_sha256(value: str, half: bool = False) -> str:
    raw = hashlib.sha256(value.encode("ascii")).digest()
    if half:  # at_hash uses the left-most half of the hash (OIDC Core 3.1.3.6)
        raw = raw[: len(raw) // 2]
    return b64url(raw)


def add_query(uri: str, params: Mapping[str, str]) -> str:
    """Append parameters, keeping any query the registered URI already has (RFC 6749 3.1.2)."""
    encoded = urlencode(params)
    if not encoded:
        return uri
    return f"{uri}{'&' if urlsplit(uri).query else '?'}{encoded}"


class DuplicateParameter(ValueError):
    pass


def single_values(raw: str) -> dict[str, str]:
    """Parse a urlencoded string. RFC 6749 3.1: parameters must not repeat, and
    parameters sent without a value are treated as omitted."""
    parsed = parse_qs(raw, keep_blank_values=True)
    for name, values in parsed.items():
        if len(values) > 1:
            raise DuplicateParameter(name)
    return {name: values[0] for name, values in parsed.items() if values[0] != ""}


def only_value(raw: str, name: str) -> str | None:
    values = parse_qs(raw, keep_blank_values=True).get(name, [])
    return values[0] if len(values) == 1 and values[0] else None


# ----------------------------------------------------------------------------- HTTP plumbing


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: Message
    body: bytes

    def is_form(self) -> bool:
        content_type = self.headers.get("Content-Type", "")
        return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"

    def form(self) -> dict[str, str]:
        return single_values(self.body.decode("utf-8", errors="replace"))

    def json_body(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")

    def cookie(self, name: str) -> str | None:
        try:
            jar = SimpleCookie(self.headers.get("Cookie", ""))
        except CookieError:  # other apps on the same host may set cookies we cannot parse
            return None
        morsel = jar.get(name)
        return morsel.value if morsel else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, payload: Any, *headers: tuple[str, str]) -> Response:
    body = json.dumps(payload).encode()
    return Response(status, body, [("Content-Type", "application/json"), *headers])


def no_store_json(status: int, payload: Any, *headers: tuple[str, str]) -> Response:
    return json_response(status, payload, ("Cache-Control", "no-store"),
                         ("Pragma", "no-cache"), *headers)


def html_page(status: int, title: str, body_html: str, *headers: tuple[str, str]) -> Response:
    """Render a page; callers must escape whatever they put into body_html."""
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{PAGE_CSS}</style></head>"
        f"<body><main>{body_html}</main></body></html>"
    )
    return Response(status, page.encode(), [("Content-Type", "text/html; charset=utf-8"),
                                            *HTML_SECURITY_HEADERS, *headers])


def error_page(status: int, title: str, detail: str) -> Response:
    body = f"<h1>{html.escape(title)}</h1><p class='error'>{html.escape(detail)}</p>"
    return html_page(status, title, body)


def redirect(location: str, *headers: tuple[str, str]) -> Response:
    return Response(302, b"", [("Location", location), ("Cache-Control", "no-store"), *headers])


PAGE_CSS = (
    "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}"
    "main{max-width:24rem;margin:3rem auto;background:#fff;padding:1.5rem 2rem;"
    "border-radius:8px;box-shadow:0 1px 4px #0002}"
    "label{display:block;margin-top:.8rem}input{width:100%;padding:.4rem;box-sizing:border-box}"
    "button{margin-top:1rem;margin-right:.5rem;padding:.4rem 1rem}"
    ".error{color:#a00}.hint{color:#666;font-size:.85rem}"
)


# ----------------------------------------------------------------------------- domain records


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    client_id: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    id_token_ttl: int
    access_token_ttl: int
    test_controls: bool
    rotate_refresh_tokens: bool = True


@dataclass
class User:
    sub: str
    password: str
    claims: dict[str, Any]


@dataclass(frozen=True)
class AuthRequest:
    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str | None


@dataclass
class Session:
    sub: str
    auth_time: int


@dataclass
class Grant:
    """One token family: everything issued from one authorization code."""

    client_id: str
    sub: str
    scope: tuple[str, ...]
    auth_time: int
    revoked: bool = False


@dataclass
class AuthCode:
    request: AuthRequest
    sub: str
    auth_time: int
    expires_at: float
    used: bool = False
    grant: Grant | None = None


@dataclass
class AccessToken:
    grant: Grant
    scope: tuple[str, ...]
    expires_at: float
    revoked: bool = False  # this token alone (RFC 7009); grant.revoked covers the family


@dataclass
class RefreshToken:
    grant: Grant
    expires_at: float
    rotated: bool = False


class AuthzError(Exception):
    """An authorization error that is safe to send back to the redirect_uri."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class TokenError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self, *headers: tuple[str, str]) -> Response:
        payload = {"error": self.error, "error_description": self.description}
        return no_store_json(self.status, payload, *headers)


def demo_users(issuer: str) -> dict[str, User]:
    def make(sub: str, given: str, family: str, nickname: str) -> User:
        claims = {
            "name": f"{given} {family}", "nickname": nickname, "given_name": given,
            "family_name": family, "email": f"{sub}@example.org", "email_verified": True,
            "picture": f"{issuer}/avatars/{sub}.svg", "updated_at": 1_700_000_000,
        }
        return User(sub, f"{sub}-demo", claims)

    return {"alice": make("alice", "Alice", "Liddell", "ali"),
            "bob": make("bob", "Bob", "Builder", "bobby")}


def released_claims(user: User, scope: tuple[str, ...]) -> dict[str, Any]:
    names = {name for value in scope for name in SCOPE_CLAIMS.get(value, ())}
    return {name: value for name, value in user.claims.items() if name in names}


def avatar_svg(user: User) -> bytes:
    label = str(user.claims.get("given_name") or user.claims.get("name") or user.sub)[:1].upper()
    hue = int(digest(user.sub)[:4], 16) % 360
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='96' height='96' viewBox='0 0 96 96'>"
        f"<circle cx='48' cy='48' r='48' fill='hsl({hue},55%,45%)'/>"
        "<text x='48' y='62' font-family='sans-serif' font-size='44' fill='#fff' "
        f"text-anchor='middle'>{html.escape(label)}</text></svg>"
    )
    return svg.encode()


# ----------------------------------------------------------------------------- signing keys


@dataclass(frozen=True)
class SigningKey:
    """A key and its kid, swapped as one value so a rotation is never seen half done."""

    key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(key, kid or secrets.token_urlsafe(12))

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(Encoding.PEM,
                                                  PublicFormat.SubjectPublicKeyInfo)

    def public_jwk(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        assert isinstance(jwk, dict)
        jwk.pop("key_ops", None)  # RFC 7517 4.3: "use" and "key_ops" should not be combined
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return jwk


# ----------------------------------------------------------------------------- misbehaviour


@dataclass(frozen=True)
class Misbehaviour:
    """The one rule the provider breaks on purpose (test controls only); mode None: none."""

    mode: str | None = None
    seconds: float | None = None  # only for the *_slow modes

    def snapshot(self) -> dict[str, Any]:
        return {"mode": self.mode, "seconds": self.seconds}


def parse_misbehaviour(body: Any) -> Misbehaviour:
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    unknown = sorted(set(body) - {"mode", "seconds"})
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    mode = body.get("mode")
    if mode is None:
        return Misbehaviour()
    if not isinstance(mode, str) or mode not in MISBEHAVIOURS:
        raise ValueError(f"unknown mode {mode!r}")
    return Misbehaviour(mode, parse_seconds(mode, body.get("seconds")))


def parse_seconds(mode: str, raw: Any) -> float | None:
    if mode not in SLOW_MODES:
        if raw is not None:  # strict, so a test asking for a delay it won't get fails loudly
            raise ValueError("seconds only applies to the *_slow modes")
        return None
    if raw is None:
        return DEFAULT_SLOW_SECONDS
    # bool is an int subclass; NaN fails the range check.
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not (
            0 <= raw <= MAX_SLOW_SECONDS):
        raise ValueError(f"seconds must be a number from 0 to {MAX_SLOW_SECONDS:g}")
    return float(raw)


def tamper_claims(mode: str, claims: dict[str, Any], issuer: str, ttl: int) -> None:
    """Break exactly one ID token claim rule; everything else stays valid."""
    issued_at = claims["iat"]
    match mode:
        case "id_token_wrong_aud":
            claims["aud"] = "someone-else"
        case "id_token_wrong_iss":
            claims["iss"] = issuer + EVIL_SUFFIX
        case "id_token_expired":
            # auth_time follows so that only the expiry is wrong, not the ordering.
            claims.update(exp=issued_at - 3600, iat=issued_at - 7200,
                          auth_time=min(claims["auth_time"], issued_at - 7200))
        case "id_token_iat_future":
            claims.update(iat=issued_at + 3600, exp=issued_at + 3600 + ttl)
        case "id_token_wrong_nonce":  # on a refresh this adds a nonce nobody sent
            claims["nonce"] = secrets.token_urlsafe(12)
        case "id_token_no_sub":
            del claims["sub"]
        case "id_token_aud_list_no_azp":
            claims["aud"] = [claims["aud"], "other"]
            claims.pop("azp", None)


def compact_jwt(header: Mapping[str, Any], claims: Mapping[str, Any],
                sign: Callable[[bytes], bytes]) -> str:
    """Assemble a JWS by hand: PyJWT rightly refuses to produce the forged ones."""
    signing_input = (f"{b64url(json.dumps(header).encode())}."
                     f"{b64url(json.dumps(claims).encode())}")
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def flip_signature(token: str) -> str:
    """Invert the bits of one signature byte: same length and encoding, invalid signature."""
    signing_input, _, signature = token.rpartition(".")
    raw = bytearray(b64url_decode(signature))
    raw[len(raw) // 2] ^= 0xFF
    return f"{signing_input}.{b64url(bytes(raw))}"


def server_error_page() -> Response:
    return error_page(500, "Internal Server Error",
                      "The provider fails on purpose (test control misbehave).")


# ----------------------------------------------------------------------------- the provider

Handler = Callable[[Request], Response]


class Provider:
    """All protocol logic; the HTTP handler only translates requests and responses."""

    def __init__(self, config: Config, issuer: str) -> None:
        self.config = config
        self.issuer = issuer
        self.id_token_ttl = config.id_token_ttl
        self.access_token_ttl = config.access_token_ttl
        self.rotate_refresh_tokens = config.rotate_refresh_tokens
        self.lock = threading.Lock()
        self.signing = SigningKey.generate()
        # Every key we published, by kid: id_token_hints still verify after a rotation.
        self.own_keys: dict[str, SigningKey] = {self.signing.kid: self.signing}
        self.unpublished: SigningKey | None = None  # made on first use; slow to generate
        self.misbehaviour = Misbehaviour()
        self.rotation_pending = False
        self.cookie_name = f"op_session_{urlsplit(issuer).port}"  # ports share cookies
        self.users = demo_users(issuer)
        self.pending: dict[str, tuple[AuthRequest, float]] = {}
        self.sessions: dict[str, Session] = {}
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.reset_log()
        self.routes: dict[str, dict[str, Handler]] = {
            "/": {"GET": self.index},
            "/.well-known/openid-configuration": {"GET": self.discovery},
            "/jwks": {"GET": self.jwks},
            "/authorize": {"GET": self.authorize, "POST": self.login},
            "/token": {"POST": self.token},
            "/revoke": {"POST": self.revoke},
            "/userinfo": {"GET": self.userinfo, "POST": self.userinfo},
            "/end_session": {"GET": self.end_session, "POST": self.end_session},
        }
        self.prefix_routes: dict[str, dict[str, Handler]] = {"/avatars/": {"GET": self.avatar}}
        if config.test_controls:
            self.routes["/_test/log"] = {"GET": self.test_log}
            self.routes["/_test/reset-log"] = {"POST": self.test_reset_log}
            self.routes["/_test/settings"] = {"GET": self.test_settings,
                                              "POST": self.test_settings}
            self.prefix_routes["/_test/users/"] = {"PUT": self.test_put_user}
            self.routes["/_test/misbehave"] = {"GET": self.test_misbehave,
                                               "POST": self.test_misbehave}
            self.routes["/_test/reset"] = {"POST": self.test_reset}
            self.routes["/_test/refresh-token"] = {"GET": self.test_refresh_token}

    # -- dispatch

    def handle(self, request: Request) -> Response:
        methods = self._methods_for(request.path)
        cors = request.path in CORS_PATHS or (
            self.config.test_controls and request.path.startswith("/_test/"))
        if methods is None:
            response = error_page(404, "Not found", "There is nothing at this address.")
        elif request.method == "OPTIONS" and cors:
            response = self._preflight(methods)
        elif request.method not in methods:
            allow = ", ".join(sorted(methods))
            response = error_page(405, "Method not allowed", f"Use {allow}.")
            response.headers.append(("Allow", allow))
        else:
            response = methods[request.method](request)
        if cors:
            response.headers += [("Access-Control-Allow-Origin", "*"),
                                 ("Access-Control-Expose-Headers", "WWW-Authenticate")]
        return response

    def _methods_for(self, path: str) -> dict[str, Handler] | None:
        if path in self.routes:
            return self.routes[path]
        for prefix, methods in self.prefix_routes.items():
            if path.startswith(prefix):
                return methods
        return None

    @staticmethod
    def _preflight(methods: Mapping[str, Handler]) -> Response:
        allowed = "GET, POST, PUT, OPTIONS" if "PUT" in methods else "GET, POST, OPTIONS"
        return Response(204, b"", [("Access-Control-Allow-Methods", allowed),
                                   ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
                                   ("Access-Control-Max-Age", "600")])

    # -- metadata

    def index(self, request: Request) -> Response:
        issuer = html.escape(self.issuer)
        body = (f"<h1>Local OpenID provider</h1><p>Issuer: <code>{issuer}</code></p>"
                "<p><a href='/.well-known/openid-configuration'>Discovery document</a></p>")
        return html_page(200, "Local OpenID provider", body)

    def discovery(self, request: Request) -> Response:
        mode = self._pause_if("discovery_slow")
        if mode == "discovery_500":
            return server_error_page()
        base = self.issuer
        claimed = base + EVIL_SUFFIX if mode == "discovery_wrong_issuer" else base
        scope_claims = [name for value in ("profile", "email") for name in SCOPE_CLAIMS[value]]
        return json_response(200, {
            "issuer": claimed,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "end_session_endpoint": f"{base}/end_session",
            "revocation_endpoint": f"{base}/revoke",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "scopes_supported": list(SUPPORTED_SCOPES),
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "authorization_response_iss_parameter_supported": True,
            "claims_supported": [*PROTOCOL_CLAIMS, *scope_claims],
            "prompt_values_supported": ["none", "login"],
            # Discovery 1.0 defaults request_uri_parameter_supported to true: say we don't.
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "claims_parameter_supported": False,
        })

    def jwks(self, request: Request) -> Response:
        if self.misbehaviour.mode == "jwks_500":
            return server_error_page()
        return json_response(200, {"keys": [self.signing.public_jwk()]})

    def _pause_if(self, slow_mode: str) -> str | None:
        """Sleep if slow_mode is on (no lock held: the server is threaded); returns the mode."""
        current = self.misbehaviour
        if current.mode == slow_mode and current.seconds:
            time.sleep(current.seconds)
        return current.mode

    def avatar(self, request: Request) -> Response:
        name = unquote(request.path.removeprefix("/avatars/"))
        with self.lock:
            user = self.users.get(name.removesuffix(".svg")) if name.endswith(".svg") else None
            body = avatar_svg(user) if user else None
        if body is None:
            return error_page(404, "Not found", "No such avatar.")
        # CORP lets cross-origin-isolated pages (COEP, as PyScript workers use) embed it.
        return Response(200, body, [("Content-Type", "image/svg+xml"),
                                    ("Cross-Origin-Resource-Policy", "cross-origin"),
                                    ("Cache-Control", "no-cache")])

    # -- authorization endpoint

    def authorize(self, request: Request) -> Response:
        with self.lock:
            self.authorize_calls += 1
        # Client and redirect_uri are checked first: until both are trusted, never redirect.
        client_id = only_value(request.query, "client_id")
        redirect_uri = only_value(request.query, "redirect_uri")
        if client_id != self.config.client_id:
            return error_page(400, "Unknown client", "client_id is missing or not registered.")
        if redirect_uri not in self.config.redirect_uris:
            return error_page(400, "Invalid redirect_uri",
                              "redirect_uri is missing or not registered for this client.")
        state = only_value(request.query, "state")
        try:
            auth = self._parse_auth_request(request.query, client_id, redirect_uri)
        except AuthzError as err:
            return self._authz_error(redirect_uri, state, err)
        return self._authenticate(request, auth)

    def _parse_auth_request(self, query: str, client_id: str, redirect_uri: str) -> AuthRequest:
        try:
            params = single_values(query)
        except DuplicateParameter as dup:
            raise AuthzError("invalid_request", f"parameter {dup} is repeated") from None
        if "request" in params:
            raise AuthzError("request_not_supported", "request objects are not supported")
        if "request_uri" in params:
            raise AuthzError("request_uri_not_supported", "request_uri is not supported")
        self._check_response_type(params)
        scope = self._parse_scope(params.get("scope", ""))
        challenge = self._parse_challenge(params)
        return AuthRequest(
            client_id=client_id, redirect_uri=redirect_uri, scope=scope,
            state=params.get("state"), nonce=params.get("nonce"), code_challenge=challenge,
            prompt=self._parse_prompt(params.get("prompt", "")),
            max_age=self._parse_max_age(params.get("max_age")),
            login_hint=params.get("login_hint"),
        )

    @staticmethod
    def _check_response_type(params: Mapping[str, str]) -> None:
        if "response_type" not in params:
            raise AuthzError("invalid_request", "response_type is required")
        if params["response_type"] != "code":
            raise AuthzError("unsupported_response_type", "only response_type=code is supported")
        if params.get("response_mode", "query") != "query":
            raise AuthzError("invalid_request", "only response_mode=query is supported")

    @staticmethod
    def _parse_scope(raw: str) -> tuple[str, ...]:
        scope = tuple(dict.fromkeys(value for value in raw.split(" ") if value))
        if "openid" not in scope:
            raise AuthzError("invalid_scope", "the openid scope is required")
        unknown = [value for value in scope if value not in SUPPORTED_SCOPES]
        if unknown:
            raise AuthzError("invalid_scope", f"unsupported scope: {' '.join(unknown)}")
        return scope

    @staticmethod
    def _parse_challenge(params: Mapping[str, str]) -> str:
        challenge = params.get("code_challenge")
        if challenge is None:
            raise AuthzError("invalid_request", "code_challenge is required (PKCE)")
        # A missing method means "plain" (RFC 7636 4.3), which RFC 9700 says not to accept.
        if params.get("code_challenge_method") != "S256":
            raise AuthzError("invalid_request", "code_challenge_method must be S256")
        if not S256_CHALLENGE_RE.fullmatch(challenge):
            raise AuthzError("invalid_request", "code_challenge is not a base64url SHA-256")
        return challenge

    @staticmethod
    def _parse_prompt(raw: str) -> frozenset[str]:
        prompt = frozenset(value for value in raw.split(" ") if value)
        if "none" in prompt and len(prompt) > 1:
            raise AuthzError("invalid_request", "prompt=none cannot be combined with others")
        return prompt

    @staticmethod
    def _parse_max_age(raw: str | None) -> int | None:
        if raw is None:
            return None
        if not raw.isdigit():
            raise AuthzError("invalid_request", "max_age must be a non-negative integer")
        return int(raw)

    def _authenticate(self, request: Request, auth: AuthRequest) -> Response:
        session = self._current_session(request)
        if session and "login" not in auth.prompt and self._fresh_enough(session, auth):
            return self._issue_code(auth, session)  # single sign-on
        if "none" in auth.prompt:
            return self._authz_error(auth.redirect_uri, auth.state, AuthzError(
                "login_required", "the user is not signed in at the provider"))
        pending_id = new_secret()
        with self.lock:
            self.pending[pending_id] = (auth, now() + PENDING_LOGIN_TTL)
        return self._login_form(pending_id, auth, username=auth.login_hint or "", message="")

    @staticmethod
    def _fresh_enough(session: Session, auth: AuthRequest) -> bool:
        return auth.max_age is None or now() - session.auth_time <= auth.max_age

    def _current_session(self, request: Request) -> Session | None:
        session_id = request.cookie(self.cookie_name)
        with self.lock:
            return self.sessions.get(session_id) if session_id else None

    def _login_form(self, pending_id: str, auth: AuthRequest, *, username: str,
                    message: str) -> Response:
        esc = html.escape
        alert = f"<p class='error' role='alert'>{esc(message)}</p>" if message else ""
        body = (
            f"<h1>Sign in</h1><p><strong>{esc(auth.client_id)}</strong> asks you to sign in "
            f"(scope: {esc(' '.join(auth.scope))}).</p>{alert}"
            "<form method='post' action='/authorize'>"
            f"<input type='hidden' name='request_id' value='{esc(pending_id)}'>"
            "<label for='username'>Username</label>"
            f"<input id='username' name='username' autocomplete='username' value='{esc(username)}'"
            " required autofocus>"
            "<label for='password'>Password</label>"
            "<input id='password' name='password' type='password' autocomplete='current-password'"
            " required>"
            "<button type='submit' name='action' value='sign-in'>Sign in</button>"
            "<button type='submit' name='action' value='cancel' formnovalidate>Cancel</button>"
            "</form><p class='hint'>Demo users: alice / alice-demo, bob / bob-demo</p>"
        )
        return html_page(200, "Sign in", body)

    def login(self, request: Request) -> Response:
        """The login form's POST: cancel, retry on bad credentials, or sign in."""
        if not request.is_form():
            return error_page(400, "Bad request", "Expected a form submission.")
        try:
            form = request.form()
        except DuplicateParameter:
            return error_page(400, "Bad request", "Form fields must not repeat.")
        pending_id = form.get("request_id", "")
        with self.lock:
            pending = self.pending.get(pending_id)
        if pending is None or pending[1] < now():
            return error_page(400, "Sign-in expired",
                              "This sign-in request is unknown or expired. Start again.")
        auth = pending[0]
        if form.get("action") == "cancel":
            self._drop_pending(pending_id)
            return self._authz_error(auth.redirect_uri, auth.state, AuthzError(
                "access_denied", "the user cancelled the sign-in"))
        user = self._check_password(form.get("username", ""), form.get("password", ""))
        if user is None:
            return self._login_form(pending_id, auth, username=form.get("username", ""),
                                    message="Wrong username or password.")
        self._drop_pending(pending_id)
        return self._sign_in(request, auth, user)

    def _drop_pending(self, pending_id: str) -> None:
        with self.lock:
            self.pending.pop(pending_id, None)

    def _check_password(self, username: str, password: str) -> User | None:
        with self.lock:
            user = self.users.get(username)
        expected = user.password if user else secrets.token_hex(16)
        if secrets.compare_digest(password.encode(), expected.encode()) and user:
            return user
        return None

    def _sign_in(self, request: Request, auth: AuthRequest, user: User) -> Response:
        # Always a fresh session id on sign-in, so a planted cookie cannot be fixated.
        old_id = request.cookie(self.cookie_name)
        session_id = new_secret()
        session = Session(user.sub, int(now()))
        with self.lock:
            if old_id:
                self.sessions.pop(old_id, None)
            self.sessions[session_id] = session
        response = self._issue_code(auth, session)
        response.headers.append(("Set-Cookie", self._session_cookie(session_id)))
        return response

    def _session_cookie(self, value: str, clear: bool = False) -> str:
        cookie = f"{self.cookie_name}={value}; Path=/; HttpOnly; SameSite=Lax"
        return f"{cookie}; Max-Age=0" if clear else cookie

    def _issue_code(self, auth: AuthRequest, session: Session) -> Response:
        code = new_secret()
        record = AuthCode(auth, session.sub, session.auth_time, now() + CODE_TTL)
        with self.lock:
            self.codes[digest(code)] = record
        params = {"code": code, **self._state_and_iss(auth.state)}
        return redirect(add_query(auth.redirect_uri, params))

    def _state_and_iss(self, state: str | None) -> dict[str, str]:
        mode = self.misbehaviour.mode
        if mode == "callback_wrong_state":
            state = secrets.token_urlsafe(16)
        params = {"state": state} if state is not None else {}
        if mode != "callback_no_iss":  # RFC 9207: lets the client detect mix-up attacks
            params["iss"] = self.issuer + (EVIL_SUFFIX if mode == "callback_wrong_iss" else "")
        return params

    def _authz_error(self, redirect_uri: str, state: str | None, err: AuthzError) -> Response:
        params = {"error": err.error, "error_description": err.description,
                  **self._state_and_iss(state)}
        return redirect(add_query(redirect_uri, params))

    # -- token endpoint

    def token(self, request: Request) -> Response:
        mode = self._pause_if("token_slow")
        failure = self._token_failure(mode)
        if failure is not None:
            self._record_failure(request, str(mode))
            return failure
        grant_type: str | None = None
        form: dict[str, str] = {}
        payload: dict[str, Any] | None = None
        try:
            form = self._token_form(request)
            grant_type = form.get("grant_type")
            payload = self._grant(grant_type, form)
            response, outcome = no_store_json(200, payload), "ok"
        except TokenError as err:
            response, outcome = err.response(*self._client_auth_challenge(request, err)), err.error
        self._record_token_call(grant_type, outcome, form, payload)
        self._pause_if("token_answer_late")
        return response

    @staticmethod
    def _token_failure(mode: str | None) -> Response | None:
        """A misbehaving answer; the request is not processed, so its code stays unused."""
        if mode == "token_500":
            return server_error_page()
        if mode == "token_bad_json":
            return Response(200, b'{"access_token": ', [("Content-Type", "application/json"),
                                                         ("Cache-Control", "no-store")])
        if mode == "token_400_invalid_grant":
            return TokenError("invalid_grant", "the grant is invalid (test control)").response()
        return None

    def _record_failure(self, request: Request, mode: str) -> None:
        try:
            form = request.form() if request.is_form() else {}
        except DuplicateParameter:
            form = {}
        self._record_token_call(form.get("grant_type"), mode, form, None)

    def _grant(self, grant_type: str | None, form: Mapping[str, str]) -> dict[str, Any]:
        if grant_type == "authorization_code":
            return self._redeem_code(form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        if grant_type is None:
            raise TokenError("invalid_request", "grant_type is required")
        raise TokenError("unsupported_grant_type", f"grant_type {grant_type} is not supported")

    def _token_form(self, request: Request) -> dict[str, str]:
        """A /token or /revoke form, from our public client and without credentials."""
        if not request.is_form():
            raise TokenError("invalid_request",
                             "use Content-Type application/x-www-form-urlencoded")
        try:
            form = request.form()
        except DuplicateParameter as dup:
            raise TokenError("invalid_request", f"parameter {dup} is repeated") from None
        # Public client: token_endpoint_auth_method "none", so any credential is an error.
        if request.headers.get("Authorization") or "client_secret" in form:
            raise TokenError("invalid_client", "this client is public and has no secret", 401)
        if form.get("client_id") != self.config.client_id:
            raise TokenError("invalid_client", "client_id is missing or unknown", 401)
        return form

    @staticmethod
    def _client_auth_challenge(request: Request, err: TokenError) -> tuple[tuple[str, str], ...]:
        # RFC 6749 5.2: a 401 after an Authorization header must carry WWW-Authenticate.
        if err.status == 401 and request.headers.get("Authorization"):
            return (("WWW-Authenticate", 'Basic realm="token"'),)
        return ()

    @staticmethod
    def _require(form: Mapping[str, str], name: str) -> str:
        if name not in form:
            raise TokenError("invalid_request", f"{name} is required")
        return form[name]

    def _redeem_code(self, form: Mapping[str, str]) -> dict[str, Any]:
        code = self._require(form, "code")
        redirect_uri = self._require(form, "redirect_uri")
        verifier = self._require(form, "code_verifier")
        with self.lock:
            record = self.codes.get(digest(code))
            if record is None:
                raise TokenError("invalid_grant", "unknown authorization code")
            if record.used:
                # RFC 6749 4.1.2: a replayed code revokes what it already produced.
                if record.grant:
                    record.grant.revoked = True
                raise TokenError("invalid_grant", "authorization code already used")
            record.used = True  # any redemption attempt burns the code
            self._check_code(record, form["client_id"], redirect_uri, verifier)
            grant = Grant(record.request.client_id, record.sub, record.request.scope,
                          record.auth_time)
            record.grant = grant
            return self._issue_tokens(grant, grant.scope, nonce=record.request.nonce)

    @staticmethod
    def _check_code(record: AuthCode, client_id: str, redirect_uri: str, verifier: str) -> None:
        if record.expires_at < now():
            raise TokenError("invalid_grant", "authorization code expired")
        if record.request.client_id != client_id:
            raise TokenError("invalid_grant", "code was issued to another client")
        if record.request.redirect_uri != redirect_uri:
            raise TokenError("invalid_grant", "redirect_uri differs from the authorization request")
        if not VERIFIER_RE.fullmatch(verifier):
            raise TokenError("invalid_grant", "code_verifier must be 43-128 unreserved characters")
        if not secrets.compare_digest(b64url_sha256(verifier), record.request.code_challenge):
            raise TokenError("invalid_grant", "code_verifier does not match the code_challenge")

    def _refresh(self, form: Mapping[str, str]) -> dict[str, Any]:
        presented = self._require(form, "refresh_token")
        with self.lock:
            record = self.refresh_tokens.get(digest(presented))
            if record is None or record.grant.client_id != form["client_id"]:
                raise TokenError("invalid_grant", "unknown refresh token")
            if record.rotated:
                # RFC 9700 4.14.2: reuse of a rotated token means theft; kill the family.
                record.grant.revoked = True
                raise TokenError("invalid_grant", "refresh token reused; token family revoked")
            if record.grant.revoked or record.expires_at < now():
                raise TokenError("invalid_grant", "refresh token revoked or expired")
            scope = self._narrowed_scope(record.grant, form.get("scope"))
            rotate = self.rotate_refresh_tokens
            # Without rotation the presented token stays the grant's refresh token, so the
            # answer carries none (as Google's does) and reuse detection has nothing to see.
            if rotate:
                record.rotated = True
            return self._issue_tokens(record.grant, scope, nonce=None, with_refresh_token=rotate)

    @staticmethod
    def _narrowed_scope(grant: Grant, raw: str | None) -> tuple[str, ...]:
        if raw is None:
            return grant.scope
        scope = tuple(dict.fromkeys(value for value in raw.split(" ") if value))
        if "openid" not in scope or not set(scope) <= set(grant.scope):
            raise TokenError("invalid_scope", "scope must be a subset of the original grant")
        return scope

    def _issue_tokens(self, grant: Grant, scope: tuple[str, ...], nonce: str | None,
                      with_refresh_token: bool = True) -> dict[str, Any]:
        """Issue tokens for a grant; the caller holds the lock. A refresh token comes only
        with offline_access, and only if with_refresh_token."""
        access_token = new_secret()
        self.access_tokens[digest(access_token)] = AccessToken(
            grant, scope, now() + self.access_token_ttl)
        payload: dict[str, Any] = {
            "access_token": access_token, "token_type": "Bearer",
            "expires_in": self.access_token_ttl, "scope": " ".join(scope),
            "id_token": self._id_token(grant, scope, nonce, access_token),
        }
        if with_refresh_token and "offline_access" in grant.scope:
            refresh_token = new_secret()
            self.refresh_tokens[digest(refresh_token)] = RefreshToken(
                grant, now() + REFRESH_TOKEN_TTL)
            payload["refresh_token"] = refresh_token
        return payload

    def _id_token(self, grant: Grant, scope: tuple[str, ...], nonce: str | None,
                  access_token: str) -> str:
        issued_at = int(now())
        claims = released_claims(self.users[grant.sub], scope)
        claims.update({
            "iss": self.issuer, "sub": grant.sub, "aud": grant.client_id,
            "exp": issued_at + self.id_token_ttl, "iat": issued_at,
            "auth_time": grant.auth_time, "at_hash": b64url_sha256(access_token, half=True),
        })
        if nonce is not None:  # only on the code grant: OIDC Core 12.2 for refreshes
            claims["nonce"] = nonce
        mode = self.misbehaviour.mode
        if mode in ID_TOKEN_CLAIM_MODES:
            tamper_claims(mode, claims, self.issuer, self.id_token_ttl)
        return self._sign(claims, mode)

    def _sign(self, claims: dict[str, Any], mode: str | None) -> str:
        """Sign an ID token, forging the signature if a misbehaviour asks; lock held."""
        if mode == "id_token_signed_by_rotated_key" and self.rotation_pending:
            self._rotate_key()
        signing = self.signing
        # The forgeries keep the published kid, so a client fails on alg, not on kid.
        if mode == "id_token_alg_none":
            return compact_jwt({"alg": "none", "typ": "JWT", "kid": signing.kid}, claims,
                               lambda _: b"")
        if mode == "id_token_hs256_public_key":
            secret = signing.public_pem()  # the key confusion attack's HMAC secret
            return compact_jwt({"alg": "HS256", "typ": "JWT", "kid": signing.kid}, claims,
                               lambda data: hmac.new(secret, data, hashlib.sha256).digest())
        if mode == "id_token_unknown_kid":
            signing = self._unpublished_key()
        token = jwt.encode(claims, signing.key, algorithm="RS256", headers={"kid": signing.kid})
        return flip_signature(token) if mode == "id_token_bad_signature" else token

    def _unpublished_key(self) -> SigningKey:
        if self.unpublished is None:
            self.unpublished = SigningKey.generate(UNPUBLISHED_KID)
        return self.unpublished

    def _rotate_key(self) -> None:
        """Replace the signing key for good: /jwks publishes only the new one. Lock held."""
        self.signing = SigningKey.generate()
        self.own_keys[self.signing.kid] = self.signing
        self.rotation_pending = False
        sys.stderr.write(f"rotated the signing key; new kid {self.signing.kid}\n")

    def _record_token_call(self, grant_type: str | None, outcome: str,
                           form: Mapping[str, str], payload: Mapping[str, Any] | None) -> None:
        entry: dict[str, Any] = {"grant_type": grant_type, "outcome": outcome,
                                 "refresh_token_sha256_prefix": None,
                                 "issued_refresh_token_sha256_prefix": None}
        if grant_type == "refresh_token" and "refresh_token" in form:
            entry["refresh_token_sha256_prefix"] = digest(form["refresh_token"])[:16]
        if payload and "refresh_token" in payload:
            entry["issued_refresh_token_sha256_prefix"] = digest(payload["refresh_token"])[:16]
        with self.lock:
            self.token_calls.append(entry)

    # -- revocation endpoint (RFC 7009)

    def revoke(self, request: Request) -> Response:
        """Always 200 for a well-formed request from our client, whether or not the token
        was known or still live (RFC 7009 2.2): the client only wants it gone."""
        form: dict[str, str] = {}
        token_type = "unknown"
        try:
            form = self._token_form(request)
            token = self._require(form, "token")
            token_type = self._revoke_token(token, form["client_id"])
            response, outcome = Response(200, b"", [("Cache-Control", "no-store")]), "ok"
        except TokenError as err:
            response, outcome = err.response(*self._client_auth_challenge(request, err)), err.error
        self._record_revocation(form.get("token"), token_type, outcome)
        return response

    def _revoke_token(self, token: str, client_id: str) -> str:
        """Revoke whatever the token is; returns its type, or "unknown". token_type_hint is
        not read: it may only speed up the search (RFC 7009 2.1), and an unknown one is
        ignored, while here either lookup is one dict access."""
        key = digest(token)
        with self.lock:
            refresh = self.refresh_tokens.get(key)
            if refresh is not None and refresh.grant.client_id == client_id:
                refresh.grant.revoked = True  # 2.1: the grant's access tokens go with it
                return "refresh_token"
            access = self.access_tokens.get(key)
            if access is not None and access.grant.client_id == client_id:
                access.revoked = True
                return "access_token"
        return "unknown"  # another client's token is left alone, as if unknown

    def _record_revocation(self, token: str | None, token_type: str, outcome: str) -> None:
        entry = {"token_sha256_prefix": digest(token)[:16] if token else None,
                 "token_type": token_type, "outcome": outcome}
        with self.lock:
            self.revocations.append(entry)

    # -- userinfo

    def userinfo(self, request: Request) -> Response:
        with self.lock:
            self.userinfo_calls += 1
        mode = self._pause_if("userinfo_slow")
        if mode == "userinfo_500":
            return server_error_page()
        if mode == "userinfo_401":
            return self._invalid_token()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            # RFC 6750 3.1: no error code when the request had no credentials at all.
            return no_store_json(401, {"error": "invalid_request"},
                                 ("WWW-Authenticate", 'Bearer realm="userinfo"'))
        with self.lock:
            record = self.access_tokens.get(digest(token.strip()))
            if (record is None or record.revoked or record.grant.revoked
                    or record.expires_at < now()):
                return self._invalid_token()
            claims = {"sub": record.grant.sub,
                      **released_claims(self.users[record.grant.sub], record.scope)}
        if mode == "userinfo_wrong_sub":
            claims["sub"] = "someone-else"
        return no_store_json(200, claims)

    @staticmethod
    def _invalid_token() -> Response:
        challenge = ('Bearer realm="userinfo", error="invalid_token", '
                     'error_description="the access token is unknown, expired or revoked"')
        return no_store_json(401, {"error": "invalid_token"}, ("WWW-Authenticate", challenge))

    # -- RP-initiated logout

    def end_session(self, request: Request) -> Response:
        try:
            params = request.form() if request.method == "POST" else single_values(request.query)
            target = self._logout_target(params)
        except DuplicateParameter:
            return error_page(400, "Bad logout request", "Parameters must not repeat.")
        except AuthzError as err:
            return error_page(400, "Bad logout request", err.description)
        self._end_provider_session(request)
        clear = ("Set-Cookie", self._session_cookie("", clear=True))
        if target is None:
            return html_page(200, "Signed out", "<h1>Signed out</h1>"
                             "<p>You are signed out of the local provider.</p>", clear)
        state = params.get("state")
        return redirect(add_query(target, {"state": state} if state else {}), clear)

    def _logout_target(self, params: Mapping[str, str]) -> str | None:
        """Validate the logout request; returns the post-logout redirect URI if any."""
        client_id = params.get("client_id")
        if client_id is not None and client_id != self.config.client_id:
            raise AuthzError("invalid_request", "client_id is not registered")
        if "id_token_hint" in params:
            audience = self._hint_audience(params["id_token_hint"])
            if client_id is not None and client_id != audience:
                raise AuthzError("invalid_request", "id_token_hint was issued to another client")
            client_id = audience
        target = params.get("post_logout_redirect_uri")
        if target is None:
            return None
        if client_id is None:
            raise AuthzError("invalid_request",
                             "post_logout_redirect_uri needs client_id or id_token_hint")
        if target not in self.config.post_logout_redirect_uris:
            raise AuthzError("invalid_request", "post_logout_redirect_uri is not registered")
        return target

    def _hint_audience(self, hint: str) -> str:
        """Check our signature on an ID token hint; expiry is ignored (RP-Initiated Logout 2)."""
        try:
            claims = jwt.decode(hint, self._hint_key(hint), algorithms=["RS256"],
                                issuer=self.issuer,
                                options={"verify_exp": False, "verify_aud": False,
                                         "require": ["iss", "sub", "aud"]})
        except jwt.PyJWTError as err:
            raise AuthzError("invalid_request", f"id_token_hint is invalid: {err}") from None
        audience = claims["aud"]
        if audience != self.config.client_id:
            raise AuthzError("invalid_request", "id_token_hint was not issued to this client")
        return audience

    def _hint_key(self, hint: str) -> Any:
        """The public key named by the hint's kid, among every key we ever published."""
        kid = jwt.get_unverified_header(hint).get("kid")  # raises DecodeError, a PyJWTError
        with self.lock:
            signing = self.own_keys.get(kid) if isinstance(kid, str) else None
        if signing is None:
            raise jwt.InvalidKeyError("id_token_hint names an unknown key")
        return signing.key.public_key()

    def _end_provider_session(self, request: Request) -> None:
        session_id = request.cookie(self.cookie_name)
        with self.lock:
            if session_id:
                self.sessions.pop(session_id, None)

    # -- test controls

    def reset_log(self) -> None:
        self.token_calls: list[dict[str, Any]] = []
        self.revocations: list[dict[str, Any]] = []
        self.userinfo_calls = 0
        self.authorize_calls = 0

    def _log_snapshot(self) -> dict[str, Any]:
        return {"token_calls": list(self.token_calls), "revocations": list(self.revocations),
                "userinfo_calls": self.userinfo_calls, "authorize_calls": self.authorize_calls}

    def test_log(self, request: Request) -> Response:
        with self.lock:
            return no_store_json(200, self._log_snapshot())

    def test_reset_log(self, request: Request) -> Response:
        with self.lock:
            self.reset_log()
            return no_store_json(200, self._log_snapshot())

    def test_settings(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = self._parse_settings(request)
            except ValueError as err:
                return no_store_json(400, {"error": "invalid_request",
                                           "error_description": str(err)})
            with self.lock:
                for name, value in changes.items():
                    setattr(self, name, value)
        with self.lock:
            return no_store_json(200, self._settings_snapshot())

    def _settings_snapshot(self) -> dict[str, int | bool]:
        return {"id_token_ttl": self.id_token_ttl, "access_token_ttl": self.access_token_ttl,
                "rotate_refresh_tokens": self.rotate_refresh_tokens}

    @staticmethod
    def _parse_settings(request: Request) -> dict[str, int | bool]:
        changes = request.json_body()  # json.JSONDecodeError is a ValueError
        if not isinstance(changes, dict):
            raise ValueError("expected a JSON object")
        for name, value in changes.items():
            if name in BOOL_SETTINGS:
                if not isinstance(value, bool):  # 0 and 1 too: a switch is true or false
                    raise ValueError(f"{name} must be true or false")
            elif name in INT_SETTINGS:
                # bool is an int subclass; refuse it. Any int is allowed so tests can mint
                # already-expired tokens.
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError(f"{name} must be an integer number of seconds")
            else:
                raise ValueError(f"unknown setting {name}")
        return changes

    def test_misbehave(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                choice = parse_misbehaviour(request.json_body())
            except ValueError as err:  # JSONDecodeError and UnicodeDecodeError included
                return no_store_json(400, {"error": "invalid_request",
                                           "error_description": str(err),
                                           "known_modes": list(MISBEHAVIOURS)})
            with self.lock:
                self._set_misbehaviour(choice)
        return no_store_json(200, self.misbehaviour.snapshot())

    def _set_misbehaviour(self, choice: Misbehaviour) -> None:
        """Lock held. Switching id_token_signed_by_rotated_key on arms one rotation, done
        when the next ID token is signed, so a client's earlier JWKS copy is stale."""
        self.misbehaviour = choice
        self.rotation_pending = choice.mode == "id_token_signed_by_rotated_key"

    def test_reset(self, request: Request) -> Response:
        """Misbehaviour off and default settings. A key rotation is not undone: the old key
        is gone from /jwks for good, as after a real rotation."""
        with self.lock:
            self._set_misbehaviour(Misbehaviour())
            self.id_token_ttl = self.config.id_token_ttl
            self.access_token_ttl = self.config.access_token_ttl
            self.rotate_refresh_tokens = self.config.rotate_refresh_tokens
            return no_store_json(200, {"misbehave": self.misbehaviour.snapshot(),
                                       "settings": self._settings_snapshot()})

    def test_refresh_token(self, request: Request) -> Response:
        """The state of the refresh token whose digest starts with ?prefix= (the token log's
        prefixes), so a test can check a token is dead without spending it."""
        try:
            prefix = single_values(request.query).get("prefix", "")
        except DuplicateParameter:
            prefix = ""
        if not DIGEST_PREFIX_RE.fullmatch(prefix):
            return no_store_json(400, {"error": "invalid_request",
                                       "error_description": "prefix must be 16 hex digits"})
        with self.lock:
            record = next((token for key, token in self.refresh_tokens.items()
                           if key.startswith(prefix)), None)
            return no_store_json(200, {"state": self._refresh_token_state(record)})

    @staticmethod
    def _refresh_token_state(record: RefreshToken | None) -> str:
        """What /token would make of the token now; a revoked grant outranks the rest."""
        if record is None:
            return "unknown"
        if record.grant.revoked:
            return "revoked"
        if record.rotated:
            return "rotated"
        if record.expires_at < now():
            return "expired"
        return "live"

    def test_put_user(self, request: Request) -> Response:
        sub = unquote(request.path.removeprefix("/_test/users/"))
        if not SUB_RE.fullmatch(sub):
            return no_store_json(400, {"error": "invalid_request",
                                       "error_description": "sub must match [A-Za-z0-9._-]+"})
        try:
            claims = request.json_body()
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            return no_store_json(400, {"error": "invalid_request",
                                       "error_description": "expected a JSON object of claims"})
        claims.pop("sub", None)  # the path names the subject
        with self.lock:
            self.users[sub] = User(sub, f"{sub}-demo", claims)
        return no_store_json(200, {"sub": sub, **claims})


# ----------------------------------------------------------------------------- server


class ProviderServer(ThreadingHTTPServer):
    provider: Provider


class ProviderHandler(BaseHTTPRequestHandler):
    server: ProviderServer
    server_version = "oidc-spa-dev-provider"
    sys_version = ""
    active_mode: str | None = None

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._write(error_page(400, "Bad request", "Invalid Content-Length."))
            return
        if not 0 <= length <= MAX_BODY:
            self._write(error_page(413, "Too large", "The request body is too large."))
            return
        body = self.rfile.read(length) if length else b""
        self.active_mode = self.server.provider.misbehaviour.mode  # for the log line
        target = urlsplit(self.path)
        request = Request(self.command, target.path, target.query, self.headers, body)
        try:
            response = self.server.provider.handle(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = error_page(500, "Server error", "The provider hit a bug; see its log.")
        self._write(response)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Path only: query strings carry codes, states and tokens that must stay out of logs.
        path = urlsplit(self.path).path
        status = int(code) if code != "-" else code
        mode = f" [misbehave {self.active_mode}]" if self.active_mode else ""
        sys.stderr.write(f"{self.command} {path} {status}{mode}\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the default messages embed the raw request line, query string included


# ----------------------------------------------------------------------------- command line


def absolute_uri(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise argparse.ArgumentTypeError(f"{value!r} must be an absolute http(s) URI "
                                         "without a fragment")
    return value


def parse_args(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(description="Strict local OpenID Connect provider.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri", type=absolute_uri, action="append", required=True)
    parser.add_argument("--post-logout-redirect-uri", type=absolute_uri, action="append",
                        default=[])
    parser.add_argument("--id-token-ttl", type=int, default=3600, help="seconds")
    parser.add_argument("--access-token-ttl", type=int, default=3600, help="seconds")
    parser.add_argument("--test-controls", action="store_true",
                        help="enable the /_test/* endpoints")
    parser.add_argument("--no-refresh-token-rotation", dest="rotate_refresh_tokens",
                        action="store_false",
                        help="keep one refresh token per grant, as many providers do")
    args = parser.parse_args(argv)
    return Config(args.host, args.port, args.client_id, tuple(args.redirect_uri),
                  tuple(args.post_logout_redirect_uri), args.id_token_ttl,
                  args.access_token_ttl, args.test_controls, args.rotate_refresh_tokens)


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    server = ProviderServer((config.host, config.port), ProviderHandler)
    issuer = f"http://{config.host}:{server.server_address[1]}"
    server.provider = Provider(config, issuer)
    return serve_until_signalled(server, f"provider ready at {issuer}")


if __name__ == "__main__":
    sys.exit(main())
