"""Error codes: every AuthError names a key of oidc_spa.messages.MESSAGES, the table
has a sentence for every code the package uses and no sentence nobody uses, and
specific failures carry specific codes."""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
from async_runner import run
from inprocess_provider import (
    CLIENT_ID,
    ISSUER,
    PAGE_URL,
    FakeClock,
    InProcessProvider,
    PyJwtVerifier,
)

from oidc_spa import (
    MESSAGES,
    AuthError,
    CallbackError,
    ConfigError,
    DestinationError,
    IdTokenError,
    MemoryStorage,
    NetworkError,
    NotAuthenticatedError,
    ProviderError,
    Session,
    SessionEndedError,
    TokenError,
    UserInfoError,
    errors,
    parse_settings,
)
from oidc_spa.session import ENDED_MESSAGE
from oidc_spa.tokens import parse_token_response
from oidc_spa.transport import HttpResponse

PACKAGE = Path(__file__).resolve().parents[2] / "py" / "oidc_spa"
CODE = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")
AREAS = {code.split(".")[0] for code in MESSAGES}
# The portable rules raise Problem(code, ...), which the full lane turns into an AuthError.
AUTH_ERRORS = {name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, AuthError)} | {"Problem"}


def package_trees() -> dict[str, ast.Module]:
    return {str(path.relative_to(PACKAGE)): ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(PACKAGE.rglob("*.py")) if path.name != "messages.py"}


def raised_codes() -> dict[str, set[str]]:
    """String literals passed first to an AuthError class, by module."""
    found: dict[str, set[str]] = {}
    for module, tree in package_trees().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0]
            if (name in AUTH_ERRORS and name != "ProviderError"  # its first is OAuth's
                    and isinstance(first, ast.Constant) and isinstance(first.value, str)):
                found.setdefault(module, set()).add(first.value)
    return found


def code_literals() -> dict[str, set[str]]:
    """Every string literal of the package shaped like a code of one of the table's
    areas (codes kept in tuples and dicts, returned, or raised), by module."""
    found: dict[str, set[str]] = {}
    for module, tree in package_trees().items():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and CODE.fullmatch(node.value) and node.value.split(".")[0] in AREAS):
                found.setdefault(module, set()).add(node.value)
    return found


def fields_of(message: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(message) if field}


# -- the table ---------------------------------------------------------------------------

def test_every_code_raised_in_the_package_has_a_message():
    codes = raised_codes()
    assert sum(len(found) for found in codes.values()) > 40  # the scan sees the raise sites
    unknown = {module: found - set(MESSAGES) for module, found in codes.items()}
    assert {module: found for module, found in unknown.items() if found} == {}


def test_every_code_shaped_literal_in_the_package_is_in_the_table():
    unknown = {module: found - set(MESSAGES) for module, found in code_literals().items()}
    assert {module: found for module, found in unknown.items() if found} == {}


def test_the_table_has_no_dead_entries():
    used = set().union(*code_literals().values(), *raised_codes().values())
    assert sorted(set(MESSAGES) - used) == []


def test_codes_are_dotted_and_messages_are_sentences():
    for code, message in MESSAGES.items():
        assert CODE.fullmatch(code), code
        assert message[:1].isupper() or message.startswith("auth_config.json"), code
        assert message.endswith("."), code
        assert "\n" not in message and message == message.strip(), code


def test_every_message_formats_with_its_own_fields():
    samples: dict[str, Any] = {"low": 0, "high": 600}
    for code, message in MESSAGES.items():
        params = {name: samples.get(name, f"<{name}>") for name in fields_of(message)}
        text = errors.AuthError(code, **params).user_message
        assert "{" not in text and "}" not in text, code


def test_an_unknown_code_fails_loudly():
    with pytest.raises(KeyError):
        AuthError("callback.no_such_thing")
    with pytest.raises(KeyError):
        IdTokenError("The ID token was issued to a different app.")


def test_a_missing_field_fails_loudly():
    with pytest.raises(KeyError):
        ConfigError("config.not_boolean")


# -- the error object -----------------------------------------------------------------

def test_an_error_carries_code_message_and_detail():
    error = IdTokenError("id_token.audience", detail="aud='other'")
    assert error.code == "id_token.audience"
    assert error.user_message == "The ID token was issued to a different app."
    assert error.detail == "aud='other'"
    assert str(error) == "The ID token was issued to a different app. (aud='other')"
    assert str(IdTokenError("id_token.nonce")) == MESSAGES["id_token.nonce"]


@pytest.mark.parametrize(("config", "code", "message"), [
    ({"renew": "yes"}, "config.not_boolean", 'auth_config.json: "renew" must be true or false.'),
    ({"leeway": 9999}, "config.out_of_range",
     'auth_config.json: "leeway" must be a number from 0 to 600.'),
    ({"timeout": 0.5}, "config.out_of_range",
     'auth_config.json: "timeout" must be a number from 1 to 120.'),
    ({"clientId": " c"}, "config.untrimmed",
     'auth_config.json: "clientId" has spaces or control characters around it.'),
    ({"apiOrigins": ["https://api.test/path"]}, "config.api_origin",
     "auth_config.json: \"apiOrigins\" entry 'https://api.test/path' must be an origin like "
     '"https://api.example.com" (plain http only on localhost), with no path.'),
    ({"redirectUri": "https://elsewhere.test/"}, "config.redirect_uri_site",
     'auth_config.json: "redirectUri" must be on this page\'s own site, '
     "https://app.example.test."),
    ({"colour": "blue"}, "config.unknown_settings", "auth_config.json has unknown setting(s) "
     "colour; known: apiOrigins, apiUrl, audience, authorizationParams, clientId, cspOrigins, "
     "domain, dpop, fullLane, issuer, leeway, redirectUri, renew, renewMargin, scope, "
     "timeout."),
])
def test_config_errors_name_the_setting(config, code, message):
    text = json.dumps({"issuer": ISSUER, "clientId": CLIENT_ID, **config})
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, PAGE_URL)
    assert (caught.value.code, caught.value.user_message) == (code, message)


@pytest.mark.parametrize(("text", "code"), [
    (None, "config.missing"), ("{", "config.not_json"), ("[]", "config.not_object"),
    ('{"clientId": "c"}', "config.provider_choice"),
])
def test_config_file_problems(text, code):
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, PAGE_URL)
    assert caught.value.code == code


def test_provider_errors_have_a_code_each_and_keep_the_providers_words():
    error = ProviderError("access_denied", "User cancelled")
    assert error.code == "provider.access_denied"
    assert error.user_message == ("The sign-in was cancelled or not allowed. "
                                  "The provider said: User cancelled")
    assert (error.error, error.description, error.detail) == (
        "access_denied", "User cancelled", "access_denied")
    assert ProviderError("login_required").user_message == "You need to sign in again."
    other = ProviderError("account_selection_required")
    assert other.code == "provider.other"
    assert other.user_message == "The sign-in provider refused the login."


def test_every_provider_code_names_an_oauth_error():
    provider_codes = {code for code in MESSAGES if code.startswith("provider.")}
    for code in provider_codes - {"provider.other"}:
        assert ProviderError(code.removeprefix("provider.")).code == code


def test_a_refused_token_request_names_the_oauth_error_and_keeps_its_attributes():
    body = json.dumps({"error": "invalid_grant", "error_description": "code expired"})
    with pytest.raises(TokenError) as caught:
        parse_token_response(400, body)
    error = caught.value
    assert error.code == "token.refused"
    assert error.user_message == ("The sign-in provider refused to complete the login "
                                  "(invalid_grant). The provider said: code expired")
    assert (error.error, error.description, error.status) == ("invalid_grant", "code expired",
                                                               400)
    assert str(error).endswith("(HTTP 400)")
    with pytest.raises(TokenError) as caught:
        parse_token_response(502, "<html>")
    assert (caught.value.code, caught.value.status, caught.value.error) == (
        "token.failed", 502, None)


def test_userinfo_error_keeps_its_status():
    error = UserInfoError("userinfo.unauthorized", status=401)
    assert (error.code, error.status) == ("userinfo.unauthorized", 401)


# -- specific failures, specific codes ----------------------------------------------------

@pytest.fixture
def provider(clock: FakeClock) -> InProcessProvider:
    return InProcessProvider(clock=clock, id_token_ttl=60)


def new_session(provider: InProcessProvider, storage: MemoryStorage, clock: FakeClock,
                **settings: Any) -> Session:
    """A tab of the app; a setting given as None is left out."""
    raw = {"issuer": ISSUER, "clientId": CLIENT_ID, "apiUrl": f"{ISSUER}/api",
           "scope": "openid profile email offline_access", **settings}
    raw = {key: value for key, value in raw.items() if value is not None}
    return Session(parse_settings(json.dumps(raw), PAGE_URL), storage=storage,
                   http=provider.http, verifier=PyJwtVerifier(), clock=clock)


def logged_in(session: Session, provider: InProcessProvider) -> Session:
    run(session.start(provider.authorize(run(session.login_url(PAGE_URL)))))
    assert session.is_authenticated
    return session


def test_an_id_token_for_another_app_is_id_token_audience(provider, storage, clock):
    provider.tamper_claims = lambda claims: {**claims, "aud": "another-client"}
    session = new_session(provider, storage, clock)
    with pytest.raises(IdTokenError) as caught:
        run(session.start(provider.authorize(run(session.login_url(PAGE_URL)))))
    assert caught.value.code == "id_token.audience"


def test_an_unknown_state_is_callback_state_unknown(provider, storage, clock):
    session = new_session(provider, storage, clock)
    with pytest.raises(CallbackError) as caught:
        run(session.start(f"{PAGE_URL}?code=abc&state=never-sent&iss={ISSUER}"))
    assert caught.value.code == "callback.state_unknown"


def test_a_refused_renewal_is_session_ended(provider, storage, clock):
    session = logged_in(new_session(provider, storage, clock), provider)
    provider.revoke_all()
    clock.now += 55
    with pytest.raises(SessionEndedError) as caught:
        run(session.tick())
    assert caught.value.code == "session.ended"
    assert caught.value.user_message == ENDED_MESSAGE == MESSAGES["session.ended"]


def test_a_renewed_id_token_for_another_user_is_session_renewal_invalid(provider, storage,
                                                                        clock):
    session = logged_in(new_session(provider, storage, clock), provider)
    provider.tamper_claims = lambda claims: {**claims, "sub": "mallory"}
    clock.now += 55
    with pytest.raises(SessionEndedError) as caught:
        run(session.tick())
    assert caught.value.code == "session.renewal_invalid"
    assert "id_token.renewed_identity" in caught.value.detail


@pytest.mark.parametrize(("settings", "url", "code", "message"), [
    ({}, "https://evil.example.test/steal", "fetch.origin_not_allowed",
     "This app may not send your access token to https://evil.example.test: only to "
     'https://op.example.test ("apiOrigins" in auth_config.json).'),
    ({}, "http://api.example.test/data", "fetch.insecure_url",
     "This app may not send your access token to http://api.example.test: the access "
     "token travels only over https (or http on this computer)."),
    ({"apiUrl": None}, "https://op.example.test/api", "fetch.no_api",
     "This app may not send your access token to https://op.example.test: no API is set "
     'up: name it with "apiUrl" or "apiOrigins" in auth_config.json.'),
])
def test_fetch_to_a_disallowed_destination_names_why(provider, storage, clock, settings, url,
                                                     code, message):
    session = logged_in(new_session(provider, storage, clock, **settings), provider)
    with pytest.raises(DestinationError) as caught:
        run(session.fetch(url))
    assert (caught.value.code, caught.value.user_message, caught.value.detail) == (
        code, message, url)


def test_fetch_without_a_session_is_fetch_not_logged_in(provider, storage, clock):
    session = new_session(provider, storage, clock)
    with pytest.raises(NotAuthenticatedError) as caught:
        run(session.fetch(f"{ISSUER}/api"))
    assert caught.value.code == "fetch.not_logged_in"


def test_an_unreachable_provider_is_a_network_code(provider, storage, clock):
    provider.override["/.well-known/openid-configuration"] = NetworkError(
        "network.provider_timeout", detail="test")
    session = new_session(provider, storage, clock)
    with pytest.raises(NetworkError) as caught:
        run(session.login_url(PAGE_URL))
    assert caught.value.code == "network.provider_timeout"


def test_a_userinfo_outage_warns_with_a_code(provider, storage, clock):
    session = new_session(provider, storage, clock)
    callback = provider.authorize(run(session.login_url(PAGE_URL)))
    provider.override["/userinfo"] = HttpResponse(503, "busy")
    result = run(session.start(callback))
    assert result.warning_code == "userinfo.unavailable"
    assert result.warning == MESSAGES["userinfo.unavailable"]


def test_the_documented_codes_are_the_table():
    """docs/error-codes.md lists every code with its sentence, and nothing else."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "error-codes.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| (.*) \|$", doc, flags=re.MULTILINE))
    assert rows == {code: text.replace("|", "\\|") for code, text in MESSAGES.items()}


def test_the_pages_ended_message_is_the_tables():
    """page_text (which the first lane runs, without the table) says what MESSAGES says."""
    source = PACKAGE.parents[0] / "app" / "page_text.py"
    namespace: dict[str, Any] = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    page_text = type("page_text", (), namespace)
    assert page_text.CHANGE_MESSAGES["ended"] == MESSAGES["session.ended"]
