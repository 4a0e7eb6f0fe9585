"""Where the provider's endpoints are: Auth0's fixed paths, or a checked discovery document.

Answers dicts with the fields of `oidc_spa.config.ProviderMetadata`; a discovery
document that cannot be used raises Problem (codes discovery.*).
"""

from .problem import Problem
from .strict_json import json_object
from .urls import is_secure_url

_ENDPOINTS = (
    ("authorization_endpoint", True),
    ("token_endpoint", True),
    ("jwks_uri", True),
    ("userinfo_endpoint", False),
    ("end_session_endpoint", False),
    ("revocation_endpoint", False),
)


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def auth0_endpoints(domain: str) -> dict:
    """Auth0's fixed endpoint paths for a tenant domain (no discovery request needed)."""
    base = "https://" + domain
    return {
        "issuer": base + "/",
        "authorization_endpoint": base + "/authorize",
        "token_endpoint": base + "/oauth/token",
        "userinfo_endpoint": base + "/userinfo",
        "jwks_uri": base + "/.well-known/jwks.json",
        "end_session_endpoint": None,
        "auth0_logout_endpoint": base + "/v2/logout",
        "revocation_endpoint": base + "/oauth/revoke",
        "iss_parameter_supported": False,
        "signing_algorithms": ("RS256",),
        # Auth0 has DPoP per tenant, and no discovery here to say so: "auto" leaves it
        # off; "dpop": true in auth_config.json turns it on (oidc_spa.dpop.wants_dpop).
        "dpop_algorithms": (),
    }


def read_discovery(text: str, expected_issuer: str) -> dict:
    """Check a discovery document (OpenID Connect Discovery 1.0, section 4.3)."""
    doc = json_object(text)
    if doc is None:
        raise Problem("discovery.not_json")
    if doc.get("issuer") != expected_issuer:
        raise Problem("discovery.issuer", "expected {!r}, got {!r}".format(
            expected_issuer, doc.get("issuer")))
    found = {"issuer": expected_issuer, "auth0_logout_endpoint": None}
    for name, required in _ENDPOINTS:
        found[name] = _endpoint(doc, name, required)
    algorithms = doc.get("id_token_signing_alg_values_supported", ["RS256"])
    if not isinstance(algorithms, list) or not all(isinstance(a, str) for a in algorithms):
        algorithms = ["RS256"]
    found["iss_parameter_supported"] = (
        doc.get("authorization_response_iss_parameter_supported") is True)
    found["signing_algorithms"] = tuple(algorithms)
    dpop = doc.get("dpop_signing_alg_values_supported", [])
    found["dpop_algorithms"] = tuple(
        dpop if isinstance(dpop, list) and all(isinstance(a, str) for a in dpop) else [])
    return found


def _endpoint(doc: dict, name: str, required: bool) -> str | None:
    value = doc.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not is_secure_url(value):
        raise Problem("discovery.endpoint", name + "=" + repr(value))
    return value
