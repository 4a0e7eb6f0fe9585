"""Random values for one login: PKCE verifier and challenge (RFC 7636), state, nonce.

Randomness comes from `secrets` (the OS generator; in the browser Pyodide maps it
to crypto.getRandomValues), never from `random`, whose state a memory snapshot
would freeze. The encoding and the S256 rule are portable.login's, which the page's
first lane (MicroPython, randomness from crypto.getRandomValues) runs too.
"""

from __future__ import annotations

import secrets

from .portable import b64url
from .portable.login import is_valid_code_verifier, s256_code_challenge

__all__ = ["base64url", "is_valid_code_verifier", "make_code_verifier", "random_bytes",
           "random_token", "s256_code_challenge"]


def base64url(data: bytes) -> str:
    """Base64url without padding, as JOSE and PKCE use it."""
    return b64url.encode(data)


def random_bytes(count: int) -> bytes:
    return secrets.token_bytes(count)


def random_token(num_bytes: int = 32) -> str:
    """An unguessable URL-safe string (32 bytes = 256 bits by default)."""
    return base64url(random_bytes(num_bytes))


def make_code_verifier() -> str:
    """A fresh code_verifier: 32 random octets, base64url encoded (43 characters)."""
    return random_token(32)
