"""Settings from auth_config.json, and the provider endpoints they lead to.

Two forms are accepted:
- Auth0: {"domain": "TENANT.auth0.com", "clientId": "...", "audience": "..."}
  Endpoints are Auth0's fixed paths; no discovery request is needed.
- Any OpenID provider: {"issuer": "https://...", "clientId": "..."}
  Endpoints come from ISSUER/.well-known/openid-configuration.
Optional in both: "scope" (default "openid profile email"), "redirectUri"
(default: the page's own address), "leeway" (seconds of clock skew accepted,
default 60), "timeout" (seconds per request to the provider, default 15),
"renew" (renew tokens in the background with the refresh token, default true),
"renewMargin" (seconds before expiry to renew, default 60), "apiUrl" (an API the
sample page calls with the access token), "apiOrigins" (more origins that
session.fetch may send the access token to; apiUrl's origin is always allowed),
"fullLane" (when a two-lane page starts Pyodide: "eager", "idle" (default) or
"on-demand"), "authorizationParams" (more parameters for the authorization request:
prompt, max_age, login_hint, ui_locales, acr_values, a provider's own; never those the
library sends itself), "cspOrigins" (more origins for the built page's
Content-Security-Policy). The rules themselves are oidc_spa.portable.settings.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .errors import ConfigError, DiscoveryError
from .portable import provider, settings
from .portable.problem import Problem
from .portable.settings import (
    DEFAULT_FULL_LANE,
    DEFAULT_LEEWAY_SECONDS,
    DEFAULT_RENEW_MARGIN_SECONDS,
    DEFAULT_SCOPE,
    DEFAULT_TIMEOUT_SECONDS,
)


# Value records here are NamedTuples, not dataclasses: in the page a frozen dataclass
# costs about 2 ms to define (it compiles its methods from source at import), a
# NamedTuple a tenth of that, and every one of them is defined on every page load.
class Settings(NamedTuple):
    """Validated settings for one app (one client id at one provider)."""

    client_id: str
    issuer: str
    redirect_uri: str
    scope: str = DEFAULT_SCOPE
    audience: str | None = None
    auth0_domain: str | None = None
    leeway: int = DEFAULT_LEEWAY_SECONDS
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    renew: bool = True
    renew_margin: float = DEFAULT_RENEW_MARGIN_SECONDS
    api_url: str | None = None
    # Origins session.fetch may send the access token to (https, or http on loopback).
    api_origins: tuple[str, ...] = ()
    # When the page's full lane (Pyodide) starts: "eager", "idle" or "on-demand".
    full_lane: str = DEFAULT_FULL_LANE
    # DPoP (RFC 9449): True (required), False, or "auto" (when discovery offers ES256).
    dpop: bool | str = "auto"
    # More authorization request parameters, (name, value) pairs sorted by name.
    authorization_params: tuple[tuple[str, str], ...] = ()
    # More origins for the built page's Content-Security-Policy (the build reads them).
    csp_origins: tuple[str, ...] = ()

    @property
    def discovery_url(self) -> str:
        return provider.discovery_url(self.issuer)

    @property
    def max_age(self) -> int | None:
        """authorizationParams' max_age (seconds): the login's ID token must then say
        when the user signed in (auth_time), no longer ago than this."""
        return settings.max_age_of(self.authorization_params)


class ProviderMetadata(NamedTuple):
    """The endpoints this app talks to, all checked to be https (or loopback http)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None
    # Auth0 ends sessions at /v2/logout with client_id and returnTo.
    auth0_logout_endpoint: str | None = None
    # RFC 7009: where a logout revokes the refresh token.
    revocation_endpoint: str | None = None
    # RFC 9207: when the provider says it sends `iss`, a callback without it is refused.
    iss_parameter_supported: bool = False
    signing_algorithms: tuple[str, ...] = ("RS256",)
    # RFC 9449 5.1: the proof algorithms the provider takes; () when it has no DPoP.
    dpop_algorithms: tuple[str, ...] = ()


def parse_settings(text: str | None, page_url: str) -> Settings:
    """Read auth_config.json's text; raise ConfigError with a clear sentence if it is wrong.

    The rules are `portable.settings`, which the page's first lane runs too."""
    try:
        return Settings(**settings.read_settings(text, page_url))
    except Problem as problem:
        raise ConfigError(problem.code, detail=problem.detail, **problem.params) from None


def auth0_metadata(domain: str) -> ProviderMetadata:
    """Auth0's fixed endpoint paths for a tenant domain."""
    return ProviderMetadata(**provider.auth0_endpoints(domain))


def parse_discovery(text: str, expected_issuer: str) -> ProviderMetadata:
    """Check a discovery document (OpenID Connect Discovery 1.0, section 4.3)."""
    try:
        return ProviderMetadata(**provider.read_discovery(text, expected_issuer))
    except Problem as problem:
        raise DiscoveryError(problem.code, detail=problem.detail, **problem.params) from None


def provider_issuer(raw: dict[str, Any]) -> tuple[str, str | None]:
    """The issuer and, for the Auth0 form, the tenant domain; ConfigError if unclear."""
    try:
        return settings.provider_issuer(raw)
    except Problem as problem:
        raise ConfigError(problem.code, **problem.params) from None


def api_origins(raw: dict[str, Any]) -> tuple[str, ...]:
    """Where session.fetch may send the access token: apiUrl's origin and apiOrigins."""
    try:
        return settings.api_origins(raw)
    except Problem as problem:
        raise ConfigError(problem.code, **problem.params) from None


def csp_origins(raw: dict[str, Any]) -> tuple[str, ...]:
    """cspOrigins, checked as the page checks them; ConfigError if wrong."""
    try:
        return settings.csp_origins(raw)
    except Problem as problem:
        raise ConfigError(problem.code, **problem.params) from None
