"""The authorization request, and checking the response the browser comes back with.

Authorization Code flow with PKCE (S256) only, as RFC 9700 2.1.1 asks of browser
apps. Everything that arrives in the URL is treated as hostile until checked
against the login this app started itself.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from .config import ProviderMetadata, Settings
from .errors import CallbackError, ProviderError
from .pkce import random_bytes
from .portable import login
from .portable.login import RESPONSE_PARAMETERS, TRANSACTION_LIFETIME_SECONDS
from .portable.urls import without_parameters

__all__ = ["RESPONSE_PARAMETERS", "TRANSACTION_LIFETIME_SECONDS", "CallbackResponse",
           "LoginTransaction", "authorization_url", "check_callback", "read_callback",
           "safe_return_to", "url_without_response"]


class LoginTransaction(NamedTuple):
    """What is remembered between sending the browser away and its return."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    return_to: str
    created_at: float

    @classmethod
    def start(cls, settings: Settings, return_to: str, now: float,
              redirect_uri: str | None = None) -> LoginTransaction:
        """`redirect_uri`: this login's own (a popup's), else the settings'."""
        return cls(**login.new_transaction(random_bytes, redirect_uri or settings.redirect_uri,
                                           return_to, now))

    def to_data(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_data(cls, data: object) -> LoginTransaction | None:
        """The stored transaction, or None when the stored value is not one."""
        checked = login.read_transaction(data)
        return cls(**checked) if checked is not None else None

    def is_expired(self, now: float) -> bool:
        return login.is_expired(self._asdict(), now)


def authorization_url(
    metadata: ProviderMetadata, settings: Settings, transaction: LoginTransaction
) -> str:
    """The URL that starts the login at the provider (portable.login builds it)."""
    return login.authorization_url(metadata.authorization_endpoint, settings.client_id,
                                   settings.scope, settings.audience, transaction._asdict(),
                                   settings.authorization_params)


class CallbackResponse(NamedTuple):
    """The authorization response parameters found in the page URL."""

    state: str | None
    code: str | None
    iss: str | None
    error: str | None
    error_description: str | None


def read_callback(url: str) -> CallbackResponse | None:
    """The authorization response in the query, or None when the URL is not a callback."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    if not any(name in ("code", "error") for name, _ in pairs):
        return None
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)

    def single(name: str) -> str | None:
        found = values.get(name)
        if not found:
            return None
        if len(found) > 1:
            # RFC 6749 3.1: parameters must not be repeated; a repeat smells of injection.
            raise CallbackError("callback.malformed", detail=f"parameter {name} repeated")
        return found[0]

    return CallbackResponse(
        state=single("state"),
        code=single("code"),
        iss=single("iss"),
        error=single("error"),
        error_description=single("error_description"),
    )


def check_callback(
    response: CallbackResponse,
    transaction: LoginTransaction | None,
    metadata: ProviderMetadata,
    now: float,
) -> str:
    """The authorization code, once the response is proven to answer our own login."""
    if not response.state:
        raise CallbackError("callback.state_missing")
    if transaction is None:
        raise CallbackError("callback.state_unknown")
    if transaction.is_expired(now):
        raise CallbackError("callback.expired")
    # RFC 9207: the issuer identifier defends against mix-up attacks.
    if response.iss is not None and response.iss != metadata.issuer:
        raise CallbackError("callback.issuer", detail=f"iss={response.iss!r}")
    if response.iss is None and metadata.iss_parameter_supported:
        raise CallbackError("callback.issuer_missing")
    if response.error is not None:
        raise ProviderError(response.error, response.error_description or "")
    if not response.code:
        raise CallbackError("callback.code_missing")
    return response.code


def url_without_response(url: str) -> str:
    """The page URL with the authorization response parameters removed."""
    return without_parameters(url, RESPONSE_PARAMETERS)


def safe_return_to(candidate: str, fallback: str) -> str:
    """Where to go after login: only an address on the page's own origin, else the page."""
    return login.safe_return_to(candidate, fallback)
