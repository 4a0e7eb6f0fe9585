"""What a logout sends to the provider: the end-session URL and the revocation requests."""

from __future__ import annotations

from urllib.parse import urlencode

from .config import ProviderMetadata, Settings
from .store import StoredSession


def provider_logout_url(
    metadata: ProviderMetadata, settings: Settings, id_token: str | None
) -> str | None:
    """Where to send the browser so the provider ends its own session too (RP-Initiated
    Logout 1.0, or Auth0's /v2/logout); None when the provider has no such endpoint."""
    if metadata.auth0_logout_endpoint:
        query = {"client_id": settings.client_id, "returnTo": settings.redirect_uri}
        return f"{metadata.auth0_logout_endpoint}?{urlencode(query)}"
    if metadata.end_session_endpoint is None:
        return None
    query = {"client_id": settings.client_id,
             "post_logout_redirect_uri": settings.redirect_uri}
    if id_token:
        query = {"id_token_hint": id_token, **query}
    separator = "&" if "?" in metadata.end_session_endpoint else "?"
    return f"{metadata.end_session_endpoint}{separator}{urlencode(query)}"


def revocation_form(client_id: str, refresh_token: str) -> dict[str, str]:
    """RFC 7009 2.1 for a public client: revoking the refresh token ends its grant, so
    a copy taken earlier (by a script on the same origin) stops working too."""
    return {"token": refresh_token, "token_type_hint": "refresh_token",
            "client_id": client_id}


def refresh_tokens_to_revoke(*sessions: StoredSession | None) -> list[str]:
    """The refresh tokens of the sessions a logout ends, each once, in order.

    The kept session and the one this tab knew may differ (another tab renewed, or
    logged in anew meanwhile): both grants end, so neither token outlives the logout.
    """
    return list(dict.fromkeys(s.refresh_token for s in sessions if s and s.refresh_token))


def id_token_hint(kept: StoredSession | None, ours: StoredSession | None) -> str | None:
    """The ID token to name at the provider's logout: the kept session's (the latest
    login or renewal), else the one this tab knew; None when there is neither."""
    last = kept or ours
    return last.id_token if last else None
