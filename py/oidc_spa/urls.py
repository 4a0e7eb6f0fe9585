"""Small URL helpers shared by the settings, the authorization request and the callback."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

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


def token_destination_problem(url: str, allowed_origins: tuple[str, ...]) -> str | None:
    """Why an access token must not be sent to `url`, in words; None when it may.

    Only over https (or http on this machine), and only to the origins the settings
    name: a token sent anywhere else can be replayed by whoever receives it.
    """
    if is_secure_url(url) and origin(url) in allowed_origins:
        return None
    if not is_secure_url(url):
        reason = "the access token travels only over https (or http on this computer)"
    elif not allowed_origins:
        reason = 'no API is set up: name it with "apiUrl" or "apiOrigins" in auth_config.json'
    else:
        reason = f"only to {', '.join(allowed_origins)} (\"apiOrigins\" in auth_config.json)"
    return f"This app may not send your access token to {origin(url)}: {reason}."
