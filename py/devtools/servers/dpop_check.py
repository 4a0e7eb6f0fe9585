"""What a resource server checks in a DPoP proof (RFC 9449 4.3 and 7.1), for the demo API.

The proof must be one compact JWS of type dpop+jwt, signed (ES256) by the public key in
its own header; it must name this request (htm, htu), be fresh (iat), be new (jti not seen
before), and carry the hash of the access token it comes with (ath). Its key's RFC 7638
thumbprint is what the token must be bound to (the token's cnf.jkt, from introspection).
When the API asks for nonces (ServerNonces, RFC 9449 9), the proof must also carry a
recent one of this server's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm

from oidc_spa.dpop import access_token_hash, htu, jwk_thumbprint
from oidc_spa.pkce import base64url

# How far a proof's iat may be from this server's clock (RFC 9449 11.1: a short window).
IAT_WINDOW_SECONDS = 60
MAX_PROOF_CHARS = 8_000
# How long one server nonce is handed out; the one before it is still accepted, so a
# nonce given just before a change keeps working for a while.
NONCE_SECONDS = 60


class ProofRejected(Exception):
    """The proof is missing, malformed, or does not fit the request."""


class NonceRequired(ProofRejected):
    """The proof is sound but lacks a current nonce of this server: the answer names the
    one to use (RFC 9449 9)."""

    def __init__(self, nonce: str) -> None:
        super().__init__("the proof needs this server's nonce")
        self.nonce = nonce


class ServerNonces:
    """The nonces a resource server hands out: derived from a per-process secret and the
    time step, so nothing needs storing and every thread agrees."""

    def __init__(self, step_seconds: int = NONCE_SECONDS) -> None:
        self._secret = secrets.token_bytes(32)
        self._step_seconds = step_seconds

    def _for_step(self, step: int) -> str:
        return base64url(hmac.new(self._secret, str(step).encode(), hashlib.sha256).digest())

    def current(self, now: float) -> str:
        return self._for_step(int(now // self._step_seconds))

    def accepts(self, nonce: object, now: float) -> bool:
        step = int(now // self._step_seconds)
        return isinstance(nonce, str) and any(
            hmac.compare_digest(nonce.encode(), self._for_step(s).encode())
            for s in (step, step - 1))


class SeenJtis:
    """The jti values of recent proofs: a proof is accepted once (RFC 9449 11.1)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, jti: str, now: float) -> bool:
        with self._lock:
            for old in [j for j, at in self._seen.items() if at < now - 2 * IAT_WINDOW_SECONDS]:
                del self._seen[old]
            if jti in self._seen:
                return False
            self._seen[jti] = now
            return True


def check_proof(proof: str | None, *, method: str, url: str, access_token: str,
                seen: SeenJtis, now: float | None = None,
                nonces: ServerNonces | None = None) -> str:
    """The proof's key thumbprint (jkt) if the proof fits this request; ProofRejected, or
    NonceRequired when `nonces` are asked for and the proof has no current one."""
    now = time.time() if now is None else now
    if not proof or len(proof) > MAX_PROOF_CHARS:
        raise ProofRejected("no DPoP proof")
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError as error:
        raise ProofRejected(f"unreadable proof: {error}") from None
    jwk = header.get("jwk")
    if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256" or not isinstance(
            jwk, dict) or "d" in jwk or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ProofRejected("proof header is not an ES256 dpop+jwt with a public P-256 jwk")
    try:
        key = ECAlgorithm.from_jwk(jwk)
        claims: dict[str, Any] = jwt.decode(proof, key=key, algorithms=["ES256"],
                                            options={"require": ["jti", "htm", "htu", "iat"],
                                                     "verify_aud": False})
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise ProofRejected(f"proof signature or claims: {error}") from None
    if claims.get("htm") != method or claims.get("htu") != htu(url):
        raise ProofRejected("proof is for another request")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or abs(now - iat) > IAT_WINDOW_SECONDS:
        raise ProofRejected("proof is not fresh")
    if claims.get("ath") != access_token_hash(access_token):
        raise ProofRejected("proof is for another access token")
    # Before the jti is spent: the refused proof was sound, only its nonce was missing.
    if nonces is not None and not nonces.accepts(claims.get("nonce"), now):
        raise NonceRequired(nonces.current(now))
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or not seen.first_time(jti, now):
        raise ProofRejected("proof was used before")
    return jwk_thumbprint(jwk)
