"""The authorization request, and checking the response the browser comes back with.

Authorization Code flow with PKCE (S256) only, as RFC 9700 2.1.1 asks of browser
apps. Everything that arrives in the URL is treated as hostile until checked
against the login this app started itself.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .config import ProviderMetadata, Settings
from .errors import CallbackError, ProviderError
from .pkce import make_code_verifier, random_token, s256_code_challenge
from .urls import origin

# How long a started login may take before its callback is refused.
TRANSACTION_LIFETIME_SECONDS = 15 * 60

# Parameters of an authorization response (RFC 6749 4.1.2 and 4.1.2.1, RFC 9207,
# OpenID Session Management); they are removed from the address bar afterwards.
RESPONSE_PARAMETERS = frozenset(
    {"code", "state", "iss", "error", "error_description", "error_uri", "session_state"}
)


class LoginTransaction(NamedTuple):
    """What is remembered between sending the browser away and its return."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    return_to: str
    created_at: float

    @classmethod
    def start(cls, settings: Settings, return_to: str, now: float) -> LoginTransaction:
        return cls(
            state=random_token(),
            nonce=random_token(),
            code_verifier=make_code_verifier(),
            redirect_uri=settings.redirect_uri,
            return_to=safe_return_to(return_to, settings.redirect_uri),
            created_at=now,
        )

    def to_data(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_data(cls, data: object) -> LoginTransaction | None:
        """The stored transaction, or None when the stored value is not one."""
        if not isinstance(data, dict):
            return None
        try:
            transaction = cls(**data)
        except TypeError:
            return None
        fields = (transaction.state, transaction.nonce, transaction.code_verifier,
                  transaction.redirect_uri, transaction.return_to)
        if not all(isinstance(value, str) and value for value in fields):
            return None
        if isinstance(transaction.created_at, bool) or not isinstance(
            transaction.created_at, int | float
        ):
            return None
        return transaction

    def is_expired(self, now: float) -> bool:
        return not 0 <= now - self.created_at <= TRANSACTION_LIFETIME_SECONDS


def authorization_url(
    metadata: ProviderMetadata, settings: Settings, transaction: LoginTransaction
) -> str:
    """The URL that starts the login at the provider."""
    params = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": transaction.redirect_uri,
        "scope": settings.scope,
        "state": transaction.state,
        "nonce": transaction.nonce,
        "code_challenge": s256_code_challenge(transaction.code_verifier),
        "code_challenge_method": "S256",
    }
    if settings.audience:
        params["audience"] = settings.audience
    return _with_query(metadata.authorization_endpoint, params)


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
    parts = urlsplit(url)
    kept = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name not in RESPONSE_PARAMETERS
    ]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def safe_return_to(candidate: str, fallback: str) -> str:
    """Where to go after login: only an address on the page's own origin, else the page."""
    parts = urlsplit(candidate)
    if parts.scheme not in ("http", "https") or origin(candidate) != origin(fallback):
        return fallback
    if "\\" in candidate or any(ord(c) < 0x20 for c in candidate):
        return fallback
    return url_without_response(candidate) if parts.query else candidate


def _with_query(endpoint: str, params: dict[str, str]) -> str:
    parts = urlsplit(endpoint)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
