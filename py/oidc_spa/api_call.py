"""Calling the app's API with the access token: what is sent, and when to go on or retry.

Where the token may go is urls.check_token_destination's decision; Session.fetch does
the I/O (the renewals and the request) in the order these functions allow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .dpop import Binder
from .errors import AuthError, SessionEndedError
from .store import StoredSession
from .transport import Http, HttpResponse


async def call_with_token(http: Http, dpop: Binder, session: StoredSession, method: str,
                          url: str, *, headers: Mapping[str, str] | None, body: str | None,
                          timeout: float) -> HttpResponse:
    """One API call with the session's access token: as a Bearer token, or for DPoP-bound
    tokens as a DPoP credential with a proof of the login's key (RFC 9449 7), retried once
    when the API asks for its nonce."""
    if session.token_type != "DPoP":
        return await http.request(method, url, headers=bearer_headers(headers,
                                                                      session.access_token),
                                  body=body, timeout=timeout)
    return await dpop.send(
        lambda added: http.request(method, url, headers={**(headers or {}), **added},
                                   body=body, timeout=timeout),
        await dpop.prover(session.session_id), method, url, access_token=session.access_token)


def bearer_headers(headers: Mapping[str, str] | None, access_token: str) -> dict[str, str]:
    """The caller's headers with the access token as a Bearer token (RFC 6750 2.1); it
    replaces an Authorization header the caller set."""
    return {**(headers or {}), "Authorization": f"Bearer {access_token}"}


def access_token_expired(session: StoredSession | None, now: float) -> bool:
    """No token to send, or its expiry has passed; a token whose lifetime the provider
    did not say (no `expires_in`) lasts as long as the session."""
    if session is None:
        return True
    return now >= (session.access_token_expires_at or math.inf)


def calls_after_failed_renewal(error: AuthError, session: StoredSession | None,
                               now: float) -> bool:
    """Whether to call the API anyway when the renewal before the call failed.

    Yes after a passing failure (offline, provider down, another tab busy) while the
    access token still works: the call goes through and the tick renews later. Never
    once the provider ended the session.
    """
    return not isinstance(error, SessionEndedError) and not access_token_expired(session, now)


def retries_after(status: int, renewable: bool) -> bool:
    """A 401 (RFC 6750 3.1: the token was refused, perhaps revoked or expired early) is
    worth one forced renewal and one more call, when the session can renew."""
    return status == 401 and renewable
