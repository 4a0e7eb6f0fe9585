"""Random values for one login: PKCE verifier and challenge (RFC 7636), state, nonce.

Randomness comes from `secrets` (the OS generator; in the browser Pyodide maps it
to crypto.getRandomValues), never from `random`, whose state a memory snapshot
would freeze.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

# RFC 7636 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)


def base64url(data: bytes) -> str:
    """Base64url without padding, as JOSE and PKCE use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def random_token(num_bytes: int = 32) -> str:
    """An unguessable URL-safe string (32 bytes = 256 bits by default)."""
    return base64url(secrets.token_bytes(num_bytes))


def make_code_verifier() -> str:
    """A fresh code_verifier: 32 random octets, base64url encoded (43 characters)."""
    return random_token(32)


def is_valid_code_verifier(verifier: str) -> bool:
    return 43 <= len(verifier) <= 128 and set(verifier) <= _VERIFIER_ALPHABET


def s256_code_challenge(verifier: str) -> str:
    """code_challenge = BASE64URL(SHA256(ASCII(code_verifier))), RFC 7636 4.2."""
    if not is_valid_code_verifier(verifier):
        raise ValueError("a code_verifier is 43 to 128 unreserved characters")
    return base64url(hashlib.sha256(verifier.encode("ascii")).digest())
