"""Token endpoint responses and ID tokens.

ID tokens are parsed with PyJWT and checked as OpenID Connect Core 3.1.3.7 asks:
signature against the provider's key (chosen by kid, algorithm on an allow-list),
then iss, aud, azp, nonce, exp, iat and sub, with the clock passed in so tests can
move time. The signature itself is checked by a `SignatureVerifier`: in the browser
that is WebCrypto (PyJWT's RSA and EC code needs `cryptography`, which Pyodide's
core files do not ship); on CPython, PyJWT's own algorithms.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

# PyJWT's submodules, not `jwt` itself: the fast build then need not run the package's
# __init__, which imports its JWKS client and urllib/http/email with it
# (boot/deferred_init.py).
from jwt.api_jws import get_unverified_header
from jwt.api_jwt import decode as decode_jwt
from jwt.exceptions import PyJWTError
from jwt.utils import base64url_decode

from .errors import IdTokenError, TokenError
from .pkce import base64url
from .portable import record
from .portable.strict_json import is_number, json_object, parse_json

# Asymmetric algorithms only: "none" and HMAC (which would let anyone holding the
# public key forge tokens) are never accepted.
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
_KEY_TYPE = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
_EC_CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
# ID tokens are a few kilobytes; anything far larger is not one.
MAX_TOKEN_CHARS = 100_000
_HASH = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


class TokenResponse(NamedTuple):
    """A successful token endpoint answer (RFC 6749 5.1)."""

    access_token: str
    id_token: str  # "" when a refresh answer carried none
    expires_in: float | None
    refresh_token: str | None
    scope: str | None
    # "Bearer", or "DPoP" when the tokens are bound to the login's key (RFC 9449 5).
    token_type: str = "Bearer"


TOKEN_TYPES = {"bearer": "Bearer", "dpop": "DPoP"}


def parse_token_response(status: int, body: str, *, require_id_token: bool = True) -> TokenResponse:
    """Read the token endpoint's answer; refuse anything that is not a usable token set.

    A refresh may come back without a new ID token (OpenID Connect Core 12.2), so
    `require_id_token` is off for renewals.
    """
    data = json_object(body)
    if status != 200:
        if data and isinstance(data.get("error"), str):
            description = data.get("error_description")
            raise TokenError(
                "token.refused", detail=f"HTTP {status}", error=data["error"],
                description=description if isinstance(description, str) else None,
                status=status,
            )
        raise TokenError("token.failed", detail=f"HTTP {status}", status=status)
    if data is None:
        raise TokenError("token.not_json")
    access_token = data.get("access_token")
    id_token = data.get("id_token")
    token_type = data.get("token_type")
    if not isinstance(access_token, str) or not access_token:
        raise TokenError("token.no_access_token")
    if id_token is None and not require_id_token:
        id_token = ""
    elif not isinstance(id_token, str) or not id_token:
        raise TokenError("token.no_id_token")
    if not isinstance(token_type, str) or token_type.lower() not in TOKEN_TYPES:
        raise TokenError("token.type", detail=f"token_type={token_type!r}")
    expires_in = data.get("expires_in")
    if not is_number(expires_in) or expires_in <= 0:
        expires_in = None
    refresh_token = data.get("refresh_token")
    scope = data.get("scope")
    return TokenResponse(
        access_token=access_token,
        id_token=id_token,
        expires_in=float(expires_in) if expires_in is not None else None,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        scope=scope if isinstance(scope, str) else None,
        token_type=TOKEN_TYPES[token_type.lower()],
    )


def check_token_type(tokens: TokenResponse, *, dpop: bool) -> None:
    """A DPoP request must get DPoP-bound tokens: a Bearer answer would leave them
    usable by whoever copies them (RFC 9449 5), so it is refused, not used."""
    if dpop and tokens.token_type != "DPoP":
        raise TokenError("token.dpop_downgraded", detail=f"token_type={tokens.token_type}")
    if not dpop and tokens.token_type != "Bearer":
        raise TokenError("token.type", detail=f"token_type={tokens.token_type}")


class SignatureVerifier(Protocol):
    """Checks a JWS signature with a public JWK. Async because WebCrypto is."""

    async def verify(
        self, algorithm: str, jwk: Mapping[str, Any], signing_input: bytes, signature: bytes
    ) -> bool: ...


class ParsedJwt(NamedTuple):
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse_jwt(token: str) -> ParsedJwt:
    """Split and decode a compact JWS with PyJWT, without trusting it yet."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > MAX_TOKEN_CHARS:
        raise IdTokenError("id_token.not_jwt")
    if not all(_readable_segment(part) for part in token.split(".")[:2]):
        raise IdTokenError("id_token.unreadable", detail="header or claims not JSON")
    try:
        header = get_unverified_header(token)
        claims = decode_jwt(token, options={"verify_signature": False})
        signature = base64url_decode(token.rsplit(".", 1)[1].encode("ascii"))
    except (PyJWTError, ValueError, UnicodeError, RecursionError) as error:
        raise IdTokenError("id_token.unreadable", detail=str(error)) from None
    if not isinstance(claims, dict) or not isinstance(header, dict):
        raise IdTokenError("id_token.unreadable", detail="claims are not an object")
    signing_input = token.rsplit(".", 1)[0].encode("ascii")
    return ParsedJwt(header=header, claims=claims, signing_input=signing_input, signature=signature)


def _readable_segment(segment: str) -> bool:
    """A JWS segment whose JSON PyJWT can parse without surprises (see portable.strict_json)."""
    try:
        text = base64url_decode(segment.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        return False
    return isinstance(parse_json(text), dict)


def expiry_of(token: str) -> float:
    """The `exp` of a stored ID token, read with PyJWT; IdTokenError when there is none."""
    return expiry_in(parse_jwt(token).claims)


def expiry_in(claims: Mapping[str, Any]) -> float:
    exp = claims.get("exp")
    if not is_number(exp):
        raise IdTokenError("id_token.stored_expiry")
    return float(exp)


def audiences_of(claims: Mapping[str, Any]) -> list[Any] | None:
    """`aud` as a list (a single string is one audience); None when it is neither."""
    return record.audiences_of(dict(claims))


def select_key(
    header: Mapping[str, Any], jwks: Mapping[str, Any], allowed_algorithms: frozenset[str]
) -> dict[str, Any] | None:
    """The JWK that should have signed a token with this header, or None when absent."""
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in allowed_algorithms:
        raise IdTokenError("id_token.algorithm", detail=f"alg={algorithm!r}")
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        return None
    kid = header.get("kid")
    candidates = [
        key
        for key in keys
        if isinstance(key, dict)
        and key.get("kty") == _KEY_TYPE[algorithm[:2]]
        and key.get("use", "sig") == "sig"
        and key.get("alg", algorithm) == algorithm
        and (algorithm not in _EC_CURVE or key.get("crv") == _EC_CURVE[algorithm])
        and (kid is None or key.get("kid") == kid)
    ]
    if kid is not None and not isinstance(kid, str):
        return None
    # Without a kid the choice is only safe when a single key fits.
    return candidates[0] if len(candidates) == 1 else None


async def signature_valid(
    parsed: ParsedJwt, jwk: Mapping[str, Any], verifier: SignatureVerifier
) -> bool:
    return await verifier.verify(parsed.header["alg"], jwk, parsed.signing_input,
                                 parsed.signature)


def check_header(header: Mapping[str, Any]) -> None:
    if "crit" in header:
        raise IdTokenError("id_token.critical", detail="crit header")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.upper() not in ("JWT",)):
        raise IdTokenError("id_token.type", detail=f"typ={typ!r}")


def check_id_token_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    now: float,
    leeway: float,
    nonce: str | None,
    max_age: int | None = None,
) -> None:
    """OpenID Connect Core 3.1.3.7 steps 2-4 and 9-11, and 13 when the login sent
    `max_age`; raises IdTokenError on the first failure."""
    if claims.get("iss") != issuer:
        raise IdTokenError("id_token.issuer", detail=f"iss={claims.get('iss')!r}")
    audiences = audiences_of(claims)
    if audiences is None or client_id not in audiences:
        raise IdTokenError("id_token.audience", detail=f"aud={claims.get('aud')!r}")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise IdTokenError("id_token.authorized_party", detail=f"azp={azp!r}")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise IdTokenError("id_token.subject")
    exp = claims.get("exp")
    if not is_number(exp):
        raise IdTokenError("id_token.expiry")
    if now > exp + leeway:
        raise IdTokenError("id_token.expired")
    iat = claims.get("iat")
    if not is_number(iat):
        raise IdTokenError("id_token.issued_at")
    if iat > now + leeway:
        raise IdTokenError("id_token.issued_in_future")
    if nonce is not None and claims.get("nonce") != nonce:
        raise IdTokenError("id_token.nonce")
    if max_age is not None:
        check_auth_time(claims, max_age=max_age, now=now, leeway=leeway)


def check_auth_time(claims: Mapping[str, Any], *, max_age: int, now: float,
                    leeway: float) -> None:
    """OpenID Connect Core 3.1.2.1: when max_age was sent, the ID token MUST carry
    auth_time; 3.1.3.7 step 13: too long ago (auth_time + max_age + leeway < now) is
    refused, as the provider should have asked the user to sign in again."""
    auth_time = claims.get("auth_time")
    if not is_number(auth_time):
        raise IdTokenError("id_token.auth_time", detail=f"auth_time={auth_time!r}")
    if auth_time + max_age + leeway < now:
        raise IdTokenError(
            "id_token.auth_time_too_old",
            detail=f"signed in {now - auth_time:.0f} s ago; max_age={max_age}, leeway={leeway:g}")


def check_access_token_hash(claims: Mapping[str, Any], algorithm: str, access_token: str) -> None:
    """OpenID Connect Core 3.2.2.9: when at_hash is present it must match the access token."""
    at_hash = claims.get("at_hash")
    if at_hash is None:
        return
    digest = _HASH[algorithm[2:]](access_token.encode("ascii", "replace")).digest()
    if at_hash != base64url(digest[: len(digest) // 2]):
        raise IdTokenError("id_token.access_token_hash")
