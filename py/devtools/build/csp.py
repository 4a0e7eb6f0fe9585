"""The page's Content-Security-Policy, written into index.html by the build.

A <meta> policy (GitHub Pages cannot send headers) allowing only what the page
needs. Each source is there for a reason:
- script-src 'self': the vendored PyScript and Pyodide modules; no third party.
  'wasm-unsafe-eval': compiling Pyodide's WebAssembly.
  'unsafe-eval': PyScript 0.7.31's hook code calls Function(...); without it the
  page throws an EvalError and Python never runs.
- connect-src 'self' + the provider's origins: fetching the runtime, python.zip and
  auth_config.json from the site, then discovery (at the issuer's origin), and the
  token, userinfo, JWKS, end-session and revocation endpoints wherever the discovery
  document puts them (the build reads it when it can reach it; see
  `discovered_origins`); plus "cspOrigins", and the origins of "apiUrl" and
  "apiOrigins" when the settings name an API.
- img-src 'self' https: + the issuer's origin and "cspOrigins": avatars come from
  wherever the provider keeps them (Gravatar, a social network's CDN): unknowable at
  build time. Images cannot run code; plain http is allowed only for the provider
  itself (the local provider on loopback).
- style-src 'self' + the SHA-256 of the page's own <style> (the stylesheet the build
  writes into index.html: inline_style.py); no 'unsafe-inline'.
- everything else 'none' or 'self'; no inline script, no objects, no <base>, no forms.
"""

from __future__ import annotations

import http.client
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from oidc_spa.config import (
    ProviderMetadata,
    api_origins,
    auth0_metadata,
    csp_origins,
    parse_discovery,
    provider_issuer,
)
from oidc_spa.errors import ConfigError, DiscoveryError
from oidc_spa.portable.provider import discovery_url
from oidc_spa.portable.strict_json import MAX_JSON_CHARS

MARKER = "<!-- content-security-policy -->"
# The build waits this long for the provider's discovery document, then goes on without.
DISCOVERY_TIMEOUT_SECONDS = 3.0
# The endpoints the page fetches from (it navigates to the others, which connect-src
# does not govern); end-session too, should a page ever fetch it.
FETCHED_ENDPOINTS = ("token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint",
                     "revocation_endpoint", "auth0_logout_endpoint")


class PolicyError(ValueError):
    """The settings do not say which provider the page will talk to."""


def provider_origins(auth_config: Mapping[str, Any]) -> list[str]:
    """The origin the page's Python will fetch from, read by the library's own parser
    (oidc_spa.config), so a value the page would refuse never reaches the policy.

    Settings that name no provider get "https:": the page will refuse them anyway
    and say why, and a later hand-written auth_config.json can still work.
    """
    if "domain" not in auth_config and "issuer" not in auth_config:
        return ["https:"]
    try:
        issuer, _domain = provider_issuer(dict(auth_config))
    except ConfigError as error:
        raise PolicyError(error.user_message) from None
    return [origin_of(issuer)]


def settings_api_origins(auth_config: Mapping[str, Any]) -> list[str]:
    """The origins of apiUrl and apiOrigins, checked as the page checks them."""
    try:
        return list(api_origins(dict(auth_config)))
    except ConfigError as error:
        raise PolicyError(error.user_message) from None


def settings_csp_origins(auth_config: Mapping[str, Any]) -> list[str]:
    """cspOrigins, checked as the page checks them."""
    try:
        return list(csp_origins(dict(auth_config)))
    except ConfigError as error:
        raise PolicyError(error.user_message) from None


class Discovered(NamedTuple):
    """The provider's endpoint origins for the policy, and what the build should say."""

    origins: tuple[str, ...]
    note: str | None = None  # for stderr: why only the issuer's origin, or what was added


def fetch_text(url: str, timeout: float) -> str:
    """GET url as UTF-8 text (1 MB at most); OSError or ValueError when that fails."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return response.read(MAX_JSON_CHARS + 1).decode("utf-8")


def discovered_origins(
    auth_config: Mapping[str, Any] | None, *, read: bool = True,
    timeout: float = DISCOVERY_TIMEOUT_SECONDS, fetch: Callable[[str, float], str] = fetch_text,
) -> Discovered:
    """The origins of the endpoints the page will fetch from, as it will find them.

    Auth0 ("domain"): its fixed paths, no request. Any other provider ("issuer"): its
    discovery document, read now and checked by the library's own parser
    (oidc_spa.config.parse_discovery: the same issuer, https endpoints). When it cannot
    be read (offline build, provider not up, a document the page would refuse too), or
    is not to be (`read` false), the issuer's origin alone, and a note that says so and
    what to do.
    """
    if auth_config is None or ("domain" not in auth_config and "issuer" not in auth_config):
        return Discovered(())
    try:
        issuer, domain = provider_issuer(dict(auth_config))
    except ConfigError as error:
        raise PolicyError(error.user_message) from None
    if domain is not None:
        return Discovered(_endpoint_origins(auth0_metadata(domain)))
    url = discovery_url(issuer)
    try:
        if not read:
            raise OSError("not asked to: --no-discovery")
        metadata = parse_discovery(fetch(url, timeout), issuer)
    except (OSError, ValueError, http.client.HTTPException, DiscoveryError) as error:
        reason = str(error) or type(error).__name__
        return Discovered((origin_of(issuer),), (
            f"did not read the provider's discovery document {url} ({reason.rstrip('.')}): "
            f"the Content-Security-Policy lets the page reach the provider at its issuer's "
            f"origin {origin_of(issuer)} only. If its token, userinfo, JWKS, end-session or "
            'revocation endpoints live on other hosts, name them in "cspOrigins" in '
            "auth_config.json, or build where the provider can be reached."))
    origins = _endpoint_origins(metadata)
    others = [found for found in origins if found != origin_of(issuer)]
    note = None
    if others:
        note = ("the provider's discovery document puts endpoints on other origins than its "
                f"issuer's; the Content-Security-Policy allows them: {', '.join(others)}")
    return Discovered(origins, note)


def _endpoint_origins(metadata: ProviderMetadata) -> tuple[str, ...]:
    """The issuer's origin (where discovery is read), then the endpoints' origins."""
    urls = [metadata.issuer, *(getattr(metadata, name) for name in FETCHED_ENDPOINTS)]
    return tuple(dict.fromkeys(origin_of(url) for url in urls if url))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PolicyError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}".lower()


def content_security_policy(
    auth_config: Mapping[str, Any] | None, extra_origins: Iterable[str] = (),
    endpoint_origins: Iterable[str] = (), style_hashes: Iterable[str] = (),
) -> str:
    """The policy for these settings; without settings, connect-src allows any https origin.

    `endpoint_origins`: where the provider's endpoints are (`discovered_origins`);
    `extra_origins`: more origins the build was told of (--extra-origin);
    `style_hashes`: the page's own <style> elements ('sha256-…', inline_style.py)."""
    extra = [origin_of(url) for url in extra_origins]
    provider = provider_origins(auth_config) if auth_config is not None else ["https:"]
    if auth_config is not None:
        extra += settings_csp_origins(auth_config)
        extra += settings_api_origins(auth_config)  # where session.fetch may call
    endpoints = [origin_of(url) for url in endpoint_origins]
    connect = " ".join(dict.fromkeys(["'self'", *provider, *endpoints, *extra]))
    images = " ".join(dict.fromkeys(["'self'", "https:", *provider, *extra]))
    directives = {
        "default-src": "'self'",
        "script-src": "'self' 'wasm-unsafe-eval' 'unsafe-eval'",
        "style-src": " ".join(["'self'", *style_hashes]),
        "connect-src": connect,
        "img-src": images,
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def insert_policy(html: str, policy: str) -> str:
    """index.html with the marker replaced by the policy's <meta> tag (which must exist)."""
    if html.count(MARKER) != 1:
        raise PolicyError(f"index.html must contain {MARKER} exactly once, before any script")
    # Escaped although every origin was checked: the attribute must hold whatever comes.
    tag = f'<meta http-equiv="Content-Security-Policy" content="{_attribute(policy)}">'
    return html.replace(MARKER, tag)


def _attribute(value: str) -> str:
    """Text safe inside a double-quoted HTML attribute; the policy's quotes stay readable."""
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
