from oidc_spa.pkce import (
    is_valid_code_verifier,
    make_code_verifier,
    random_token,
    s256_code_challenge,
)


def test_s256_challenge_matches_rfc7636_appendix_b():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256_code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_are_43_unreserved_characters_and_never_repeat():
    verifiers = {make_code_verifier() for _ in range(200)}
    assert len(verifiers) == 200
    assert all(len(v) == 43 and is_valid_code_verifier(v) for v in verifiers)


def test_state_and_nonce_carry_256_bits():
    tokens = {random_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) == 43 for t in tokens)


def test_verifier_outside_rfc_limits_is_refused():
    for bad in ("short", "a" * 129, "a" * 42 + "!"):
        assert not is_valid_code_verifier(bad)
