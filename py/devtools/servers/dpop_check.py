"""What a resource server checks in a DPoP proof (RFC 9449 4.3 and 7.1), for the demo API.

The proof must be one compact JWS of type dpop+jwt, signed (ES256) by the public key in
its own header; it must name this request (htm, htu), be fresh (iat), be new (jti not seen
before), and carry the hash of the access token it comes with (ath). Its key's RFC 7638
thumbprint is what the token must be bound to (the token's cnf.jkt, from introspection).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm

from oidc_spa.dpop import access_token_hash, htu, jwk_thumbprint

# How far a proof's iat may be from this server's clock (RFC 9449 11.1: a short window).
IAT_WINDOW_SECONDS = 60
MAX_PROOF_CHARS = 8_000


class ProofRejected(Exception):
    """The proof is missing, malformed, or does not fit the request."""


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
                seen: SeenJtis, now: float | None = None) -> str:
    """The proof's key thumbprint (jkt) if the proof fits this request; ProofRejected."""
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
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or not seen.first_time(jti, now):
        raise ProofRejected("proof was used before")
    return jwk_thumbprint(jwk)
