"""Renewal decisions as pure functions: whether a kept session still holds, when to
renew (and to try again), what a renewed ID token must repeat, and the session a
refresh answer makes. Session and Renewer do the I/O around them.

What ends a session when the provider renews without an ID token (OpenID Connect
Core 12.2 allows a refresh answer without one): the session then lives as long as
the new access token, since the provider has just vouched for the login by renewing
it; the profile and the ID token of the last validation stay. A refresh answer that
moves nothing forward (no ID token and no `expires_in`) stops renewal, and the
session ends at the end it already had, instead of renewing again and again; see
renew_at for renewed ID tokens that keep the login's exp.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .errors import AuthError, BusyError, IdTokenError
from .portable import record
from .store import StoredSession
from .tokens import TokenResponse, audiences_of

# OpenID Connect Core 12.2: a renewed ID token repeats these claims of the login's.
IDENTITY_CLAIMS = ("iss", "sub", "aud", "azp", "auth_time", "nonce")

# After a renewal failed for a passing reason (offline, provider down), wait this
# long (less near the session's end) before trying again; after finding another
# tab's renewal in flight, this long.
RENEW_RETRY_SECONDS = 5.0
BUSY_RETRY_SECONDS = 0.5


def identity_of(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The login's claims that every later ID token of this session must repeat."""
    return {name: claims[name] for name in IDENTITY_CLAIMS if name in claims}


def check_renewed_claims(identity: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    """OpenID Connect Core 12.2: the renewed ID token is about the same login.

    iss, sub and aud as at login; azp as at login, and absent if it was absent;
    auth_time, when present, the login's; nonce absent or the login's.
    """
    for name in ("iss", "sub"):
        if claims.get(name) != identity.get(name):
            raise IdTokenError("id_token.renewed_identity", detail=f"{name} changed")
    if _audience_set(claims) != _audience_set(identity) or _audience_set(claims) is None:
        raise IdTokenError("id_token.renewed_audience", detail="aud changed")
    if claims.get("azp") != identity.get("azp"):
        raise IdTokenError("id_token.renewed_audience", detail="azp changed")
    if "auth_time" in claims and "auth_time" in identity and (
            claims["auth_time"] != identity["auth_time"]):
        raise IdTokenError("id_token.renewed_auth_time", detail="auth_time changed")
    if "nonce" in claims and claims["nonce"] != identity.get("nonce"):
        raise IdTokenError("id_token.renewed_nonce", detail="nonce changed")


def _audience_set(claims: Mapping[str, Any]) -> frozenset[str] | None:
    audiences = audiences_of(claims)
    if audiences is None or not all(isinstance(a, str) for a in audiences):
        return None
    return frozenset(audiences)


def renew_at(session: StoredSession, margin: float) -> float:
    """When to renew (math.inf: renewing would move nothing): portable.record.renew_at,
    which the page's first lane uses to know when to start the full lane."""
    return record.renew_at({"access_token_expires_at": session.access_token_expires_at,
                            "expires_at": session.expires_at, "extendable": session.extendable,
                            "issued_at": session.issued_at}, margin)


def retry_renewal_at(error: AuthError, session: StoredSession | None, now: float) -> float:
    """When to try again after a renewal failed for a passing reason (not ended).

    Another tab's renewal in flight (BusyError) lands soon; other trouble (offline,
    provider down) is given longer, but less near the session's end, so that a few
    tries still fit before it.
    """
    if isinstance(error, BusyError):
        return now + BUSY_RETRY_SECONDS
    left = session.expires_at - now if session else 0.0
    return now + min(RENEW_RETRY_SECONDS, max(1.0, left / 4))


def same_login(a: StoredSession | None, b: StoredSession | None) -> bool:
    """Both are records of one login (its renewals keep its session_id); False if either
    is None: a renewal's result is adopted, or its failure acted on, only for that login."""
    return a is not None and b is not None and a.session_id == b.session_id


def refresh_form(client_id: str, refresh_token: str) -> dict[str, str]:
    """RFC 6749 6: a public client's refresh request."""
    return {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": client_id}


def login_session(tokens: TokenResponse, claims: Mapping[str, Any], profile: dict[str, Any],
                  *, now: float, default_scope: str, session_id: str) -> StoredSession:
    """The record of a new login, from its validated tokens."""
    return StoredSession(
        id_token=tokens.id_token,
        access_token=tokens.access_token,
        expires_at=float(claims["exp"]),
        access_token_expires_at=(now + tokens.expires_in) if tokens.expires_in else None,
        refresh_token=tokens.refresh_token,
        scope=tokens.scope or default_scope,
        profile=profile,
        issued_at=now,
        session_id=session_id,
        identity=identity_of(claims),
        token_type=tokens.token_type,
    )


def renewed_session(
    latest: StoredSession, tokens: TokenResponse, claims: Mapping[str, Any] | None, now: float
) -> StoredSession:
    """The session after a refresh answer, one generation on.

    `claims`: the validated renewed ID token's, or None when the answer had none.
    """
    access_expires = now + tokens.expires_in if tokens.expires_in else None
    if claims is not None:
        expires_at = float(claims["exp"])
    elif access_expires is not None:
        expires_at = access_expires
    else:
        expires_at = latest.expires_at
    return replace(
        latest,
        id_token=tokens.id_token or latest.id_token,
        access_token=tokens.access_token,
        expires_at=expires_at,
        access_token_expires_at=access_expires,
        refresh_token=tokens.refresh_token or latest.refresh_token,
        scope=tokens.scope or latest.scope,
        issued_at=now,
        generation=latest.generation + 1,
        extendable=expires_at > latest.expires_at,
    )


def with_new_refresh_token(latest: StoredSession, tokens: TokenResponse) -> StoredSession:
    """The session kept as it was but for the refresh token the provider just rotated.

    For a passing failure after the token answer (the signing keys could not be
    fetched): the old refresh token is spent, the new one is what the retry needs.
    """
    return replace(latest, refresh_token=tokens.refresh_token or latest.refresh_token,
                   generation=latest.generation + 1)


def is_alive(stored: StoredSession, claims: Mapping[str, Any], *, now: float, issuer: str,
             client_id: str) -> bool:
    """The tutorial's check on a kept session, made stricter (portable.record.is_alive,
    the first lane's check too): the ID token (already decoded) is this app's, and the
    session's end is the token's exp (or, after a renewal without an ID token, the later
    expiry of the access token) and ahead."""
    ends = {"expires_at": stored.expires_at,
            "access_token_expires_at": stored.access_token_expires_at}
    return record.is_alive(ends, dict(claims), now, issuer, client_id)


def is_kept_alive(stored: StoredSession, *, now: float, issuer: str, client_id: str) -> bool:
    """is_alive with the kept ID token decoded as the first lane decodes it (its signature
    was verified when it arrived); an unreadable one is not alive."""
    claims = record.token_claims(stored.id_token)
    return claims is not None and is_alive(stored, claims, now=now, issuer=issuer,
                                           client_id=client_id)
