"""Where an access token may go; the URL helpers themselves are portable.urls's."""

from __future__ import annotations

from .errors import DestinationError
from .portable.urls import (
    default_redirect_uri,
    is_loopback,
    is_secure_url,
    origin,
    without_query_and_fragment,
)

# One set of URL rules for both lanes: portable.urls (no urllib there).
__all__ = ["check_token_destination", "default_redirect_uri", "is_loopback", "is_secure_url",
           "origin", "token_destination_problem", "without_query_and_fragment"]


def check_token_destination(url: str, allowed_origins: tuple[str, ...]) -> None:
    """DestinationError unless an access token may be sent to `url`."""
    code = token_destination_problem(url, allowed_origins)
    if code is not None:
        raise DestinationError(code, detail=url, origin=origin(url),
                               allowed=", ".join(allowed_origins))


def token_destination_problem(url: str, allowed_origins: tuple[str, ...]) -> str | None:
    """Why an access token must not be sent to `url`, as a code of MESSAGES (its
    fields: `origin`, `allowed`); None when it may.

    Only over https (or http on this machine), and only to the origins the settings
    name: a token sent anywhere else can be replayed by whoever receives it.
    """
    if is_secure_url(url) and origin(url) in allowed_origins:
        return None
    if not is_secure_url(url):
        return "fetch.insecure_url"
    if not allowed_origins:
        return "fetch.no_api"
    return "fetch.origin_not_allowed"
