"""Stored logins for the portable tests and the corpus: ID tokens, records and the
storage that holds them, built with oidc_spa.portable.b64url and json only.

Nothing verifies a signature when a stored login is read back (it was verified when it
arrived), so the tokens carry a dummy signature. Runs on MicroPython too.
"""

import json

from oidc_spa.portable import b64url
from oidc_spa.portable.record import Keys

CLIENT_ID = "portable-app"
OTHER_CLIENT_ID = "another-app"
ISSUER = "https://issuer.example/"
PAGE_URL = "https://app.example/"
SESSION_ID = "s3ss10n-1d-0123456789abcdef"
NOW = 1_700_000_000
LIFETIME = 3600
DUMMY_SIGNATURE = b64url.encode(b"not a signature")
HEADER = {"alg": "RS256", "typ": "JWT", "kid": "test-key"}


def encode_json(value) -> str:
    return b64url.encode(json.dumps(value).encode("utf-8"))


def make_token(claims, header=None, signature=DUMMY_SIGNATURE) -> str:
    """A compact JWS with these claims (header and signature are not checked on restore)."""
    return ".".join((encode_json(HEADER if header is None else header), encode_json(claims),
                     signature))


def make_claims(**changes) -> dict:
    """An ID token's claims for CLIENT_ID at ISSUER, expiring LIFETIME after NOW."""
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "user-1", "iat": NOW - 60,
              "exp": NOW + LIFETIME, "nonce": "n-0123456789", "name": "Ada Lovelace"}
    claims.update(changes)
    return claims


def make_record(claims=None, without=(), **changes) -> dict:
    """A record as the full lane writes it (oidc_spa.store.StoredSession), every field set:
    the session ends at the ID token's exp."""
    claims = make_claims() if claims is None else claims
    record = {
        "id_token": make_token(claims),
        "access_token": "access-token-1",
        "expires_at": claims.get("exp", NOW + LIFETIME),
        "access_token_expires_at": claims.get("exp", NOW + LIFETIME),
        "refresh_token": "refresh-token-1",
        "scope": "openid profile email",
        "profile": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "issued_at": NOW - 60,
        "session_id": SESSION_ID,
        "generation": 0,
        "identity": {"iss": ISSUER, "sub": "user-1"},
        "extendable": True,
        "token_type": "Bearer",
    }
    record.update(changes)
    for key in without:
        del record[key]
    return record


def stored_items(record=None, record_text=None, session_id=SESSION_ID,
                 pointer=None, client_id=CLIENT_ID) -> dict:
    """localStorage's items for a signed-in login: the pointer and the record."""
    keys = Keys(client_id)
    if record_text is None:
        record_text = json.dumps(make_record() if record is None else record)
    return {keys.current: session_id if pointer is None else pointer,
            keys.record(session_id): record_text}
