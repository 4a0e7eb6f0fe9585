"""Small URL helpers shared by the settings, the authorization request and the callback."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from .errors import DestinationError

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in _LOOPBACK_HOSTS


def is_secure_url(url: str) -> bool:
    """https anywhere, or plain http on this machine only (a local provider or server)."""
    parts = urlsplit(url)
    if not parts.netloc or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(url))


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def without_query_and_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def default_redirect_uri(page_url: str) -> str:
    """The page's own address, with a trailing index.html dropped.

    /app/ and /app/index.html are the same page; providers compare redirect URIs
    exactly, so one spelling is used whichever the visitor typed.
    """
    base = without_query_and_fragment(page_url)
    if base.endswith("/index.html"):
        base = base[: -len("index.html")]
    return base


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
