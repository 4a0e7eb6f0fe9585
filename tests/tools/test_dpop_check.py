"""The demo API's DPoP proof check (devtools.servers.dpop_check), RFC 9449 4.3 and 7.1."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from devtools.servers.dpop_check import (
    NonceRequired,
    ProofRejected,
    SeenJtis,
    ServerNonces,
    check_proof,
)
from oidc_spa.dpop import access_token_hash, jwk_thumbprint

URL = "http://127.0.0.1:9100/api/private"
TOKEN = "access-token-1"
PRIVATE = ec.generate_private_key(ec.SECP256R1())
JWK = json.loads(ECAlgorithm.to_jwk(PRIVATE.public_key()))


def proof(*, header: dict | None = None, key=PRIVATE, **claims: object) -> str:
    body = {"jti": str(uuid.uuid4()), "htm": "GET", "htu": URL, "iat": int(time.time()),
            "ath": access_token_hash(TOKEN), **claims}
    body = {name: value for name, value in body.items() if value is not None}
    return jwt.encode(body, key, algorithm="ES256",
                      headers={"typ": "dpop+jwt", "jwk": JWK, **(header or {})})


def check(text: str | None, seen: SeenJtis | None = None, **kwargs: object) -> str:
    return check_proof(text, method="GET", url=URL, access_token=TOKEN,
                       seen=seen or SeenJtis(), **kwargs)


def test_a_proof_for_this_request_gives_its_keys_thumbprint():
    assert check(proof()) == jwk_thumbprint(JWK)
    assert check(proof(htu=URL)) == jwk_thumbprint(JWK)


@pytest.mark.parametrize("bad", [
    None, "", "not.a.jwt",
    proof(htm="POST"), proof(htu="http://127.0.0.1:9100/api/other"),
    proof(ath=access_token_hash("another token")), proof(ath=None),
    proof(iat=int(time.time()) - 3600), proof(iat=int(time.time()) + 3600),
    proof(header={"typ": "JWT"}), proof(header={"jwk": {**JWK, "d": "secret"}}),
    proof(key=ec.generate_private_key(ec.SECP256R1())),  # signed by another key
    proof(jti=None),
])
def test_a_proof_that_does_not_fit_is_rejected(bad):
    with pytest.raises(ProofRejected):
        check(bad)


def test_a_proof_is_accepted_once():
    seen = SeenJtis()
    once = proof()
    check(once, seen)
    with pytest.raises(ProofRejected):
        check(once, seen)


# ----------------------------------------------------------------------------- server nonces
# The start of a nonce step (NONCE_SECONDS = 60), a few steps ago: PyJWT refuses an iat
# in the future, and the proofs here are dated up to two steps later.
NOW = float((int(time.time()) // 60 - 3) * 60)


def test_without_nonces_asked_for_a_proof_needs_none():
    assert check(proof(iat=int(NOW)), now=NOW) == jwk_thumbprint(JWK)


def test_a_proof_without_the_nonce_is_refused_with_the_nonce_to_use():
    nonces = ServerNonces()
    for missing in (None, "made-up", ServerNonces().current(NOW)):
        with pytest.raises(NonceRequired) as refused:
            check(proof(iat=int(NOW), nonce=missing), now=NOW, nonces=nonces)
        assert refused.value.nonce == nonces.current(NOW)
        assert isinstance(refused.value, ProofRejected)  # a refusal like the others


def test_the_current_and_the_previous_nonce_are_accepted_an_older_one_is_not():
    nonces = ServerNonces()
    given = nonces.current(NOW)
    assert nonces.current(NOW + 59) == given
    assert nonces.current(NOW + 60) != given
    later = NOW + 60
    assert check(proof(iat=int(later), nonce=given), now=later, nonces=nonces)
    with pytest.raises(NonceRequired):
        check(proof(iat=int(NOW + 120), nonce=given), now=NOW + 120, nonces=nonces)


def test_a_proof_refused_for_its_nonce_leaves_its_jti_unspent():
    seen, nonces = SeenJtis(), ServerNonces()
    with pytest.raises(NonceRequired):
        check(proof(iat=int(NOW), jti="jti-1"), seen, now=NOW, nonces=nonces)
    check(proof(iat=int(NOW), jti="jti-1", nonce=nonces.current(NOW)), seen, now=NOW,
          nonces=nonces)
