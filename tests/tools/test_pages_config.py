"""The Pages workflow's settings: repository variables -> auth_config.json, checked by the
library's own parser."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from devtools.build.pages_config import SettingsProblem, config_from, main
from devtools.paths import ROOT, child_env, module_command

VARIABLES = ("AUTH0_DOMAIN", "OIDC_ISSUER", "CLIENT_ID", "AUTH0_AUDIENCE", "SCOPE", "API_URL",
             "AUTHORIZATION_PARAMS")


def test_auth0_variables_make_the_auth0_form():
    env = {"AUTH0_DOMAIN": " https://tenant.eu.auth0.com/ ", "CLIENT_ID": "abc",
           "AUTH0_AUDIENCE": "https://api", "SCOPE": "openid profile offline_access",
           "API_URL": "https://api.example.com/private"}
    assert config_from(env) == {"clientId": "abc", "domain": "tenant.eu.auth0.com",
                                "audience": "https://api",
                                "scope": "openid profile offline_access",
                                "apiUrl": "https://api.example.com/private"}


def test_authorization_params_come_as_a_json_object():
    env = {"OIDC_ISSUER": "https://login.example.com", "CLIENT_ID": "abc",
           "AUTHORIZATION_PARAMS": ' {"prompt": "consent", "max_age": 600} '}
    assert config_from(env)["authorizationParams"] == {"prompt": "consent", "max_age": 600}


@pytest.mark.parametrize(("value", "reason"), [
    ("prompt=consent", "AUTHORIZATION_PARAMS must be a JSON object"),
    ('["prompt"]', '"authorizationParams" must be an object'),
    ('{"state": "x"}', 'may not set "state"'),
    ('{"max_age": "600"}', '"max_age" must be a whole number'),
])
def test_unusable_authorization_params_are_refused(value, reason):
    env = {"OIDC_ISSUER": "https://login.example.com", "CLIENT_ID": "abc",
           "AUTHORIZATION_PARAMS": value}
    with pytest.raises(SettingsProblem) as caught:
        config_from(env)
    assert any(reason in text for text in caught.value.args)


def test_an_issuer_makes_the_discovery_form():
    env = {"OIDC_ISSUER": "https://login.example.com/realms/x", "CLIENT_ID": "abc"}
    assert config_from(env) == {"clientId": "abc", "issuer": "https://login.example.com/realms/x"}


@pytest.mark.parametrize(("env", "reason"), [
    ({"AUTH0_DOMAIN": "t.auth0.com"}, "CLIENT_ID is not set"),
    ({"CLIENT_ID": "abc"}, "AUTH0_DOMAIN (Auth0) or OIDC_ISSUER"),
    ({"CLIENT_ID": "a", "AUTH0_DOMAIN": "t.auth0.com", "OIDC_ISSUER": "https://x"}, "only one"),
    # What the page itself would refuse fails the deployment, in the page's words.
    ({"CLIENT_ID": "a", "AUTH0_DOMAIN": 'evil.test"><script>'}, '"domain" must be a host'),
    ({"CLIENT_ID": "a", "OIDC_ISSUER": "http://login.example.com"}, '"issuer" must be an https'),
    ({"CLIENT_ID": "a", "AUTH0_DOMAIN": "t.auth0.com", "SCOPE": "profile"}, "include \"openid\""),
    ({"CLIENT_ID": "a", "AUTH0_DOMAIN": "t.auth0.com", "API_URL": "http://api.test/"}, "apiUrl"),
])
def test_unusable_variables_are_refused_with_the_reason(env, reason):
    with pytest.raises(SettingsProblem) as caught:
        config_from(env)
    assert any(reason in text for text in caught.value.args)


def test_main_writes_the_file_or_annotates_the_errors(tmp_path, monkeypatch, capsys):
    out = tmp_path / "auth_config.json"
    monkeypatch.setenv("CLIENT_ID", "abc")
    monkeypatch.setenv("AUTH0_DOMAIN", "t.auth0.com")
    monkeypatch.delenv("OIDC_ISSUER", raising=False)
    assert main([str(out)]) == 0
    assert json.loads(out.read_text()) == {"clientId": "abc", "domain": "t.auth0.com"}
    monkeypatch.delenv("CLIENT_ID")
    assert main([str(tmp_path / "other.json")]) == 1
    assert "::error title=Sign-in settings::the repository variable CLIENT_ID" in (
        capsys.readouterr().out)
    assert not (tmp_path / "other.json").exists()


def test_the_workflows_command_runs_the_module(tmp_path):
    """As .github/workflows/pages.yml runs it: `python -m devtools.build.pages_config OUT`
    with py/ on PYTHONPATH, from the repository's root."""
    out = tmp_path / "auth_config.json"
    env = child_env({k: v for k, v in os.environ.items() if k not in VARIABLES})
    env |= {"CLIENT_ID": "abc", "OIDC_ISSUER": "https://login.example.com"}
    done = subprocess.run(module_command("devtools.build.pages_config", str(out)), env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == {"clientId": "abc",
                                           "issuer": "https://login.example.com"}
