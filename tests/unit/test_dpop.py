"""DPoP (RFC 9449) decisions and proofs, on CPython with a software key."""

from __future__ import annotations

import json

import jwt
import pytest
from async_runner import run
from jwt.algorithms import ECAlgorithm
from software_keys import KeyStore, SoftwareKey

from oidc_spa import ConfigError, NotAuthenticatedError, TokenError
from oidc_spa.config import ProviderMetadata
from oidc_spa.dpop import (
    Binder,
    Prover,
    access_token_hash,
    asks_for_nonce,
    htu,
    jwk_thumbprint,
    offered_nonce,
    wants_dpop,
)
from oidc_spa.tokens import check_token_type, parse_token_response
from oidc_spa.transport import HttpResponse

# RFC 9449 examples: an access token and its ath; a P-256 public key and its jkt.
RFC_ACCESS_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
RFC_ATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
RFC_JWK = {"kty": "EC", "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
           "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA", "crv": "P-256"}
RFC_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
METADATA = ProviderMetadata(issuer="https://op.example", authorization_endpoint="https://op.example/a",
                            token_endpoint="https://op.example/token", jwks_uri="https://op.example/j")


def test_rfc_9449_examples():
    assert access_token_hash(RFC_ACCESS_TOKEN) == RFC_ATH
    assert jwk_thumbprint(RFC_JWK) == RFC_JKT


def test_htu_drops_query_and_fragment():
    assert htu("https://api.example/x/y?token=1#frag") == "https://api.example/x/y"


def test_a_proof_is_a_signed_dpop_jwt_naming_the_request():
    key = SoftwareKey()
    prover = Prover(key)
    proof = run(prover.proof("get", "https://api.example/r?q=1", now=1_800_000_000,
                             access_token=RFC_ACCESS_TOKEN))
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert header["jwk"] == {k: key.public_jwk()[k] for k in ("kty", "crv", "x", "y")}
    claims = jwt.decode(proof, ECAlgorithm.from_jwk(header["jwk"]), algorithms=["ES256"],
                        options={"verify_iat": False})
    assert claims["htm"] == "GET" and claims["htu"] == "https://api.example/r"
    assert claims["iat"] == 1_800_000_000 and claims["ath"] == RFC_ATH
    assert len(claims["jti"]) >= 16 and "nonce" not in claims
    second = jwt.decode(run(prover.proof("GET", "https://api.example/r", now=1_800_000_000)),
                        options={"verify_signature": False})
    assert second["jti"] != claims["jti"]  # a proof is used once


def response(status: int, body: dict | None = None, **headers: str) -> HttpResponse:
    return HttpResponse(status, json.dumps(body or {}),
                        {name.replace("_", "-").lower(): v for name, v in headers.items()})


def test_a_nonce_challenge_is_recognised_at_the_token_endpoint_and_at_an_api():
    token = response(400, {"error": "use_dpop_nonce"}, dpop_nonce="n-1")
    api = response(401, None, dpop_nonce="n-2",
                   www_authenticate='DPoP error="use_dpop_nonce", error_description="x"')
    assert asks_for_nonce(token) and asks_for_nonce(api)
    assert not asks_for_nonce(response(400, {"error": "invalid_grant"}, dpop_nonce="n"))
    assert not asks_for_nonce(response(400, {"error": "use_dpop_nonce"}))  # no nonce sent
    assert offered_nonce(response(200, None, dpop_nonce='bad"nonce')) is None


def test_binder_retries_once_with_the_servers_nonce_and_remembers_it():
    binder = Binder(KeyStore(), clock=lambda: 1_800_000_000)
    prover = run(binder.prover("login-1", create=True))
    sent: list[dict[str, str]] = []
    answers = [response(400, {"error": "use_dpop_nonce"}, dpop_nonce="n-1"),
               response(200, {"ok": True}), response(200, {"ok": True})]

    async def send(headers: dict[str, str]) -> HttpResponse:
        sent.append(headers)
        return answers[len(sent) - 1]

    url = "https://op.example/token"
    assert run(binder.send(send, prover, "POST", url)).status == 200
    nonces = [jwt.decode(h["DPoP"], options={"verify_signature": False}).get("nonce")
              for h in sent]
    assert nonces == [None, "n-1"]
    run(binder.send(send, prover, "POST", url))  # the nonce is kept for that server
    assert jwt.decode(sent[-1]["DPoP"], options={"verify_signature": False})["nonce"] == "n-1"


def test_binder_gives_up_after_one_retry():
    binder = Binder(KeyStore(), clock=lambda: 1_800_000_000)
    prover = run(binder.prover("login-1", create=True))
    calls = []

    async def send(headers: dict[str, str]) -> HttpResponse:
        calls.append(headers)
        return response(400, {"error": "use_dpop_nonce"}, dpop_nonce=f"n-{len(calls)}")

    assert run(binder.send(send, prover, "POST", "https://op.example/token")).status == 400
    assert len(calls) == 2


def test_resource_requests_carry_the_token_as_a_dpop_credential():
    binder = Binder(KeyStore(), clock=lambda: 1_800_000_000)
    prover = run(binder.prover("login-1", create=True))
    sent = []

    async def send(headers: dict[str, str]) -> HttpResponse:
        sent.append(headers)
        return response(200)

    run(binder.send(send, prover, "GET", "https://api.example/r", access_token="at-1"))
    assert sent[0]["Authorization"] == "DPoP at-1"
    claims = jwt.decode(sent[0]["DPoP"], options={"verify_signature": False})
    assert claims["ath"] == access_token_hash("at-1")


def test_a_login_without_its_key_cannot_use_its_tokens():
    binder = Binder(KeyStore(), clock=lambda: 0)
    with pytest.raises(NotAuthenticatedError) as caught:
        run(binder.prover("unknown-login"))
    assert caught.value.code == "dpop.no_key"


def test_logout_deletes_the_keys_and_forgets_the_provers():
    store = KeyStore()
    binder = Binder(store, clock=lambda: 0)
    run(binder.prover("login-1", create=True))
    run(binder.delete_keys())
    assert store.deleted and store.keys == {}
    with pytest.raises(NotAuthenticatedError):
        run(binder.prover("login-1"))


@pytest.mark.parametrize(("setting", "offered", "keys", "expected"), [
    ("auto", ("ES256",), True, True),
    ("auto", ("ES256",), False, False),  # no key store: bearer tokens, as before
    ("auto", (), True, False),
    ("auto", ("EdDSA",), True, False),
    (False, ("ES256",), True, False),
    (True, ("ES256",), True, True),
])
def test_when_a_login_uses_dpop(setting, offered, keys, expected):
    metadata = METADATA._replace(dpop_algorithms=offered)
    assert wants_dpop(setting, metadata, can_keep_keys=keys) is expected


@pytest.mark.parametrize(("offered", "keys"), [((), True), (("ES256",), False)])
def test_required_dpop_that_cannot_be_had_is_a_settings_error(offered, keys):
    with pytest.raises(ConfigError) as caught:
        wants_dpop(True, METADATA._replace(dpop_algorithms=offered), can_keep_keys=keys)
    assert caught.value.code == "config.dpop_unsupported"


def test_required_dpop_at_auth0_is_taken_at_its_word():
    auth0 = METADATA._replace(auth0_logout_endpoint="https://t.auth0.com/v2/logout")
    assert wants_dpop(True, auth0, can_keep_keys=True)


def token_answer(token_type: str) -> HttpResponse:
    return parse_token_response(200, json.dumps({
        "access_token": "at", "id_token": "a.b.c", "token_type": token_type}))


def test_a_bearer_answer_to_a_dpop_request_is_refused():
    with pytest.raises(TokenError) as caught:
        check_token_type(token_answer("Bearer"), dpop=True)
    assert caught.value.code == "token.dpop_downgraded"
    check_token_type(token_answer("DPoP"), dpop=True)
    check_token_type(token_answer("bearer"), dpop=False)
    with pytest.raises(TokenError):
        check_token_type(token_answer("DPoP"), dpop=False)
