"""Starting a login, as both lanes do it: PKCE (RFC 7636, S256 only), state, nonce, the
remembered login, and the authorization request URL (OpenID Connect Core 3.1.2.1).

Randomness is passed in (`random_bytes(n)`): the OS generator through `secrets` on
CPython and Pyodide, `crypto.getRandomValues` in MicroPython, which has no os.urandom.
"""

import hashlib
import json

from . import b64url
from .record import Keys
from .settings import OWN_PARAMETERS
from .strict_json import is_number, json_object
from .urls import lower_ascii, origin, split_url, with_query, without_parameters

# How long a started login may take before its callback is refused.
TRANSACTION_LIFETIME_SECONDS = 15 * 60
# Logins started (e.g. in several tabs) and not yet finished that are remembered.
MAX_PENDING_LOGINS = 5
# Parameters of an authorization response (RFC 6749 4.1.2 and 4.1.2.1, RFC 9207,
# OpenID Session Management); they are removed from the address bar afterwards.
RESPONSE_PARAMETERS = ("code", "state", "iss", "error", "error_description", "error_uri",
                       "session_state")
TRANSACTION_FIELDS = ("state", "nonce", "code_verifier", "redirect_uri", "return_to",
                      "created_at")
# RFC 7636 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def random_token(random_bytes: object, num_bytes: int = 32) -> str:
    """An unguessable URL-safe string (32 bytes = 256 bits by default)."""
    data = bytes(random_bytes(num_bytes))
    if len(data) != num_bytes:
        raise ValueError("the random source gave too few bytes")
    return b64url.encode(data)


def is_valid_code_verifier(verifier: object) -> bool:
    return (isinstance(verifier, str) and 43 <= len(verifier) <= 128
            and all(c in _VERIFIER_CHARS for c in verifier))


def s256_code_challenge(verifier: str) -> str:
    """code_challenge = BASE64URL(SHA256(ASCII(code_verifier))), RFC 7636 4.2."""
    if not is_valid_code_verifier(verifier):
        raise ValueError("a code_verifier is 43 to 128 unreserved characters")
    return b64url.encode(hashlib.sha256(verifier.encode("ascii")).digest())


def new_transaction(random_bytes: object, redirect_uri: str, return_to: str,
                    now: float) -> dict:
    """A login about to start: fresh state, nonce and code_verifier (32 random bytes each)."""
    return {
        "state": random_token(random_bytes),
        "nonce": random_token(random_bytes),
        "code_verifier": random_token(random_bytes),
        "redirect_uri": redirect_uri,
        "return_to": safe_return_to(return_to, redirect_uri),
        "created_at": now,
    }


def read_transaction(data: object) -> dict | None:
    """A remembered login, or None when the stored value is not one."""
    if not isinstance(data, dict) or sorted(data) != sorted(TRANSACTION_FIELDS):
        return None
    texts = [data[name] for name in TRANSACTION_FIELDS[:5]]
    if not all(isinstance(value, str) and value for value in texts):
        return None
    # A finite number of sane size: now - 10**400 raises OverflowError on CPython.
    if not is_number(data["created_at"]):
        return None
    return data


def is_expired(transaction: dict, now: float) -> bool:
    return not 0 <= now - transaction["created_at"] <= TRANSACTION_LIFETIME_SECONDS


def authorization_url(endpoint: str, client_id: str, scope: str, audience: str | None,
                      transaction: dict, extra: tuple = ()) -> str:
    """The URL that starts the login at the provider (its own query is kept).

    `extra`: authorizationParams as settings.authorization_params gives them, (name,
    value) pairs sent after the library's own; one that would replace a parameter the
    library sends is refused here too (ValueError), whoever built the pairs."""
    params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", transaction["redirect_uri"]),
        ("scope", scope),
        ("state", transaction["state"]),
        ("nonce", transaction["nonce"]),
        ("code_challenge", s256_code_challenge(transaction["code_verifier"])),
        ("code_challenge_method", "S256"),
    ]
    if audience:
        params.append(("audience", audience))
    sent = [lower_ascii(name) for name, _ in params]
    for name, value in extra:
        if (lower_ascii(name) in sent or lower_ascii(name) in OWN_PARAMETERS
                or not isinstance(value, str)):
            raise ValueError("authorizationParams may not set " + name)
        params.append((name, value))
    return with_query(endpoint, params)


def safe_return_to(candidate: str, fallback: str) -> str:
    """Where to go after login: only an address on the page's own origin, else the page."""
    if split_url(candidate)[0] not in ("http", "https") or origin(candidate) != origin(fallback):
        return fallback
    return without_parameters(candidate, RESPONSE_PARAMETERS)


# -- logins in flight, kept under oidc_spa:<client id>:pending_logins ------------------

def pending_logins(storage: object, keys: Keys, now: float | None) -> dict:
    """The remembered logins by state; with `now`, only those not yet expired."""
    raw = json_object(storage.getItem(keys.pending_logins)) or {}
    pending = {}
    for state, item in raw.items():
        transaction = read_transaction(item)
        if transaction is None or transaction["state"] != state:
            continue
        if now is None or not is_expired(transaction, now):
            pending[state] = transaction
    return pending


def remember_login(storage: object, keys: Keys, transaction: dict, now: float) -> None:
    """Keep a started login; the oldest beyond MAX_PENDING_LOGINS and expired ones go."""
    pending = pending_logins(storage, keys, now)
    pending[transaction["state"]] = transaction
    # A total order: MicroPython's sort is not stable and its dicts are not ordered,
    # so on equal created_at the one just started must win by the key itself.
    newest = sorted(pending.values(), key=lambda t: (
        t["created_at"], t["state"] == transaction["state"], t["state"]))
    write_pending(storage, keys, newest[-MAX_PENDING_LOGINS:])


def write_pending(storage: object, keys: Keys, transactions: list) -> None:
    if transactions:
        data = {}
        for transaction in transactions:
            data[transaction["state"]] = transaction
        storage.setItem(keys.pending_logins, json.dumps(data))
    else:
        storage.removeItem(keys.pending_logins)
