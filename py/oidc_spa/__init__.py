"""OpenID Connect login sessions for Python in the browser.

The pure-Python core (config, authorize, tokens, store, session) runs anywhere;
`oidc_spa.browser` connects it to a page (localStorage, fetch, WebCrypto).
"""

from .config import ProviderMetadata, Settings, parse_settings
from .errors import (
    AuthError,
    CallbackError,
    ConfigError,
    DiscoveryError,
    IdTokenError,
    NetworkError,
    NotAuthenticatedError,
    ProviderError,
    TokenError,
    UserInfoError,
)
from .session import Session, StartResult
from .store import MemoryStorage, Storage

__all__ = [
    "AuthError",
    "CallbackError",
    "ConfigError",
    "DiscoveryError",
    "IdTokenError",
    "MemoryStorage",
    "NetworkError",
    "NotAuthenticatedError",
    "ProviderError",
    "ProviderMetadata",
    "Session",
    "Settings",
    "StartResult",
    "Storage",
    "TokenError",
    "UserInfoError",
    "parse_settings",
]
