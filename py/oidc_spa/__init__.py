"""OpenID Connect login sessions for Python in the browser.

The pure-Python core (config, authorize, tokens, renewal, store, session) runs anywhere;
`oidc_spa.browser` connects it to a page (localStorage, fetch, WebCrypto, Web Locks).
"""

from .config import ProviderMetadata, Settings, parse_settings
from .errors import (
    AuthError,
    BusyError,
    CallbackError,
    ConfigError,
    DestinationError,
    DiscoveryError,
    IdTokenError,
    NetworkError,
    NotAuthenticatedError,
    ProviderError,
    SessionEndedError,
    TokenError,
    UnreadableAnswerError,
    UserInfoError,
)
from .messages import MESSAGES
from .session import Session, SessionChange, StartResult
from .store import MemoryStorage, Storage

__all__ = [
    "MESSAGES",
    "AuthError",
    "BusyError",
    "CallbackError",
    "ConfigError",
    "DestinationError",
    "DiscoveryError",
    "IdTokenError",
    "MemoryStorage",
    "NetworkError",
    "NotAuthenticatedError",
    "ProviderError",
    "ProviderMetadata",
    "Session",
    "SessionChange",
    "SessionEndedError",
    "Settings",
    "StartResult",
    "Storage",
    "TokenError",
    "UnreadableAnswerError",
    "UserInfoError",
    "parse_settings",
]
