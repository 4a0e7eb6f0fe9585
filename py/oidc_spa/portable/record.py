"""The stored session as both lanes read it: key names, a record's shape, and whether the
signed-in login is still alive (the tutorial's `exp` check, made stricter).

A record is trusted only this far: its ID token was validated with PyJWT when it
arrived, so here it is only decoded (never re-verified) to read `iss`, `aud` and
`exp`, exactly as the full lane does on a reload. See `oidc_spa.store` for the keys.
"""

import json

from . import b64url
from .strict_json import decode_utf8, is_number, json_object

KEY_PREFIX = "oidc_spa"
MAX_TOKEN_CHARS = 100_000  # as oidc_spa.tokens
_NEVER = float("inf")
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
# Every field of a record, with its default when absent (oidc_spa.store.StoredSession).
RECORD_FIELDS = {
    "id_token": None, "access_token": None, "expires_at": None,
    "access_token_expires_at": None, "refresh_token": None, "scope": None, "profile": {},
    "issued_at": 0.0, "session_id": "", "generation": 0, "identity": {}, "extendable": True,
    "token_type": "Bearer",
}
_REQUIRED = ("id_token", "access_token", "expires_at")


class Keys:
    """This app's keys: oidc_spa:<client id>:<name> (apps sharing an origin stay apart)."""

    def __init__(self, client_id: str) -> None:
        self.prefix = KEY_PREFIX + ":" + client_id + ":"
        self.current = self.prefix + "current"
        self.renewing = self.prefix + "renewing"
        self.ended = self.prefix + "ended"
        self.pending_logins = self.prefix + "pending_logins"
        self.renew_lock = self.prefix + "renew"
        # The IndexedDB database of this app's DPoP keys (oidc_spa.browser_keys).
        self.dpop_keys = self.prefix + "dpop"

    def record(self, session_id: str) -> str:
        return self.prefix + "session:" + session_id


def is_session_id(value: object) -> bool:
    # strip() runs natively: an empty rest means every character is one of _ID_CHARS.
    return isinstance(value, str) and 16 <= len(value) <= 64 and not value.strip(_ID_CHARS)


def read_record(text: object) -> dict | None:
    """A record's fields (defaults filled in), or None when the text is not one
    (tampered, an older layout, another app's, garbage)."""
    data = json_object(text)
    if data is None or any(key not in RECORD_FIELDS for key in data):
        return None
    if any(key not in data for key in _REQUIRED):
        return None
    record = {}
    for key, default in RECORD_FIELDS.items():
        record[key] = data.get(key, default)
    ok = (
        isinstance(record["id_token"], str)
        and isinstance(record["access_token"], str)
        and is_number(record["expires_at"])
        and _optional(record["access_token_expires_at"], is_number)
        and _optional(record["refresh_token"], _is_text)
        and _optional(record["scope"], _is_text)
        and isinstance(record["profile"], dict)
        and is_number(record["issued_at"])
        and is_session_id(record["session_id"])
        and isinstance(record["generation"], int) and is_number(record["generation"])
        and isinstance(record["identity"], dict)
        and isinstance(record["extendable"], bool)
        and record["token_type"] in ("Bearer", "DPoP")
    )
    return record if ok else None


def current_record(storage: object, keys: Keys) -> dict | None:
    """The signed-in login's record (getItem on localStorage or any Storage); None when
    nobody is signed in or the record is unreadable or not the one the pointer names."""
    session_id = storage.getItem(keys.current)
    if not is_session_id(session_id):
        return None
    record = read_record(storage.getItem(keys.record(session_id)))
    return record if record is not None and record["session_id"] == session_id else None


def token_claims(token: object) -> dict | None:
    """The claims of a compact JWS, decoded but NOT verified; None when it is not one."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > MAX_TOKEN_CHARS:
        return None
    header, claims, signature = token.split(".")
    if not b64url.is_b64url(signature):  # never used here: checked, not decoded
        return None
    try:
        # Strict UTF-8 as PyJWT reads it (MicroPython's decoder takes overlong forms).
        header_json = decode_utf8(b64url.decode(header))
        claims_json = decode_utf8(b64url.decode(claims))
    except ValueError:
        return None
    if json_object(header_json) is None:
        return None
    return json_object(claims_json)


def audiences_of(claims: dict) -> list | None:
    """`aud` as a list (a single string is one audience); None when it is neither."""
    audience = claims.get("aud")
    if isinstance(audience, str):
        return [audience]
    return audience if isinstance(audience, list) else None


def is_alive(record: dict, claims: dict | None, now: float, issuer: str,
             client_id: str) -> bool:
    """The kept login is this app's and not over: the ID token's `iss` and `aud` are this
    app's, and the session's end is the token's `exp` (or, after a renewal without an ID
    token, the later expiry of the access token) and still ahead."""
    if claims is None:
        return False
    exp = claims.get("exp")
    if not is_number(exp):
        return False
    audiences = audiences_of(claims)
    ends = record["expires_at"]
    ends_by_token = exp == ends or (ends == record["access_token_expires_at"] and ends > exp)
    return (
        ends_by_token
        and now < ends
        and claims.get("iss") == issuer
        and audiences is not None
        and client_id in audiences
    )


def live_record(storage: object, keys: Keys, now: float, issuer: str,
                client_id: str) -> dict | None:
    """The signed-in login's record when it is alive, else None: the start-up decision."""
    record = current_record(storage, keys)
    if record is None:
        return None
    claims = token_claims(record["id_token"])
    return record if is_alive(record, claims, now, issuer, client_id) else None


def why_ended(ends: float, now: float, ended_reason: str | None) -> str:
    """Why a login a tab showed is gone (both lanes say it with this): "expired" once
    past its end, "ended" when a tab said the provider ended it (a refused renewal), else
    "signed_out" (a logout, here or in another tab)."""
    if now >= ends:
        return "expired"
    return "ended" if ended_reason == "ended" else "signed_out"


def end_login(storage: object, keys: Keys, session_id: str | None, reason: str,
              now: float) -> None:
    """End a login: `session_id` only if it is still the signed-in one; None ends
    whichever is signed in (a logout). The provider's ending is left for other tabs."""
    current = storage.getItem(keys.current)
    current = current if is_session_id(current) else None
    ending = session_id or current
    if ending is None:
        return
    if current == ending:
        if reason == "ended":
            ended = {"session_id": ending, "reason": reason, "at": now}
            storage.setItem(keys.ended, json.dumps(ended))
        else:
            storage.removeItem(keys.ended)
        storage.removeItem(keys.current)
    storage.removeItem(keys.record(ending))


def _optional(value: object, check: object) -> bool:
    return value is None or check(value)


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def renew_at(record: dict, margin: float) -> float:
    """When to renew: a margin before the first of the two tokens expires; infinity
    when renewing would move nothing.

    The session's end counts only while renewals can move it (`extendable`): a
    provider whose renewed ID tokens keep the login's exp still gets its short-lived
    access tokens renewed, without renewing again and again before that fixed end.
    The margin is at most a third of the tokens' lifetime, so short-lived tokens are
    not renewed the moment they arrive.
    """
    ends = min(record["access_token_expires_at"] or _NEVER,
               record["expires_at"] if record["extendable"] else _NEVER)
    if ends == _NEVER:
        return _NEVER
    lifetime = ends - record["issued_at"] if record["issued_at"] else _NEVER
    return ends - min(margin, max(lifetime / 3, 1.0))


def can_renew(record: dict, renew: bool, margin: float) -> bool:
    """Whether this login renews itself in the background (setting, token, a use)."""
    return bool(renew and record["refresh_token"] is not None
                and renew_at(record, margin) < _NEVER)
