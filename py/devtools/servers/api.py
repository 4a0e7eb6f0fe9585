"""A small protected API for the demo page, called with the signed-in user's access token.

Run:
    python -m devtools.servers.api --issuer http://127.0.0.1:9000 \
        --allowed-origin http://127.0.0.1:8000 [--host 127.0.0.1] [--port 0] \
        [--require-dpop-nonce]

--require-dpop-nonce (off by default; for the end-to-end tests of the page's retry): a
DPoP proof must carry a recent nonce of this API's, else the answer is a 401 with
`WWW-Authenticate: DPoP error="use_dpop_nonce"` and the nonce in `DPoP-Nonce` (RFC 9449 9).

Routes:
    GET  /api/private     needs "Authorization: Bearer <access token>"; greets the user
    GET  /api/public      open to anyone
    GET  /_test/log       {"calls": [{"path", "status"}, ...]}: the non-preflight requests
                          answered so far (a dev tool, so always on; /_test/* not listed)
    POST /_test/reset-log empties that list

How a token is checked: the local provider's access tokens are opaque (random strings, not
JWTs), so this API cannot verify them itself. It asks the provider instead, server-side,
by calling the userinfo endpoint (found once through the issuer's discovery document)
with the token: 200 means the token is live and says whose it is; 401 means it is unknown,
expired or revoked. That is token introspection in the simplest form a real API could
use; providers that issue JWT access tokens let an API check the signature locally.
Every call is checked afresh, so a revoked token stops working at once.

Answers are JSON with "Cache-Control: no-store". CORS is granted to exactly one origin
(the site's); a request from any other origin gets no CORS headers, so browsers keep the
answer from that page. Prints "api ready at http://HOST:PORT" once listening; SIGINT or
SIGTERM stops it cleanly. One stderr line per request: method, path, status, never a token.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
import threading
import traceback
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from devtools.servers.dpop_check import (
    NonceRequired,
    ProofRejected,
    SeenJtis,
    ServerNonces,
    check_proof,
)
from devtools.servers.lifecycle import serve_until_signalled

PROVIDER_TIMEOUT = 5.0  # seconds per call to the provider: the page is waiting
MAX_BODY = 64 * 1024
PREFLIGHT_MAX_AGE = 600
# RFC 6750 2.1 / RFC 9449 7.1: a Bearer or DPoP credential, b64token syntax.
CREDENTIAL_RE = re.compile(r"(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)
# The demo API's client at the provider (launcher.mjs: apiClients), for introspection.
API_CLIENT_ID = "demo-api"
API_CLIENT_SECRET_ENV = "OIDC_SPA_API_CLIENT_SECRET"


# ----------------------------------------------------------------------------- answers


@dataclass
class Answer:
    status: int
    payload: dict[str, Any] | None
    headers: list[tuple[str, str]] = field(default_factory=list)

    def body(self) -> bytes:
        return b"" if self.payload is None else json.dumps(self.payload).encode()


def invalid_request() -> Answer:
    # RFC 6750 3.1: no error code in the challenge when no credentials came at all.
    return Answer(401, {"error": "invalid_request"},
                  [("WWW-Authenticate", 'Bearer realm="api"')])


def invalid_token(scheme: str = "Bearer") -> Answer:
    challenge = ('DPoP algs="ES256", error="invalid_token"' if scheme == "DPoP"
                 else 'Bearer realm="api", error="invalid_token"')
    return Answer(401, {"error": "invalid_token"}, [("WWW-Authenticate", challenge)])


def use_dpop_nonce(nonce: str) -> Answer:
    # RFC 9449 9: the proof was fine but for the nonce; the client retries with this one.
    challenge = ('DPoP algs="ES256", error="use_dpop_nonce", '
                 'error_description="Resource server requires nonce in DPoP proof"')
    return Answer(401, {"error": "use_dpop_nonce"},
                  [("WWW-Authenticate", challenge), ("DPoP-Nonce", nonce)])


def provider_unavailable(reason: str) -> Answer:
    return Answer(503, {"error": "provider_unavailable",
                        "error_description": f"cannot check the token: {reason}"})


# ----------------------------------------------------------------------------- token check


class TokenRejected(Exception):
    """The provider says the token is unknown, expired or revoked."""


class ProviderUnavailable(Exception):
    """The provider could not be asked, or answered something unusable."""


class ProviderStatus(Exception):
    """The provider answered with an HTTP error status."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would resend the Authorization header to wherever a redirect points.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def fetch_json(url: str, headers: dict[str, str] | None = None) -> Any:
    """GET a JSON object; ProviderStatus for an error status, else ProviderUnavailable."""
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   **(headers or {})})
    try:
        with _OPENER.open(request, timeout=PROVIDER_TIMEOUT) as response:
            document = json.loads(response.read())
    except urllib.error.HTTPError as error:
        error.close()
        raise ProviderStatus(error.code) from None
    except (OSError, ValueError) as error:  # URLError, timeouts, resets, bad JSON
        raise ProviderUnavailable(f"{url}: {error}") from None
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url}: not a JSON object")
    return document


class Introspector:
    """Checks access tokens at the provider's userinfo endpoint."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._userinfo_endpoint: str | None = None
        self._document: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def userinfo_endpoint(self) -> str:
        """From the discovery document, fetched on first use and kept once it worked."""
        with self._lock:  # concurrent first calls fetch it once
            if self._userinfo_endpoint is None:
                self._userinfo_endpoint = self._discover()
            return self._userinfo_endpoint

    def _discover(self) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            document = fetch_json(url)
        except ProviderStatus as error:
            raise ProviderUnavailable(f"discovery answered {error.code}") from None
        # OIDC Discovery 4.3: the document must name the issuer we were configured with.
        if document.get("issuer") != self.issuer:
            raise ProviderUnavailable("discovery names another issuer")
        self._document = document
        endpoint = document.get("userinfo_endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise ProviderUnavailable("discovery has no usable userinfo_endpoint")
        return endpoint

    def introspect(self, token: str, secret: str) -> dict[str, Any]:
        """RFC 7662 at the provider, as the API's own client: whose the token is, and the
        key it is bound to (cnf.jkt) when it is a DPoP token."""
        with self._lock:
            if self._document is None:
                self._discover()
            endpoint = (self._document or {}).get("introspection_endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise ProviderUnavailable("discovery has no usable introspection_endpoint")
        credentials = base64.b64encode(f"{API_CLIENT_ID}:{secret}".encode()).decode()
        request = urllib.request.Request(
            endpoint, data=urllib.parse.urlencode({"token": token}).encode(), method="POST",
            headers={"Authorization": f"Basic {credentials}", "Accept": "application/json",
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with _OPENER.open(request, timeout=PROVIDER_TIMEOUT) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            error.close()
            raise ProviderUnavailable(f"introspection answered {error.code}") from None
        except (OSError, ValueError) as error:
            raise ProviderUnavailable(f"introspection: {error}") from None
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise TokenRejected
        if not isinstance(answer.get("sub"), str) or not answer["sub"]:
            raise ProviderUnavailable("introspection answer has no sub")
        return answer

    def claims(self, token: str) -> dict[str, Any]:
        """The user's claims if the provider accepts the token."""
        endpoint = self.userinfo_endpoint()
        try:
            claims = fetch_json(endpoint, {"Authorization": f"Bearer {token}"})
        except ProviderStatus as error:
            if error.code == 401:
                raise TokenRejected from None
            raise ProviderUnavailable(f"userinfo answered {error.code}") from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise ProviderUnavailable("userinfo answer has no sub")
        return claims


# ----------------------------------------------------------------------------- the API


def display_name(claims: dict[str, Any]) -> str:
    for name in ("name", "nickname"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return claims["sub"]


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Api:
    """Routing and answers, apart from HTTP plumbing."""

    def __init__(self, issuer: str, allowed_origin: str,
                 nonces: ServerNonces | None = None) -> None:
        self.allowed_origin = allowed_origin
        self.introspector = Introspector(issuer)
        self.seen_jtis = SeenJtis()
        self.nonces = nonces  # None: DPoP proofs need no nonce
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.routes = {
            "/api/private": {"GET": self.private},
            "/api/public": {"GET": self.public},
            "/_test/log": {"GET": self.test_log},
            "/_test/reset-log": {"POST": self.test_reset_log},
        }

    def handle(self, method: str, path: str, headers: Message) -> Answer:
        methods = self.routes.get(path)
        if methods is None:
            return Answer(404, {"error": "not_found"})
        if method == "OPTIONS":
            return self.preflight(headers)
        handler = methods.get(method)
        if handler is None:
            return Answer(405, {"error": "method_not_allowed"},
                          [("Allow", ", ".join([*methods, "OPTIONS"]))])
        return handler(headers)

    def preflight(self, headers: Message) -> Answer:
        if headers.get("Origin") != self.allowed_origin:
            return Answer(204, None)  # no CORS headers: the browser refuses the real call
        return Answer(204, None, [
            ("Access-Control-Allow-Methods", "GET, OPTIONS"),
            ("Access-Control-Allow-Headers", "Authorization, DPoP"),
            ("Access-Control-Max-Age", str(PREFLIGHT_MAX_AGE)),
        ])

    def cors_headers(self, headers: Message) -> list[tuple[str, str]]:
        # Vary always: the answer differs by Origin, and caches must not mix them up.
        vary = [("Vary", "Origin")]
        if headers.get("Origin") != self.allowed_origin:
            return vary
        return [*vary, ("Access-Control-Allow-Origin", self.allowed_origin),
                ("Access-Control-Expose-Headers", "WWW-Authenticate, DPoP-Nonce")]

    def private(self, headers: Message) -> Answer:
        match = CREDENTIAL_RE.fullmatch(headers.get("Authorization", "").strip())
        if match is None or len(headers.get_all("Authorization") or []) > 1:
            return invalid_request()
        scheme = "DPoP" if match.group(1).lower() == "dpop" else "Bearer"
        token = match.group(2)
        try:
            claims = self.checked_claims(scheme, token, headers)
        except NonceRequired as error:
            return use_dpop_nonce(error.nonce)
        except (TokenRejected, ProofRejected) as error:
            sys.stderr.write(f"api: {scheme} token refused: {error or 'not active'}\n")
            return invalid_token(scheme)
        except ProviderUnavailable as error:
            sys.stderr.write(f"api: provider unavailable: {error}\n")
            return provider_unavailable(str(error))
        return Answer(200, {
            "message": f"Hello from the protected API, {display_name(claims)}!",
            "sub": claims["sub"], "called_at": utc_now_iso(),
        })

    def checked_claims(self, scheme: str, token: str, headers: Message) -> dict[str, Any]:
        """Whose the token is, once everything about it is checked.

        With the API's client secret (the run command and the tests set it) the provider
        introspects the token, and a DPoP-bound one (cnf.jkt) needs a proof of its key
        made for this very request; a DPoP-bound token sent as Bearer is refused (RFC 9449
        7.2). Without it, userinfo says whose a Bearer token is.
        """
        secret = os.environ.get(API_CLIENT_SECRET_ENV)
        if not secret:
            if scheme != "Bearer":
                raise TokenRejected("DPoP tokens need introspection")
            return self.introspector.claims(token)
        info = self.introspector.introspect(token, secret)
        bound = (info.get("cnf") or {}).get("jkt") if isinstance(info.get("cnf"), dict) else None
        if scheme == "Bearer":
            if bound:
                raise TokenRejected("a DPoP-bound token sent as Bearer")
            return info
        proofs = headers.get_all("DPoP") or []
        url = f"http://{headers.get('Host', '')}/api/private"
        jkt = check_proof(proofs[0] if len(proofs) == 1 else None, method="GET", url=url,
                          access_token=token, seen=self.seen_jtis, nonces=self.nonces)
        if not bound or jkt != bound:
            raise TokenRejected("the proof's key is not the one the token is bound to")
        return info

    def public(self, headers: Message) -> Answer:
        return Answer(200, {"message": "Anyone can read this."})

    def record(self, method: str, path: str, status: int) -> None:
        # Preflights and the log's own routes would only be noise for tests reading it.
        if method != "OPTIONS" and not path.startswith("/_test/"):
            with self.lock:
                self.calls.append({"path": path, "status": status})

    def test_log(self, headers: Message) -> Answer:
        with self.lock:
            return Answer(200, {"calls": list(self.calls)})

    def test_reset_log(self, headers: Message) -> Answer:
        with self.lock:
            self.calls.clear()
            return Answer(200, {"calls": []})


# ----------------------------------------------------------------------------- server


class ApiServer(ThreadingHTTPServer):
    api: Api


class ApiHandler(BaseHTTPRequestHandler):
    server: ApiServer
    server_version = "oidc-spa-dev-api"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def _serve(self) -> None:
        path = urlsplit(self.path).path
        answer = self._read_body() or self._answer(path)
        self.server.api.record(self.command, path, answer.status)
        self._write(answer)

    def _read_body(self) -> Answer | None:
        """Consume a request body (none is used); an Answer if it is unacceptable."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return Answer(400, {"error": "invalid_request"})
        if not 0 <= length <= MAX_BODY:
            return Answer(413, {"error": "request_too_large"})
        self.rfile.read(length)
        return None

    def _answer(self, path: str) -> Answer:
        try:
            return self.server.api.handle(self.command, path, self.headers)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return Answer(500, {"error": "server_error"})

    def _write(self, answer: Answer) -> None:
        body = answer.body()
        self.send_response(answer.status)
        headers = [*answer.headers, *self.server.api.cors_headers(self.headers),
                   ("Cache-Control", "no-store")]
        if answer.payload is not None:
            headers.append(("Content-Type", "application/json"))
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Path only, and never headers: the Authorization header carries the token.
        sys.stderr.write(f"{self.command} {urlsplit(self.path).path} {code}\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the default messages embed the raw request line, query string included


# ----------------------------------------------------------------------------- command line


def http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment:
        raise argparse.ArgumentTypeError(f"{value!r} must be an http(s) URL")
    return value


def web_origin(value: str) -> str:
    # Browsers send Origin as scheme://host[:port] exactly; anything else would never match.
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path \
            or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(
            f"{value!r} must be an origin like http://127.0.0.1:8000 (no path, no slash)")
    return value.lower()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Small protected API for the demo page.")
    parser.add_argument("--issuer", type=http_url, required=True,
                        help="the OpenID provider that issued the access tokens")
    parser.add_argument("--allowed-origin", type=web_origin, required=True,
                        help="the site's origin, the only one granted CORS")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--require-dpop-nonce", action="store_true",
                        help="DPoP proofs must carry this API's nonce (RFC 9449 9)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = ApiServer((args.host, args.port), ApiHandler)
    server.api = Api(args.issuer, args.allowed_origin,
                     ServerNonces() if args.require_dpop_nonce else None)
    return serve_until_signalled(
        server, f"api ready at http://{args.host}:{server.server_address[1]}"
    )


if __name__ == "__main__":
    sys.exit(main())
