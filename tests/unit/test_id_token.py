"""ID token validation, table-driven. Case names follow the OpenID Foundation's
relying-party conformance tests where one exists (rp-id_token-*, rp-nonce-*)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from async_runner import run
from inprocess_provider import (
    CLIENT_ID,
    ISSUER,
    PAGE_URL,
    InProcessProvider,
    PyJwtVerifier,
    SigningKey,
    has_session,
)

from oidc_spa import IdTokenError, MemoryStorage, Session, TokenError, parse_settings
from oidc_spa.pkce import base64url
from oidc_spa.tokens import expiry_of, parse_token_response
from oidc_spa.transport import HttpResponse

NOW = 1_800_000_000


def claims_case(change: dict[str, Any]):
    return lambda claims: {k: v for k, v in {**claims, **change}.items() if v is not None}


CLAIM_CASES = {
    "rp-id_token-issuer-mismatch": ({"iss": "https://evil.example.test"}, "different provider"),
    "rp-id_token-aud": ({"aud": "another-client"}, "different app"),
    "aud-list-without-azp": ({"aud": [CLIENT_ID, "other"]}, "authorized party"),
    "azp-of-another-client": ({"azp": "other"}, "authorized party"),
    "rp-id_token-sub": ({"sub": None}, "no sub"),
    "rp-id_token-iat": ({"iat": None}, "issue time"),
    "iat-in-the-future": ({"iat": NOW + 3600}, "future"),
    "exp-missing": ({"exp": None}, "expiry"),
    "exp-not-a-number": ({"exp": "tomorrow"}, "expiry"),
    "exp-in-the-past": ({"exp": NOW - 3600}, "expired"),
    "rp-nonce-invalid": ({"nonce": "not-the-one-sent"}, "nonce"),
    "nonce-missing": ({"nonce": None}, "nonce"),
    "at_hash-mismatch": ({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, "at_hash"),
}


def make_session(provider: InProcessProvider, storage: MemoryStorage, **settings: Any) -> Session:
    text = json.dumps({"issuer": ISSUER, "clientId": CLIENT_ID, **settings})
    return Session(parse_settings(text, PAGE_URL), storage=storage, http=provider.http,
                   verifier=PyJwtVerifier(), clock=lambda: NOW)


def attempt_login(provider: InProcessProvider, **settings: Any) -> MemoryStorage:
    """A whole login; on failure, asserts that no session was stored before re-raising."""
    storage = MemoryStorage()
    session = make_session(provider, storage, **settings)
    callback = provider.authorize(run(session.login_url(PAGE_URL)))
    try:
        run(session.start(callback))
    except Exception:
        assert not has_session(storage)
        assert session.current is None
        raise
    return storage


@pytest.mark.parametrize("case", CLAIM_CASES, ids=list(CLAIM_CASES))
def test_id_token_with_bad_claim_is_refused_and_nothing_stored(case):
    change, message = CLAIM_CASES[case]
    provider = InProcessProvider(clock=lambda: NOW, tamper_claims=claims_case(change))
    with pytest.raises(IdTokenError, match=message):
        attempt_login(provider)


def test_aud_list_with_azp_of_this_client_is_accepted():
    provider = InProcessProvider(
        clock=lambda: NOW, tamper_claims=claims_case({"aud": [CLIENT_ID, "api"], "azp": CLIENT_ID})
    )
    storage = attempt_login(provider)
    assert has_session(storage)


def test_small_clock_skew_is_tolerated_within_the_leeway():
    provider = InProcessProvider(clock=lambda: NOW, tamper_claims=claims_case({"iat": NOW + 30}))
    attempt_login(provider)
    with pytest.raises(IdTokenError, match="future"):
        attempt_login(provider, leeway=10)


def forged_token_provider(make_token) -> InProcessProvider:
    """A provider whose token endpoint answers with the ID token `make_token` builds."""
    provider = InProcessProvider(clock=lambda: NOW)
    original = provider.token

    def token(form, headers):
        answer = json.loads(original(form, headers).text)
        nonce = next(iter(provider.last_nonce)) if hasattr(provider, "last_nonce") else None
        answer["id_token"] = make_token(provider, provider.id_token_claims(nonce))
        return HttpResponse(200, json.dumps(answer))

    provider.token = token
    return provider


def with_nonce(provider: InProcessProvider):
    """Remember the nonce of the authorization request, so forged tokens carry it."""
    original = provider.authorize

    def authorize(url: str) -> str:
        provider.last_nonce = {parse_qs(urlsplit(url).query)["nonce"][0]}
        return original(url)

    provider.authorize = authorize
    return provider


def unsigned(provider, claims):
    header = base64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{base64url(json.dumps(claims).encode())}."


def hs256_with_public_key(provider, claims):
    # The classic confusion attack: HMAC keyed with the provider's public key.
    public_jwk = json.dumps(provider.keys[0].public_jwk()).encode()
    header = base64url(json.dumps({"alg": "HS256", "kid": provider.keys[0].kid}).encode())
    body = base64url(json.dumps(claims).encode())
    signature = hmac.new(public_jwk, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{base64url(signature)}"


def signed_by_a_stranger(provider, claims):
    return SigningKey.rsa(kid=provider.keys[0].kid).sign(claims)


def body_swapped(provider, claims):
    good = provider.keys[0].sign(claims)
    header, _, signature = good.split(".")
    return f"{header}.{base64url(json.dumps({**claims, 'sub': 'admin'}).encode())}.{signature}"


def unknown_kid(provider, claims):
    return SigningKey.rsa(kid="not-published").sign(claims)


def with_crit_header(provider, claims):
    return provider.keys[0].sign(claims, headers={"crit": ["exp"], "exp": 1})


def not_a_jwt(provider, claims):
    return "definitely-not-a-jwt"


SIGNATURE_CASES = {
    "rp-id_token-sig-none": (unsigned, "does not accept"),
    "hs256-with-public-key": (hs256_with_public_key, "does not accept"),
    "rp-id_token-bad-sig-rs256": (signed_by_a_stranger, "signature is not valid"),
    "payload-swapped": (body_swapped, "signature is not valid"),
    "id_token-kid-unknown": (unknown_kid, "does not publish"),
    "crit-header": (with_crit_header, "cannot be read|does not understand"),
    "garbage": (not_a_jwt, "not a JSON Web Token"),
}


@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=list(SIGNATURE_CASES))
def test_id_token_with_bad_signature_or_header_is_refused(case):
    make_token, message = SIGNATURE_CASES[case]
    provider = with_nonce(forged_token_provider(make_token))
    with pytest.raises(IdTokenError, match=message):
        attempt_login(provider)


def test_es256_tokens_are_verified_too():
    provider = InProcessProvider(clock=lambda: NOW, keys=[SigningKey.ec()])
    assert attempt_login(provider).items


@pytest.mark.parametrize(("status", "body", "message"), [
    (400, '{"error": "invalid_grant", "error_description": "code used"}', "invalid_grant"),
    (500, "<html>", "failed"),
    (200, "not json", "not JSON"),
    (200, '{"token_type": "Bearer", "id_token": "x"}', "no access token"),
    (200, '{"access_token": "a", "token_type": "Bearer"}', "no ID token"),
    (200, '{"access_token": "a", "id_token": "x", "token_type": "mac"}', "token type"),
])
def test_unusable_token_responses_are_refused(status, body, message):
    with pytest.raises(TokenError, match=message):
        parse_token_response(status, body)


def test_stored_token_expiry_is_read_with_pyjwt():
    token = jwt.encode({"exp": 1234}, "k" * 32, algorithm="HS256")
    assert expiry_of(token) == 1234
    for bad in ("abc", "a.b.c", jwt.encode({"exp": "soon"}, "k" * 32, algorithm="HS256"),
                jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")):
        with pytest.raises(IdTokenError):
            expiry_of(bad)


def without_kid(provider, claims):
    return jwt.encode(claims, provider.keys[0].private_key, algorithm="RS256")


def test_rp_id_token_kid_absent_single_jwks():
    provider = with_nonce(forged_token_provider(without_kid))
    assert attempt_login(provider).items


def test_rp_id_token_kid_absent_multiple_jwks():
    provider = with_nonce(forged_token_provider(without_kid))
    provider.keys.append(SigningKey.rsa("second"))
    with pytest.raises(IdTokenError, match="does not publish"):
        attempt_login(provider)
