import json

import pytest

from oidc_spa.config import ProviderMetadata, parse_discovery, parse_settings
from oidc_spa.errors import ConfigError, DiscoveryError

PAGE = "https://me.github.io/repo/index.html?x=1#y"


def settings(**raw):
    return parse_settings(json.dumps(raw), PAGE)


def test_auth0_form_uses_the_tenant_as_issuer_and_auth0_paths():
    s = settings(domain="tenant.eu.auth0.com", clientId="abc", audience="https://api")
    assert s.issuer == "https://tenant.eu.auth0.com/"
    assert s.auth0_domain == "tenant.eu.auth0.com"
    assert s.audience == "https://api"


def test_issuer_form_gets_defaults():
    s = settings(issuer="https://login.example.com/realms/x", clientId="abc")
    assert s.scope == "openid profile email"
    assert s.redirect_uri == "https://me.github.io/repo/"
    assert s.discovery_url == "https://login.example.com/realms/x/.well-known/openid-configuration"
    assert s.leeway == 60


def test_scope_and_redirect_uri_can_be_set():
    s = settings(issuer="https://op.test", clientId="a", scope="openid email offline_access",
                 redirectUri="https://me.github.io/repo/callback.html")
    assert s.scope == "openid email offline_access"
    assert s.redirect_uri == "https://me.github.io/repo/callback.html"


def test_local_provider_over_plain_http_is_allowed_on_loopback_only():
    assert parse_settings(json.dumps({"issuer": "http://127.0.0.1:9000", "clientId": "a"}),
                          "http://127.0.0.1:8000/app/").issuer == "http://127.0.0.1:9000"
    with pytest.raises(ConfigError, match="https"):
        settings(issuer="http://op.example.com", clientId="a")


@pytest.mark.parametrize(("text", "message"), [
    (None, "not found"),
    ("{", "not valid JSON"),
    ("[]", "JSON object"),
    ('{"clientId": "a"}', "exactly one"),
    ('{"clientId": "a", "domain": "x.auth0.com", "issuer": "https://x"}', "exactly one"),
    ('{"domain": "x.auth0.com"}', "clientId"),
    ('{"domain": "x.auth0.com", "clientId": ""}', "clientId"),
    ('{"domain": "x.auth0.com", "clientId": 5}', "clientId"),
    ('{"domain": "https://x.auth0.com", "clientId": "a"}', "host name"),
    ('{"domain": "x.auth0.com/path", "clientId": "a"}', "host name"),
    ('{"issuer": "javascript:alert(1)", "clientId": "a"}', "https"),
    ('{"issuer": "https://op.test", "clientId": "a", "scope": "profile"}', "openid"),
    ('{"issuer": "https://op.test", "clientId": "a", "redirectUri": "https://evil.test/"}',
     "own site"),
    ('{"issuer": "https://op.test", "clientId": "a", "leeway": "60"}', "leeway"),
    ('{"issuer": "https://op.test", "clientId": "a", "client_id": "b"}', "unknown"),
])
def test_bad_settings_get_a_clear_message(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_settings(text, PAGE)


DISCOVERY = {
    "issuer": "https://op.test",
    "authorization_endpoint": "https://op.test/authorize",
    "token_endpoint": "https://op.test/token",
    "jwks_uri": "https://op.test/jwks",
    "userinfo_endpoint": "https://op.test/userinfo",
    "end_session_endpoint": "https://op.test/logout",
    "authorization_response_iss_parameter_supported": True,
}


def test_discovery_document_gives_the_endpoints():
    metadata = parse_discovery(json.dumps(DISCOVERY), "https://op.test")
    assert metadata == ProviderMetadata(
        issuer="https://op.test",
        authorization_endpoint="https://op.test/authorize",
        token_endpoint="https://op.test/token",
        jwks_uri="https://op.test/jwks",
        userinfo_endpoint="https://op.test/userinfo",
        end_session_endpoint="https://op.test/logout",
        iss_parameter_supported=True,
    )


@pytest.mark.parametrize("change", [
    {"issuer": "https://op.test/"},  # OpenID Discovery 4.3: must be identical
    {"token_endpoint": "http://op.test/token"},
    {"authorization_endpoint": None},
    {"jwks_uri": "javascript:alert(1)"},
])
def test_discovery_that_does_not_fit_is_refused(change):
    with pytest.raises(DiscoveryError):
        parse_discovery(json.dumps({**DISCOVERY, **change}), "https://op.test")


def test_discovery_that_is_not_json_is_refused():
    with pytest.raises(DiscoveryError):
        parse_discovery("<html>", "https://op.test")
