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
session.fetch may send the access token to; apiUrl's origin is always allowed).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .errors import ConfigError, DiscoveryError
from .safe_json import json_object, parse_json
from .urls import default_redirect_uri, is_secure_url, origin

DEFAULT_SCOPE = "openid profile email"
DEFAULT_LEEWAY_SECONDS = 60
DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_RENEW_MARGIN_SECONDS = 60.0

_KNOWN_KEYS = frozenset(
    {"domain", "issuer", "clientId", "audience", "scope", "redirectUri", "leeway", "timeout",
     "renew", "renewMargin", "apiUrl", "apiOrigins"}
)
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN = re.compile(r"https?://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?")
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*(:\d{{1,5}})?$")


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

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


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


def parse_settings(text: str | None, page_url: str) -> Settings:
    """Read auth_config.json's text; raise ConfigError with a clear sentence if it is wrong."""
    if text is None:
        raise ConfigError("config.missing")
    raw = parse_json(text)
    if raw is None:
        raise ConfigError("config.not_json")
    if not isinstance(raw, dict):
        raise ConfigError("config.not_object")
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError("config.unknown_settings", unknown=", ".join(unknown),
                          known=", ".join(sorted(_KNOWN_KEYS)))
    client_id = _required_text(raw, "clientId")
    issuer, domain = provider_issuer(raw)
    return Settings(
        client_id=client_id,
        issuer=issuer,
        auth0_domain=domain,
        redirect_uri=_redirect_uri(raw, page_url),
        scope=_scope(raw),
        audience=_optional_text(raw, "audience"),
        leeway=int(_number(raw, "leeway", DEFAULT_LEEWAY_SECONDS, low=0, high=600)),
        timeout=_number(raw, "timeout", DEFAULT_TIMEOUT_SECONDS, low=1, high=120),
        renew=_flag(raw, "renew", default=True),
        renew_margin=_number(raw, "renewMargin", DEFAULT_RENEW_MARGIN_SECONDS, low=1, high=3600),
        api_url=_api_url(raw),
        api_origins=api_origins(raw),
    )


def auth0_metadata(domain: str) -> ProviderMetadata:
    """Auth0's fixed endpoint paths for a tenant domain."""
    base = f"https://{domain}"
    return ProviderMetadata(
        issuer=f"{base}/",
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/oauth/token",
        userinfo_endpoint=f"{base}/userinfo",
        jwks_uri=f"{base}/.well-known/jwks.json",
        auth0_logout_endpoint=f"{base}/v2/logout",
        revocation_endpoint=f"{base}/oauth/revoke",
        signing_algorithms=("RS256",),
    )


def parse_discovery(text: str, expected_issuer: str) -> ProviderMetadata:
    """Check a discovery document (OpenID Connect Discovery 1.0, section 4.3)."""
    doc = json_object(text)
    if doc is None:
        raise DiscoveryError("discovery.not_json")
    if doc.get("issuer") != expected_issuer:
        raise DiscoveryError(
            "discovery.issuer",
            detail=f"expected {expected_issuer!r}, got {doc.get('issuer')!r}",
        )
    endpoints = {
        name: _endpoint(doc, name, required)
        for name, required in (
            ("authorization_endpoint", True),
            ("token_endpoint", True),
            ("jwks_uri", True),
            ("userinfo_endpoint", False),
            ("end_session_endpoint", False),
            ("revocation_endpoint", False),
        )
    }
    algorithms = doc.get("id_token_signing_alg_values_supported", ["RS256"])
    if not isinstance(algorithms, list) or not all(isinstance(a, str) for a in algorithms):
        algorithms = ["RS256"]
    return ProviderMetadata(
        issuer=expected_issuer,
        iss_parameter_supported=doc.get("authorization_response_iss_parameter_supported") is True,
        signing_algorithms=tuple(algorithms),
        **endpoints,
    )


def _endpoint(doc: dict[str, Any], name: str, required: bool) -> str | None:
    value = doc.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not is_secure_url(value):
        raise DiscoveryError("discovery.endpoint", detail=f"{name}={value!r}")
    return value


def provider_issuer(raw: dict[str, Any]) -> tuple[str, str | None]:
    """The issuer and, for the Auth0 form, the tenant domain; ConfigError if unclear."""
    if ("domain" in raw) == ("issuer" in raw):
        raise ConfigError("config.provider_choice")
    if "domain" in raw:
        domain = _required_text(raw, "domain").lower()
        if not _HOSTNAME.match(domain):
            raise ConfigError("config.domain")
        return f"https://{domain}/", domain
    issuer = _required_text(raw, "issuer")
    if not is_secure_url(issuer) or "?" in issuer or "#" in issuer:
        raise ConfigError("config.issuer")
    return issuer, None


def _redirect_uri(raw: dict[str, Any], page_url: str) -> str:
    if "redirectUri" not in raw:
        return default_redirect_uri(page_url)
    value = _required_text(raw, "redirectUri")
    if not is_secure_url(value) or "#" in value:
        raise ConfigError("config.redirect_uri")
    if origin(value) != origin(page_url):
        raise ConfigError("config.redirect_uri_site", origin=origin(page_url))
    return value


def _api_url(raw: dict[str, Any]) -> str | None:
    if "apiUrl" not in raw:
        return None
    value = _required_text(raw, "apiUrl")
    if not is_secure_url(value):
        raise ConfigError("config.api_url")
    return value


def api_origins(raw: dict[str, Any]) -> tuple[str, ...]:
    """Where session.fetch may send the access token: apiUrl's origin and apiOrigins."""
    api_url = _api_url(raw)
    origins = [origin(api_url)] if api_url else []
    extra = raw.get("apiOrigins", [])
    if not isinstance(extra, list) or not all(isinstance(item, str) for item in extra):
        raise ConfigError("config.api_origins")
    for item in extra:
        if (not _ORIGIN.fullmatch(item.rstrip("/")) or not is_secure_url(item)
                or item.rstrip("/") != origin(item)):
            raise ConfigError("config.api_origin", entry=item)
        origins.append(origin(item))
    return tuple(dict.fromkeys(origins))


def _flag(raw: dict[str, Any], key: str, *, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError("config.not_boolean", key=key)
    return value


def _scope(raw: dict[str, Any]) -> str:
    if "scope" not in raw:
        return DEFAULT_SCOPE
    scopes = _required_text(raw, "scope").split()
    if "openid" not in scopes:
        raise ConfigError("config.scope_openid")
    return " ".join(dict.fromkeys(scopes))


def _required_text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("config.not_text", key=key)
    if value != value.strip() or any(ord(c) < 0x20 for c in value):
        raise ConfigError("config.untrimmed", key=key)
    return value


def _optional_text(raw: dict[str, Any], key: str) -> str | None:
    return _required_text(raw, key) if key in raw else None


def _number(raw: dict[str, Any], key: str, default: float, *, low: float, high: float) -> float:
    if key not in raw:
        return default
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError("config.out_of_range", key=key, low=low, high=high)
    return float(value)
