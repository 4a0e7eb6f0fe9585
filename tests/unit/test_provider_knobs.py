"""Every provider's knobs in the full lane: authorizationParams reach the authorization
request, max_age makes auth_time required and checked at login (OpenID Connect Core
3.1.2.1 and 3.1.3.7), and a login that asked for offline_access and got no refresh token
leaves a note for the developer console."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from async_runner import run
from inprocess_provider import (
    CLIENT_ID,
    ISSUER,
    PAGE_URL,
    FakeClock,
    InProcessProvider,
    PyJwtVerifier,
    has_session,
)

from oidc_spa import MESSAGES, ConfigError, IdTokenError, MemoryStorage, Session, parse_settings
from oidc_spa.outcomes import StartResult, login_notes
from oidc_spa.tokens import check_auth_time

OFFLINE = "openid profile email offline_access"


def new_session(provider: InProcessProvider, storage: MemoryStorage, clock: FakeClock,
                **settings: Any) -> Session:
    raw = {"issuer": ISSUER, "clientId": CLIENT_ID, **settings}
    return Session(parse_settings(json.dumps(raw), PAGE_URL), storage=storage,
                   http=provider.http, verifier=PyJwtVerifier(), clock=clock)


def signed_in_at(provider: InProcessProvider, auth_time: float | None) -> None:
    """The provider's ID tokens say the user signed in then (None: no auth_time at all)."""
    def claims(given: dict[str, Any]) -> dict[str, Any]:
        return given if auth_time is None else {**given, "auth_time": auth_time}
    provider.tamper_claims = claims


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


# -- authorizationParams --------------------------------------------------------------------

def test_authorization_params_reach_the_authorization_request(provider, storage, clock):
    session = new_session(provider, storage, clock, authorizationParams={
        "ui_locales": "de fr", "login_hint": "alice@example.test", "max_age": 600,
        "prompt": "login consent", "organization": "org_1", "kc_idp_hint": "github"})
    sent = query_of(run(session.login_url(PAGE_URL)))
    names = [name for name, _ in sent]
    # The library's own first, in their usual order; then the settings', sorted by name.
    assert names == ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                     "code_challenge", "code_challenge_method", "kc_idp_hint", "login_hint",
                     "max_age", "organization", "prompt", "ui_locales"]
    assert dict(sent) | {"state": "", "nonce": "", "code_challenge": ""} == {
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": PAGE_URL,
        "scope": "openid profile email", "state": "", "nonce": "", "code_challenge": "",
        "code_challenge_method": "S256", "kc_idp_hint": "github",
        "login_hint": "alice@example.test", "max_age": "600", "organization": "org_1",
        "prompt": "login consent", "ui_locales": "de fr"}


def test_the_settings_know_max_age(provider, storage, clock):
    assert new_session(provider, storage, clock).settings.max_age is None
    session = new_session(provider, storage, clock, authorizationParams={"max_age": 0})
    assert session.settings.max_age == 0
    assert session.settings.authorization_params == (("max_age", "0"),)


@pytest.mark.parametrize(("params", "code", "message"), [
    ({"state": "mine"}, "config.authorization_param_reserved",
     'auth_config.json: "authorizationParams" may not set "state": the library sends it '
     "itself, or it would weaken the login (PKCE, state, nonce, where the answer goes, "
     "secrets in the address bar)."),
    ({"scope": "openid"}, "config.authorization_param_setting",
     'auth_config.json: "authorizationParams" may not set "scope": use the "scope" setting.'),
    ({"max_age": "300"}, "config.max_age",
     'auth_config.json: "authorizationParams" "max_age" must be a whole number of seconds '
     "from 0 to 2147483647."),
    ({"prompt": "none login"}, "config.prompt",
     'auth_config.json: "authorizationParams" "prompt" must be "none" alone, or one or more '
     "of login, consent, select_account, create separated by single spaces."),
    ({"login_hint": 7}, "config.authorization_param_value",
     'auth_config.json: "authorizationParams" "login_hint" must be a non-empty string (at '
     "most 2000 characters) without control characters or spaces around it."),
    ({"a b": "x"}, "config.authorization_param_name",
     "auth_config.json: \"authorizationParams\" name 'a b' must be 1 to 64 letters, digits, "
     '"_", "-" or ".".'),
])
def test_a_parameter_the_library_will_not_send_is_a_clear_config_error(params, code, message):
    text = json.dumps({"issuer": ISSUER, "clientId": CLIENT_ID, "authorizationParams": params})
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, PAGE_URL)
    assert (caught.value.code, caught.value.user_message) == (code, message)


# -- max_age and auth_time --------------------------------------------------------------------

def log_in(session: Session, provider: InProcessProvider) -> StartResult:
    return run(session.start(provider.authorize(run(session.login_url(PAGE_URL)))))


@pytest.mark.parametrize("age", [0, 100, 300 + 60])  # up to max_age + leeway
def test_a_recent_enough_sign_in_passes(provider, storage, clock, age):
    signed_in_at(provider, clock.now - age)
    session = new_session(provider, storage, clock, authorizationParams={"max_age": 300})
    log_in(session, provider)
    assert session.is_authenticated


@pytest.mark.parametrize(("auth_time", "code"), [
    (None, "id_token.auth_time"),
    ("1800000000", "id_token.auth_time"),
    (True, "id_token.auth_time"),
    (1_800_000_000.0 - 300 - 60 - 1, "id_token.auth_time_too_old"),
    (0, "id_token.auth_time_too_old"),
])
def test_max_age_refuses_a_login_without_auth_time_or_too_old(provider, storage, clock,
                                                              auth_time, code):
    assert clock.now == 1_800_000_000.0
    signed_in_at(provider, auth_time)
    session = new_session(provider, storage, clock, authorizationParams={"max_age": 300})
    with pytest.raises(IdTokenError) as caught:
        log_in(session, provider)
    assert caught.value.code == code
    assert caught.value.user_message == MESSAGES[code]
    assert not session.is_authenticated and not has_session(storage)


def test_the_leeway_setting_is_the_clock_skew_allowed(provider, storage, clock):
    signed_in_at(provider, clock.now - 30 - 5)
    session = new_session(provider, storage, clock, leeway=5,
                          authorizationParams={"max_age": 30})
    log_in(session, provider)
    signed_in_at(provider, clock.now - 30 - 6)
    with pytest.raises(IdTokenError) as caught:
        log_in(new_session(provider, MemoryStorage(), clock, leeway=5,
                           authorizationParams={"max_age": 30}), provider)
    assert caught.value.code == "id_token.auth_time_too_old"
    assert caught.value.detail == "signed in 36 s ago; max_age=30, leeway=5"


def test_max_age_zero_asks_for_a_sign_in_now(provider, storage, clock):
    signed_in_at(provider, clock.now - 61)
    with pytest.raises(IdTokenError):
        log_in(new_session(provider, storage, clock, authorizationParams={"max_age": 0}),
               provider)
    signed_in_at(provider, clock.now - 2)
    log_in(new_session(provider, storage, clock, authorizationParams={"max_age": 0}), provider)


def test_without_max_age_auth_time_is_not_asked_for(provider, storage, clock):
    for auth_time in (None, 0):
        signed_in_at(provider, auth_time)
        session = new_session(provider, MemoryStorage(), clock,
                              authorizationParams={"prompt": "login"})
        log_in(session, provider)
        assert session.is_authenticated


def test_renewals_keep_the_logins_auth_time_past_max_age(provider, storage, clock):
    """max_age is about the sign-in a login rests on: renewed ID tokens repeat the login's
    auth_time (OpenID Connect Core 12.2), which grows older than max_age as they should."""
    signed_in_at(provider, clock.now)
    session = new_session(provider, storage, clock, scope=OFFLINE,
                          authorizationParams={"max_age": 60})
    log_in(session, provider)
    for _ in range(3):
        clock.now += 3600 - 30  # renewal is due a minute before expiry
        assert run(session.tick()) == "renewed"
    assert session.is_authenticated


def test_check_auth_time_alone():
    check_auth_time({"auth_time": 100}, max_age=10, now=170, leeway=60)
    with pytest.raises(IdTokenError) as caught:
        check_auth_time({"auth_time": 100}, max_age=10, now=170.5, leeway=60)
    assert caught.value.code == "id_token.auth_time_too_old"
    for claims in ({}, {"auth_time": None}, {"auth_time": 1e999}, {"auth_time": [1]}):
        with pytest.raises(IdTokenError) as caught:
            check_auth_time(claims, max_age=10, now=170, leeway=60)
        assert caught.value.code == "id_token.auth_time"


# -- offline_access and no refresh token ------------------------------------------------------

def no_refresh_tokens(provider: InProcessProvider) -> None:
    """The provider drops offline_access, as spec-strict ones do without prompt=consent."""
    issue = provider.issue
    provider.issue = lambda nonce, with_refresh_token, omit=frozenset(): issue(  # type: ignore[method-assign]
        nonce, False, omit)


def test_offline_access_without_a_refresh_token_leaves_a_console_note(provider, storage, clock):
    no_refresh_tokens(provider)
    session = new_session(provider, storage, clock, scope=OFFLINE)
    result = log_in(session, provider)
    assert session.is_authenticated and not session.renews_automatically
    assert result.notes == ("token.no_refresh_token",)
    assert result.warning is None  # nothing for the page to show
    (note,) = result.note_messages
    assert note == "token.no_refresh_token: " + MESSAGES["token.no_refresh_token"]
    for fix in ('"prompt": "consent"', "Allow Offline Access", "Refresh Token Rotation",
                '"Refresh Token" grant', "Single-page application", "docs/providers.md"):
        assert fix in note


def test_no_note_when_a_refresh_token_came_or_none_was_asked_for(provider, storage, clock):
    assert log_in(new_session(provider, storage, clock, scope=OFFLINE), provider).notes == ()
    no_refresh_tokens(provider)
    result = log_in(new_session(provider, MemoryStorage(), clock), provider)
    assert result.notes == () and result.note_messages == ()


def test_login_notes_read_the_scope_asked_for():
    assert login_notes("openid offline_access", None) == ("token.no_refresh_token",)
    assert login_notes("openid offline_access", "rt") == ()
    assert login_notes("openid offline_accessx", None) == ()
    assert login_notes("openid", None) == ()

