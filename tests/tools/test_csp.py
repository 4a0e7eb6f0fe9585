"""The build's Content-Security-Policy: only what the library itself accepts gets in."""

from __future__ import annotations

import pytest

from devtools.build.csp import PolicyError, content_security_policy, insert_policy

MARKED = "<head><!-- content-security-policy --></head>"


@pytest.mark.parametrize("config", [
    {"domain": 'evil.test"><script src=//x.test/a.js></script>', "clientId": "a"},
    {"domain": "tenant.auth0.com/path", "clientId": "a"},
    {"issuer": "javascript:alert(1)", "clientId": "a"},
    {"domain": "t.auth0.com", "clientId": "a", "apiUrl": "http://api.example.test/"},
    {"domain": "t.auth0.com", "clientId": "a", "apiOrigins": ['https://x.test"><b>']},
])
def test_settings_the_page_would_refuse_never_reach_the_policy(config):
    with pytest.raises(PolicyError):
        content_security_policy(config)


def test_only_the_issuers_origin_enters_the_policy():
    policy = content_security_policy({"issuer": 'https://op.test/"><script>', "clientId": "a"})
    assert "connect-src 'self' https://op.test;" in policy
    assert "<script>" not in policy


def test_a_valid_auth0_domain_and_api_origins_are_allowed():
    policy = content_security_policy({"domain": "T.eu.auth0.com", "clientId": "a",
                                      "apiUrl": "https://api.example.test/v1",
                                      "apiOrigins": ["https://other.example.test"]})
    assert ("connect-src 'self' https://t.eu.auth0.com https://api.example.test "
            "https://other.example.test;") in policy


def test_the_policy_attribute_cannot_be_broken_out_of():
    html = insert_policy(MARKED, 'default-src \'self\'; x "><script>')
    assert "<script>" not in html
    assert html.count('"') == 4  # http-equiv="..." content="..."
