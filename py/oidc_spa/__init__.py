"""OpenID Connect login sessions for Python in the browser.

The pure-Python core (config, authorize, tokens, renewal, store, session) runs anywhere;
`oidc_spa.browser` connects it to a page (localStorage, fetch, WebCrypto, Web Locks) and
is not imported here: it needs Pyodide's `js`. In a page:

    from oidc_spa.browser import create_session, keep_in_step, start_on_page

`__all__` below is the whole public API of the core; `oidc_spa.browser.__all__` the page's.
`oidc_spa.portable` holds the rules that also run on MicroPython (see its docstring).
"""

import sys

# MicroPython (the page's first lane) imports only oidc_spa.portable, which needs
# none of the modules below (PyJWT among them).
if sys.implementation.name != "micropython":
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
        PopupError,
        ProviderError,
        SessionEndedError,
        TokenError,
        UnreadableAnswerError,
        UserInfoError,
    )
    from .lock import LocalLock, Lock, LockTimeout
    from .messages import MESSAGES
    from .session import Session, SessionChange, StartResult
    from .store import FallbackStorage, MemoryStorage, Storage
    from .tokens import SignatureVerifier
    from .transport import Http, HttpResponse
    from .urls import is_secure_url

__all__ = [
    "MESSAGES",
    "AuthError",
    "BusyError",
    "CallbackError",
    "ConfigError",
    "DestinationError",
    "DiscoveryError",
    "FallbackStorage",
    "Http",
    "HttpResponse",
    "IdTokenError",
    "LocalLock",
    "Lock",
    "LockTimeout",
    "MemoryStorage",
    "NetworkError",
    "NotAuthenticatedError",
    "PopupError",
    "ProviderError",
    "ProviderMetadata",
    "Session",
    "SessionChange",
    "SessionEndedError",
    "Settings",
    "SignatureVerifier",
    "StartResult",
    "Storage",
    "TokenError",
    "UnreadableAnswerError",
    "UserInfoError",
    "is_secure_url",
    "parse_settings",
]
