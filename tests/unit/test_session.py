"""The whole login -> callback -> reload -> logout flow on CPython, with a fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from async_runner import run
from inprocess_provider import (
    CLIENT_ID,
    ISSUER,
    PAGE_URL,
    FakeClock,
    InProcessProvider,
    PyJwtVerifier,
    SigningKey,
    has_session,
    plant_record,
)

from oidc_spa import (
    CallbackError,
    DiscoveryError,
    IdTokenError,
    MemoryStorage,
    ProviderError,
    Session,
    TokenError,
    UserInfoError,
    parse_settings,
)
from oidc_spa.transport import HttpResponse


@pytest.fixture
def new_session(
    provider: InProcessProvider, storage: MemoryStorage, clock: FakeClock
) -> Callable[..., Session]:
    """A fresh Session on the same storage: what a page reload gives."""

    def make(client_id: str = CLIENT_ID, **settings: Any) -> Session:
        text = json.dumps({"issuer": ISSUER, "clientId": client_id, **settings})
        return Session(
            parse_settings(text, PAGE_URL),
            storage=storage, http=provider.http, verifier=PyJwtVerifier(), clock=clock,
        )

    return make


def log_in(session: Session, provider: InProcessProvider, return_to: str = PAGE_URL) -> str:
    """Click login, sign in at the provider, come back: returns the callback URL."""
    return provider.authorize(run(session.login_url(return_to)))


def test_login_stores_a_validated_session_with_the_userinfo_profile(new_session, provider):
    session = new_session()
    result = run(session.start(log_in(session, provider, PAGE_URL + "?tab=2#top")))
    assert session.is_authenticated
    assert session.user == provider.user
    assert result.clean_url == PAGE_URL + "?tab=2#top"
    assert result.warning is None


def test_authorization_request_uses_code_flow_with_pkce_state_and_nonce(new_session):
    url = run(new_session(audience="https://api.example.test").login_url(PAGE_URL))
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{ISSUER}/authorize?")
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["scope"] == "openid profile email"
    assert query["audience"] == "https://api.example.test"
    assert query["redirect_uri"] == PAGE_URL
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43
    assert "code_verifier" not in query


def test_reload_restores_the_session_without_asking_the_provider(new_session, provider):
    first = new_session()
    run(first.start(log_in(first, provider)))
    provider.requests.clear()
    reloaded = new_session()
    run(reloaded.start(PAGE_URL))
    assert reloaded.is_authenticated
    assert reloaded.user == provider.user
    assert provider.requests == []


def test_expired_id_token_gives_logged_out_page_and_is_removed(new_session, provider, clock,
                                                                storage):
    first = new_session()
    run(first.start(log_in(first, provider)))
    clock.now += provider.id_token_ttl + 1
    assert not first.is_authenticated
    reloaded = new_session()
    run(reloaded.start(PAGE_URL))
    assert not reloaded.is_authenticated
    assert reloaded.user is None
    assert storage.items == {}


def test_logout_clears_storage_and_returns_the_end_session_url(new_session, provider, storage):
    session = new_session()
    run(session.start(log_in(session, provider)))
    id_token = session.current.id_token
    url = run(session.logout())
    assert not session.is_authenticated
    assert storage.items == {}
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{ISSUER}/end_session?")
    assert query == {"id_token_hint": id_token, "client_id": CLIENT_ID,
                     "post_logout_redirect_uri": PAGE_URL}


def test_auth0_logout_uses_v2_logout_with_client_id_and_return_to(storage, clock):
    settings = parse_settings(json.dumps({"domain": "t.eu.auth0.com", "clientId": "abc"}),
                              PAGE_URL)
    session = Session(settings, storage=storage, http=None, verifier=PyJwtVerifier(), clock=clock)
    url = run(session.logout())
    assert url == f"https://t.eu.auth0.com/v2/logout?client_id=abc&returnTo={PAGE_URL.replace(
        ':', '%3A').replace('/', '%2F')}"


def test_two_apps_on_one_origin_keep_separate_sessions(new_session, provider, storage):
    mine = new_session()
    run(mine.start(log_in(mine, provider)))
    other = new_session(client_id="other-app")
    run(other.start(PAGE_URL))
    assert not other.is_authenticated
    run(other.logout())
    again = new_session()
    run(again.start(PAGE_URL))
    assert again.is_authenticated


def test_a_session_copied_from_another_app_is_not_taken(new_session, provider, storage):
    mine = new_session()
    run(mine.start(log_in(mine, provider)))
    for key in list(storage.items):
        storage.items[key.replace(f":{CLIENT_ID}:", ":other-app:")] = storage.items.pop(key)
    other = new_session(client_id="other-app")
    run(other.start(PAGE_URL))
    assert not other.is_authenticated
    assert not has_session(storage, "other-app")


@pytest.mark.parametrize("stored", [
    "not json", "[]", '{"id_token": "abc"}',
    json.dumps({"id_token": "a.b.c", "access_token": "x", "expires_at": 9e12}),
    json.dumps({"id_token": "eyJ0eXAiOiJKV1QifQ.eyJleHAiOiJzb29uIn0.c2ln", "access_token": "x",
                "expires_at": 9e12}),
])
def test_unreadable_stored_session_is_logged_out_and_cleaned(new_session, storage, stored):
    plant_record(storage, stored)
    session = new_session()
    run(session.start(PAGE_URL))
    assert not session.is_authenticated
    assert storage.items == {}


def test_callback_state_can_be_used_once_only(new_session, provider):
    session = new_session()
    callback = log_in(session, provider)
    run(session.start(callback))
    provider.requests.clear()
    replay = new_session()
    with pytest.raises(CallbackError):
        run(replay.start(callback))
    assert ("POST", "/token") not in provider.requests
    assert replay.is_authenticated  # the session the user already had is kept


def test_callback_with_unknown_state_makes_no_token_request(new_session, provider):
    session = new_session()
    callback = log_in(session, provider).replace("state=", "state=x")
    with pytest.raises(CallbackError):
        run(new_session().start(callback))
    assert ("POST", "/token") not in provider.requests


def test_callback_without_state_is_refused(new_session, provider):
    with pytest.raises(CallbackError, match="state"):
        run(new_session().start(PAGE_URL + "?code=abc"))


def test_callback_from_another_issuer_is_refused(new_session, provider):
    session = new_session()
    callback = log_in(session, provider).replace(ISSUER, "https://evil.example.test")
    with pytest.raises(CallbackError, match="different provider"):
        run(session.start(callback))


def test_provider_error_is_reported_with_its_description(new_session, provider):
    session = new_session()
    url = run(session.login_url(PAGE_URL))
    state = parse_qs(urlsplit(url).query)["state"][0]
    callback = (f"{PAGE_URL}?error=access_denied&error_description=User+cancelled"
                f"&state={state}&iss={ISSUER}")
    with pytest.raises(ProviderError) as caught:
        run(session.start(callback))
    assert "cancelled" in caught.value.user_message
    assert "User cancelled" in caught.value.user_message


def test_wrong_nonce_is_refused_and_nothing_is_stored(new_session, provider, storage):
    provider.tamper_claims = lambda claims: {**claims, "nonce": "someone-elses"}
    session = new_session()
    with pytest.raises(IdTokenError, match="nonce"):
        run(session.start(log_in(session, provider)))
    assert not has_session(storage)


def test_key_rotation_is_picked_up_by_reading_the_jwks_again(new_session, provider):
    session = new_session()
    run(session.client.metadata())
    run(session.client.keys())  # the old key set is cached
    provider.keys = [SigningKey.ec("rotated")]
    run(session.start(log_in(session, provider)))
    assert session.is_authenticated


def test_userinfo_for_another_subject_refuses_the_login(new_session, provider, storage):
    session = new_session()
    callback = log_in(session, provider)
    provider.override["/userinfo"] = HttpResponse(
        200, json.dumps({**provider.user, "sub": "mallory"}))
    with pytest.raises(UserInfoError, match="someone else"):
        run(session.start(callback))
    assert storage.items == {}


def test_userinfo_outage_keeps_the_login_with_id_token_claims_and_a_warning(new_session,
                                                                            provider):
    session = new_session()
    callback = log_in(session, provider)
    provider.override["/userinfo"] = HttpResponse(503, "busy")
    result = run(session.start(callback))
    assert session.is_authenticated
    assert session.user == {"sub": "alice", "nickname": "alice"}
    assert result.warning


def test_token_endpoint_error_is_reported_and_nothing_is_stored(new_session, provider, storage):
    session = new_session()
    callback = log_in(session, provider)
    provider.override["/token"] = HttpResponse(500, "<html>oops</html>")
    with pytest.raises(TokenError):
        run(session.start(callback))
    assert not has_session(storage)


def test_discovery_naming_another_issuer_is_refused(new_session, provider):
    provider.override["/.well-known/openid-configuration"] = HttpResponse(
        200, json.dumps({**provider.discovery(), "issuer": "https://evil.example.test"}))
    with pytest.raises(DiscoveryError):
        run(new_session().login_url(PAGE_URL))


def test_login_that_took_too_long_is_refused(new_session, provider, clock):
    session = new_session()
    callback = log_in(session, provider)
    clock.now += 16 * 60
    with pytest.raises(CallbackError, match="too long"):
        run(session.start(callback))


def test_return_to_on_another_origin_falls_back_to_the_page(new_session, provider):
    session = new_session()
    result = run(session.start(log_in(session, provider, "https://evil.example.test/x")))
    assert result.clean_url == PAGE_URL
