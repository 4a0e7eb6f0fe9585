"""The page's Content-Security-Policy, written into index.html by the build.

A <meta> policy (GitHub Pages cannot send headers) allowing only what the page
needs. Each source is there for a reason:
- script-src 'self': the vendored PyScript and Pyodide modules; no third party.
  'wasm-unsafe-eval': compiling Pyodide's WebAssembly.
  'unsafe-eval': PyScript 0.7.31's hook code calls Function(...); without it the
  page throws an EvalError and Python never runs.
- connect-src 'self' + the provider's origin: fetching the runtime, python.zip and
  auth_config.json from the site, then discovery, JWKS, token and userinfo; plus the
  origin of "apiUrl" when the settings name an API.
- img-src 'self' https: + the provider's origin: avatars come from wherever the
  provider keeps them (Gravatar, a social network's CDN): unknowable at build time.
  Images cannot run code; plain http is allowed only for the provider itself
  (the local provider on loopback).
- everything else 'none' or 'self'; no inline script, no objects, no <base>, no forms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from oidc_spa.config import api_origins, provider_issuer
from oidc_spa.errors import ConfigError

MARKER = "<!-- content-security-policy -->"


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


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PolicyError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}".lower()


def content_security_policy(
    auth_config: Mapping[str, Any] | None, extra_origins: Iterable[str] = ()
) -> str:
    """The policy for these settings; without settings, connect-src allows any https origin."""
    extra = [origin_of(url) for url in extra_origins]
    provider = provider_origins(auth_config) if auth_config is not None else ["https:"]
    if auth_config is not None:
        extra += settings_api_origins(auth_config)  # where session.fetch may call
    connect = " ".join(dict.fromkeys(["'self'", *provider, *extra]))
    images = " ".join(dict.fromkeys(["'self'", "https:", *provider, *extra]))
    directives = {
        "default-src": "'self'",
        "script-src": "'self' 'wasm-unsafe-eval' 'unsafe-eval'",
        "style-src": "'self'",
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
