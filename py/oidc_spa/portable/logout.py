"""What a logout sends the browser to: the provider's end-session URL (RP-Initiated
Logout 1.0, or Auth0's /v2/logout), and the revocation form (RFC 7009)."""

from .urls import with_query


def provider_logout_url(endpoints: dict, client_id: str, redirect_uri: str,
                        id_token: str | None) -> str | None:
    """Where the provider ends its own session too; None when it has no such endpoint."""
    if endpoints.get("auth0_logout_endpoint"):
        return with_query(endpoints["auth0_logout_endpoint"],
                          [("client_id", client_id), ("returnTo", redirect_uri)])
    if not endpoints.get("end_session_endpoint"):
        return None
    params = [("client_id", client_id), ("post_logout_redirect_uri", redirect_uri)]
    if id_token:
        params.insert(0, ("id_token_hint", id_token))
    return with_query(endpoints["end_session_endpoint"], params)


def revocation_form(client_id: str, refresh_token: str) -> list:
    """RFC 7009 2.1 for a public client: revoking the refresh token ends its grant, so
    a copy taken earlier (by a script on the same origin) stops working too."""
    return [("token", refresh_token), ("token_type_hint", "refresh_token"),
            ("client_id", client_id)]
