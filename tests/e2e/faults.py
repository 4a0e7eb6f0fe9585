"""The faults the e2e tests inject at the fault proxy, by what a provider does wrong.

Each function returns the Fault (or the list of Faults) to hand to FaultProxy.install or
FaultProxy.injected. Names follow the OpenID Foundation's RP conformance tests where one
exists. ID tokens are forged with the tests' own RSA key (TEST_KID): the proxy signs the
provider's token again after a test changed its claims, and adds that key to the provider's
/jwks answers, so a tampered claim passes the signature check and must be caught by the
claim checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fault_proxy import Answer, Fault, Request

EVIL_SUFFIX = "/evil"  # appended to the issuer where a fault claims another one
TEST_KID = "e2e-test-key"
UNPUBLISHED_KID = "e2e-unpublished-key"

Claims = dict[str, Any]


# ----------------------------------------------------------------------------- answers


def server_error(path: str) -> Fault:
    return Fault(path, answer=Answer.text(500, "Internal Server Error (fault proxy)"))


def slow(path: str, seconds: float) -> Fault:
    """The provider gets the request only after `seconds`."""
    return Fault(path, before=seconds)


def answer_late(path: str, seconds: float) -> Fault:
    """The provider does its work at once (a refresh token is spent and a new one issued);
    its answer reaches the page `seconds` later."""
    return Fault(path, after=seconds)


def edit_json(path: str, edit: Callable[[Any], None],
              when: Callable[[Request], bool] | None = None) -> Fault:
    """The provider's JSON answer, changed in place by `edit`."""

    def change(answer: Answer, request: Request) -> Answer:
        if answer.status != 200:
            return answer
        value = answer.json_body()
        edit(value)
        return answer.with_json(value)

    return Fault(path, change=change, when=when)


def is_refresh(request: Request) -> bool:
    return request.form().get("grant_type") == "refresh_token"


# ----------------------------------------------------------------------------- token endpoint


def token_bad_json() -> Fault:
    return Fault("/token", answer=Answer(200, (("Content-Type", "application/json"),
                                               ("Cache-Control", "no-store")),
                                         b'{"access_token": '))


def token_invalid_grant() -> Fault:
    """Refused, as a provider does for a revoked grant; the request never arrives."""
    return Fault("/token", answer=Answer.json(400, {
        "error": "invalid_grant", "error_description": "grant revoked (fault proxy)"}))


def refresh_answers_without_refresh_token() -> Fault:
    """A provider that does not rotate and says so by leaving refresh_token out
    (RFC 6749 6: the client keeps the one it has)."""
    return edit_json("/token", lambda tokens: tokens.pop("refresh_token", None), when=is_refresh)


def refresh_answer_token_type(token_type: str) -> Fault:
    """Refresh answers that name another token type than the one issued, e.g. "Bearer"
    for DPoP-bound tokens: a provider silently downgrading a renewal."""
    return edit_json("/token", lambda tokens: tokens.update(token_type=token_type),
                     when=is_refresh)


# ----------------------------------------------------------------------------- userinfo


def userinfo_wrong_sub() -> Fault:
    return edit_json("/userinfo", lambda claims: claims.update(sub="someone-else"))


def introspection_inactive() -> Fault:
    """The provider tells the API (RFC 7662) that the token is not active: the API answers 401."""
    return Fault("/token/introspection", answer=Answer.json(200, {"active": False}))


def userinfo_401() -> Fault:
    return Fault("/userinfo", answer=Answer.json(
        401, {"error": "invalid_token"},
        ("WWW-Authenticate", 'Bearer realm="userinfo", error="invalid_token"')))


# ----------------------------------------------------------------------------- discovery


DISCOVERY = "/.well-known/openid-configuration"


def discovery_wrong_issuer() -> Fault:
    return edit_json(DISCOVERY, lambda meta: meta.update(issuer=meta["issuer"] + EVIL_SUFFIX))


def endpoints_moved(origin: str, names: Sequence[str]) -> Fault:
    """The discovery document with these endpoints at `origin` (paths kept): a provider
    whose token, userinfo... endpoints live on other hosts than its issuer. Something at
    `origin` must pass them on to the provider (a second FaultProxy)."""
    target = urlsplit(origin)

    def move(meta: dict[str, Any]) -> None:
        for name in names:
            url = urlsplit(meta[name])
            meta[name] = urlunsplit(url._replace(scheme=target.scheme, netloc=target.netloc))

    return edit_json(DISCOVERY, move)


# ----------------------------------------------------------------------------- sign-in pages


def opener_policy(value: str) -> Fault:
    """The provider's sign-in pages (HTML) sent with `Cross-Origin-Opener-Policy: value`,
    as some providers do; every other answer passes as it came."""

    def change(answer: Answer, request: Request) -> Answer:
        if not (answer.header("Content-Type") or "").startswith("text/html"):
            return answer
        return answer.with_header("Cross-Origin-Opener-Policy", value)

    return Fault("/interaction", change=change)


# ----------------------------------------------------------------------------- the callback


def authorization_response(edit: Callable[[dict[str, str]], None]) -> Fault:
    """The redirect that brings the code (or the error) back to the app, with its query
    parameters changed by `edit`; every other redirect passes as it came."""

    def change(answer: Answer, request: Request) -> Answer:
        location = answer.header("Location")
        if location is None:
            return answer
        parts = urlsplit(location)
        params = dict(parse_qsl(parts.query))
        if "code" not in params and "error" not in params:
            return answer
        edit(params)
        return answer.with_header("Location", urlunsplit(parts._replace(query=urlencode(params))))

    # /authorize answers it straight away to a signed-in browser, /authorize/<uid> after
    # the sign-in page.
    return Fault("/authorize", change=change)


def callback_wrong_iss() -> Fault:
    return authorization_response(lambda p: p.update(iss=p["iss"] + EVIL_SUFFIX))


def callback_no_iss() -> Fault:
    return authorization_response(lambda p: p.pop("iss"))


def callback_wrong_state() -> Fault:
    return authorization_response(lambda p: p.update(state=secrets.token_urlsafe(16)))


# ----------------------------------------------------------------------------- ID tokens


@cache
def _rsa_key(kid: str) -> rsa.RSAPrivateKey:
    """One key per kid for the whole test session (generating one takes a while)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def forging_jwk() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_rsa_key(TEST_KID).public_key()))
    return {**public, "kid": TEST_KID, "alg": "RS256", "use": "sig"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], Claims]:
    """Header and claims, unverified: the proxy only passes the token on."""
    return (jwt.get_unverified_header(token),
            jwt.decode(token, options={"verify_signature": False}))


def _compact(header: dict[str, Any], claims: Claims, sign: Callable[[bytes], bytes]) -> str:
    """A JWS put together by hand: PyJWT rightly refuses to make the forged ones."""
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64url(sign(signing_input.encode()))}"


def _signed(claims: Claims, kid: str) -> str:
    return jwt.encode(claims, _rsa_key(kid), algorithm="RS256", headers={"kid": kid})


def _id_token_fault(forge: Callable[[str], str]) -> Fault:
    """The token endpoint's answers (code and refresh grants) with id_token replaced."""

    def edit(tokens: dict[str, Any]) -> None:
        if "id_token" in tokens:
            tokens["id_token"] = forge(tokens["id_token"])

    return edit_json("/token", edit)


def _publish_test_key(published: Callable[[], bool] = lambda: True) -> Fault:
    """/jwks with the tests' key added (while `published()` says so)."""
    return edit_json("/jwks", lambda jwks: jwks["keys"].append(forging_jwk())
                     if published() else None)


def id_token_claims(edit: Callable[[Claims], None]) -> list[Fault]:
    """Claims changed by `edit`, signed with the published test key: only the claim checks
    can tell."""

    def forge(token: str) -> str:
        claims = _parts(token)[1]
        edit(claims)
        return _signed(claims, TEST_KID)

    return [_id_token_fault(forge), _publish_test_key()]


def expire(claims: Claims) -> None:
    """Expired an hour ago; auth_time follows, so only the expiry is wrong."""
    issued_at = claims["iat"]
    claims.update(iat=issued_at - 7200, exp=issued_at - 3600)
    if "auth_time" in claims:
        claims["auth_time"] = min(claims["auth_time"], issued_at - 7200)


def issue_in_the_future(claims: Claims) -> None:
    lifetime = claims["exp"] - claims["iat"]
    claims.update(iat=claims["iat"] + 3600, exp=claims["iat"] + 3600 + lifetime)


def aud_list_without_azp(claims: Claims) -> None:
    claims["aud"] = [claims["aud"], "other"]
    claims.pop("azp", None)


def id_token_bad_signature() -> Fault:
    """The provider's own token with one signature byte inverted."""

    def forge(token: str) -> str:
        signing_input, _, signature = token.rpartition(".")
        raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
        raw[len(raw) // 2] ^= 0xFF
        return f"{signing_input}.{_b64url(bytes(raw))}"

    return _id_token_fault(forge)


def id_token_alg_none() -> Fault:
    """Unsigned, under the provider's published kid: a client must fail on alg."""

    def forge(token: str) -> str:
        header, claims = _parts(token)
        return _compact({"alg": "none", "typ": "JWT", "kid": header["kid"]}, claims,
                        lambda _: b"")

    return _id_token_fault(forge)


def id_token_hs256_public_key() -> list[Fault]:
    """The key confusion attack: HS256 whose HMAC secret is the published RSA key's PEM."""
    pem = _rsa_key(TEST_KID).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def forge(token: str) -> str:
        claims = _parts(token)[1]
        return _compact({"alg": "HS256", "typ": "JWT", "kid": TEST_KID}, claims,
                        lambda data: hmac.new(pem, data, hashlib.sha256).digest())

    return [_id_token_fault(forge), _publish_test_key()]


def id_token_unknown_kid() -> Fault:
    """Well signed, by a key no JWKS answer ever publishes."""
    return _id_token_fault(lambda token: _signed(_parts(token)[1], UNPUBLISHED_KID))


def key_rotation() -> list[Fault]:
    """rp-key-rotation-op-sign-key: from the first token answer on, ID tokens are signed by
    the test key, which /jwks publishes only from then on. A client that read the keys
    before must read them again."""
    rotated = [False]

    def forge(token: str) -> str:
        rotated[0] = True
        return _signed(_parts(token)[1], TEST_KID)

    return [_id_token_fault(forge), _publish_test_key(lambda: rotated[0])]
