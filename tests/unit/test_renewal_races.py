"""Renewal and logout that can never undo each other, with every kind of provider.

Two Session objects on one storage and one lock are two tabs of the same app; the
provider's token endpoint can be held back on cue (`token_gate`), so every race here
has its timing forced, not hoped for.
"""

from __future__ import annotations

import asyncio
import json
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
    SigningKey,
    has_session,
)

import oidc_spa.renewer as renewer_module
import oidc_spa.session as session_module
from oidc_spa import MemoryStorage, Session, parse_settings
from oidc_spa.errors import (
    AuthError,
    CallbackError,
    DestinationError,
    SessionEndedError,
)
from oidc_spa.lock import LocalLock
from oidc_spa.store import RenewalMark
from oidc_spa.transport import HttpResponse

TTL = 60
SCOPE = "openid profile email offline_access"


@pytest.fixture
def provider(clock: FakeClock) -> InProcessProvider:
    return InProcessProvider(clock=clock, id_token_ttl=TTL)


@pytest.fixture
def lock() -> LocalLock:
    return LocalLock()


@pytest.fixture
def tab(provider, clock, storage, lock):
    """tab(**settings): a new tab (or a reload) of the app on the shared storage."""

    def open_tab(**settings: Any) -> Session:
        raw = {"issuer": ISSUER, "clientId": CLIENT_ID, "scope": SCOPE,
               "apiUrl": f"{ISSUER}/api", **settings}
        return Session(parse_settings(json.dumps(raw), PAGE_URL), storage=storage,
                       http=provider.http, verifier=PyJwtVerifier(), clock=clock, lock=lock)

    return open_tab


def log_in(session: Session, provider: InProcessProvider) -> Session:
    run(session.start(provider.authorize(run(session.login_url(PAGE_URL)))))
    assert session.is_authenticated
    return session


async def until(condition, *, rounds: int = 2000) -> None:
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never met")


def renewing(storage: MemoryStorage) -> bool:
    return f"oidc_spa:{CLIENT_ID}:renewing" in storage.items


# -- 1. a logout is never undone by a renewal in flight --------------------------------

@pytest.mark.parametrize("tabs", ["two tabs", "one tab"])
def test_logout_during_a_renewal_in_flight_stays_logged_out(tab, provider, clock, storage,
                                                            tabs):
    a = log_in(tab(), provider)
    b = tab() if tabs == "two tabs" else a
    b.sync_from_storage()
    clock.now += TTL - 5

    async def race() -> None:
        provider.token_gate = asyncio.Event()  # the provider answers late
        renewal = asyncio.ensure_future(b.tick())
        await until(lambda: provider.refresh_uses)  # the provider renewed; its answer waits
        assert renewing(storage)
        await a.logout()
        provider.token_gate.set()
        await renewal

    run(race())
    assert not has_session(storage)
    assert not a.is_authenticated
    b.sync_from_storage()
    assert not b.is_authenticated
    reloaded = tab()
    run(reloaded.start(PAGE_URL))
    assert not reloaded.is_authenticated
    # The late answer's refresh token is revoked, like the one the logout revoked.
    assert provider.live_refresh_tokens() == []
    assert len(provider.revocations) == 2


def test_a_late_renewal_cannot_replace_a_new_login(tab, provider, clock, storage):
    a = log_in(tab(), provider)
    b = tab()
    b.sync_from_storage()
    clock.now += TTL - 5

    async def race() -> None:
        provider.token_gate = asyncio.Event()
        renewal = asyncio.ensure_future(b.tick())
        await until(lambda: renewing(storage))
        await a.logout()
        provider.token_gate.set()  # lets the new login through too; b's answer lands last
        provider.token_gate = None
        log_in(a, provider)
        await renewal

    run(race())
    new_login = a.current
    assert tab().store.load_session() == new_login
    assert b.sync_from_storage() == "signed_in"
    assert b.current == new_login


# -- 2. providers that do not rotate refresh tokens ------------------------------------

@pytest.mark.parametrize("rotation", ["omit", "same"])
def test_two_tabs_renew_through_many_lifetimes_without_rotation(tab, provider, clock,
                                                                rotation):
    provider.rotation = rotation
    a = log_in(tab(), provider)
    b = tab()
    b.sync_from_storage()
    for _ in range(5):
        clock.now += TTL - 5

        async def both() -> list[Any]:
            return list(await asyncio.gather(a.tick(), b.tick()))

        assert run(both()) == ["renewed", "renewed"]
        assert a.current == b.current
    assert a.current.generation == 5
    assert len(provider.refresh_uses) == 5
    assert len(set(provider.refresh_uses)) == 1  # one refresh token, used again and again
    assert provider.live_refresh_tokens() == provider.refresh_uses[:1]


# -- 3. a passing failure after the token answer keeps the new refresh token ----------

def test_key_outage_after_the_token_answer_keeps_the_new_refresh_token(tab, provider, clock):
    session = log_in(tab(), provider)
    old = session.current
    provider.keys = [SigningKey.rsa("rsa-2")]  # rotated: the renewed token needs new keys
    provider.override["/jwks"] = HttpResponse(503, "down")
    clock.now += TTL - 15
    assert run(session.tick()) is None
    assert session.is_authenticated
    kept = session.store.load_session()
    assert kept.refresh_token != old.refresh_token  # the new one, the old one is spent
    assert kept.id_token == old.id_token and kept.expires_at == old.expires_at
    del provider.override["/jwks"]
    clock.now += session_module.RENEW_RETRY_SECONDS
    assert run(session.tick()) == "renewed"
    assert session.current.expires_at > old.expires_at
    assert len(provider.refresh_uses) == len(set(provider.refresh_uses)) == 2


def test_key_outage_before_renewal_spends_no_refresh_token(tab, provider, clock):
    log_in(tab(), provider)
    session = tab()  # a reload: no keys read yet in this page
    run(session.start(PAGE_URL))
    provider.override["/jwks"] = HttpResponse(503, "down")
    clock.now += TTL - 15
    assert run(session.tick()) is None
    assert provider.refresh_uses == []
    del provider.override["/jwks"]
    clock.now += session_module.RENEW_RETRY_SECONDS
    assert run(session.tick()) == "renewed"
    assert len(provider.refresh_uses) == 1


# -- 4. a leftover renewal mark never blocks renewal for good --------------------------

def test_a_tab_that_closed_mid_renewal_delays_renewal_only_briefly(tab, provider, clock,
                                                                   storage):
    session = log_in(tab(), provider)
    # A tab closed while its refresh request was out: its mark stays behind.
    current = session.current
    session.store.mark_renewal(RenewalMark(current.session_id, current.generation,
                                           "closed-tab", clock.now))
    clock.now += TTL - 5
    assert run(session.tick()) is None  # that tab's result might still arrive: wait
    for _ in range(20):  # however many rounds, without the clock moving: still waiting
        assert run(session.tick()) is None
    assert provider.refresh_uses == []
    clock.now += renewer_module.SETTLE_SECONDS
    assert run(session.tick()) == "renewed"
    assert not renewing(storage)


def test_an_unexpected_error_during_renewal_leaves_no_mark(tab, provider, clock, storage):
    session = log_in(tab(), provider)
    clock.now += TTL - 5
    provider.override["/token"] = RuntimeError("a bug, not an AuthError")
    with pytest.raises(RuntimeError):
        run(session.tick())
    assert not renewing(storage)
    del provider.override["/token"]
    assert run(session.tick()) == "renewed"


# -- 5. waits are bounded: by the clock, and every lock request by a timeout ----------

def test_a_lock_held_elsewhere_makes_renewal_retry_later(tab, provider, clock, lock,
                                                         monkeypatch):
    monkeypatch.setattr(renewer_module, "LOCK_WAIT_SECONDS", 0.05)
    session = log_in(tab(), provider)
    clock.now += TTL - 5

    async def with_lock_held_by_another_tab() -> Any:
        async with lock.hold(session.store.renew_lock_name, timeout=1):
            return await session.tick()

    assert run(with_lock_held_by_another_tab()) is None
    assert session.is_authenticated and provider.refresh_uses == []
    clock.now += session_module.BUSY_RETRY_SECONDS
    assert run(session.tick()) == "renewed"


# -- 6. key rotation without kid -------------------------------------------------------

def test_rotation_of_a_key_without_kid_is_followed(tab, provider, clock):
    provider.keys = [SigningKey.rsa(kid=None)]
    session = log_in(tab(), provider)
    provider.keys = [SigningKey.rsa(kid=None)]  # a new key, again without a kid
    clock.now += TTL - 5
    assert run(session.tick()) == "renewed"
    assert session.is_authenticated


# -- 7. renewed ID tokens must repeat the login's iss, sub, aud, azp, auth_time, nonce --

@pytest.mark.parametrize("change", [
    {"sub": "mallory"},
    {"aud": [CLIENT_ID, "another-app"], "azp": CLIENT_ID},
    {"azp": CLIENT_ID},
    {"auth_time": 1_700_000_999},
    {"nonce": "not-the-logins"},
], ids=["sub", "aud", "azp added", "auth_time", "nonce"])
def test_renewed_id_token_must_be_about_the_same_login(tab, provider, clock, storage, change):
    provider.tamper_claims = lambda claims: {**claims, "auth_time": 1_700_000_000}
    session = log_in(tab(), provider)
    provider.tamper_claims = lambda claims: {**claims, "auth_time": 1_700_000_000, **change}
    clock.now += TTL - 5
    with pytest.raises(SessionEndedError, match="failed its checks"):
        run(session.tick())
    assert not has_session(storage)


def test_renewed_id_token_may_repeat_the_nonce_or_leave_it_out(tab, provider, clock):
    session = log_in(tab(), provider)
    login_nonce = session.current.identity["nonce"]
    provider.tamper_claims = lambda claims: {**claims, "nonce": login_nonce}
    clock.now += TTL - 5
    assert run(session.tick()) == "renewed"
    provider.tamper_claims = None
    clock.now += TTL - 5
    assert run(session.tick()) == "renewed"


# -- 8. logout revokes the refresh token ----------------------------------------------

def test_logout_revokes_the_refresh_token(tab, provider, storage):
    session = log_in(tab(), provider)
    refresh_token = session.current.refresh_token
    url = run(session.logout())
    assert url.startswith(f"{ISSUER}/end_session?")
    assert provider.revocations == [refresh_token]
    assert provider.refresh(refresh_token).status == 400  # a copy taken earlier is useless
    assert storage.items == {}


def test_auth0_logout_revokes_at_oauth_revoke(storage, clock):
    sent: list[tuple[str, str]] = []

    class Recorder:
        def send_detached(self, method, url, *, headers=None, body=None):
            sent.append((url, body))

    settings = parse_settings(json.dumps({"domain": "t.eu.auth0.com", "clientId": "abc"}),
                              PAGE_URL)
    session = Session(settings, storage=storage, http=Recorder(), verifier=PyJwtVerifier(),
                      clock=clock)
    session.current = session.store.load_session()  # nobody signed in: nothing to revoke
    run(session.logout())
    assert sent == []


# -- 9. provider garbage becomes a typed error, the URL is cleaned, nothing stored ----

def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("answer", [
    '{"access_token": "a", "token_type": "Bearer", "id_token": "x.y.z", "expires_in": '
    + "9" * 400 + "}",
    '{"access_token": "a", "token_type": "Bearer", "nested": ' + deep(50_000) + "}",
    '{"access_token": "a", "token_type": ["Bearer"], "id_token": "a.b.c"}',
], ids=["huge number", "deep nesting", "list instead of string"])
def test_garbage_token_answer_is_a_typed_error(tab, provider, storage, answer):
    session = tab()
    callback = provider.authorize(run(session.login_url(PAGE_URL)))
    provider.override["/token"] = HttpResponse(200, answer)
    with pytest.raises(AuthError):
        run(session.start(callback))
    assert not has_session(storage)


@pytest.mark.parametrize("header", [{"alg": ["RS256"]}, {"kid": ["rsa-1"]},
                                    {"typ": {"x": 1}}, {"crit": 5}])
def test_garbage_id_token_header_is_a_typed_error(tab, provider, storage, header):
    session = tab()
    callback = provider.authorize(run(session.login_url(PAGE_URL)))
    key = provider.keys[0]
    original_sign = key.sign
    key.sign = lambda claims, headers=None: original_sign(claims, {**header})
    with pytest.raises(AuthError):
        run(session.start(callback))
    assert not has_session(storage)


@pytest.mark.parametrize("claims", [
    {"exp": 10**400}, {"iat": 10**400}, {"exp": 1e308 * 10 if False else 10**30},
    {"aud": [{"x": 1}]}, {"nested": json.loads(deep(40))},
])
def test_garbage_id_token_claims_are_a_typed_error(tab, provider, storage, claims):
    provider.tamper_claims = lambda c: {**c, **claims}
    session = tab()
    with pytest.raises(AuthError):
        log_in(session, provider)
    assert not has_session(storage)


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/jwks", "/userinfo"])
def test_deeply_nested_provider_documents_are_refused_cleanly(tab, provider, storage, path):
    session = tab()
    callback = provider.authorize(run(session.login_url(PAGE_URL)))
    provider.override[path] = HttpResponse(200, '{"keys": ' + deep(100_000) + "}")
    session = tab()
    try:
        run(session.start(callback))
    except AuthError:
        assert not has_session(storage)
    else:  # only userinfo may fail softly: the login then shows the ID token's claims
        assert path == "/userinfo"


def test_garbage_stored_record_is_logged_out_not_raised(tab, storage):
    storage.items[f"oidc_spa:{CLIENT_ID}:current"] = "planted-session-0001"
    storage.items[f"oidc_spa:{CLIENT_ID}:session:planted-session-0001"] = (
        '{"id_token": "a.b.c", "nested": ' + deep(100_000) + "}")
    session = tab()
    run(session.start(PAGE_URL))
    assert not session.is_authenticated
    assert not has_session(storage)


# -- 10. a malformed callback never hides a live session -------------------------------

def test_malformed_callback_on_a_signed_in_page_keeps_the_session(tab, provider):
    log_in(tab(), provider)
    reloaded = tab()
    with pytest.raises(CallbackError):
        run(reloaded.start(PAGE_URL + "?code=a&code=b"))
    assert reloaded.is_authenticated


# -- 11. refresh answers without an ID token -------------------------------------------

def test_renewal_without_id_token_lives_by_the_access_token(tab, provider, clock):
    provider.refresh_omits = {"id_token"}
    session = log_in(tab(), provider)
    first_exp = session.current.expires_at
    ticks = 0
    while clock.now < first_exp + 3 * TTL:
        clock.now += 1
        ticks += 1
        run(session.tick())
        assert session.is_authenticated
    # About one renewal per lifetime, not one per tick in each lifetime's last minute.
    assert len(provider.refresh_uses) <= ticks / (TTL / 3)
    reloaded = tab()
    run(reloaded.start(PAGE_URL))
    assert reloaded.is_authenticated


def test_renewal_that_extends_nothing_stops_and_the_session_ends_on_time(tab, provider,
                                                                         clock):
    provider.refresh_omits = {"id_token", "expires_in"}
    session = log_in(tab(), provider)
    end = session.current.expires_at
    changes = []
    while clock.now < end:
        clock.now += 1
        changes.append(run(session.tick()))
    assert changes[-1] == "expired"
    assert len(provider.refresh_uses) == 1


def test_renewed_id_tokens_that_keep_the_logins_exp_renew_only_the_access_token(
        tab, provider, clock):
    # Some providers tie the ID token's exp to the login: renewals cannot move it, but the
    # short-lived access tokens still need renewing, once per access-token lifetime.
    login_exp = int(clock.now) + 10 * TTL
    provider.id_token_ttl = TTL  # expires_in: the access token's lifetime
    provider.tamper_claims = lambda claims: {**claims, "exp": login_exp}
    session = log_in(tab(), provider)
    while clock.now < login_exp - 1:
        clock.now += 1
        run(session.tick())
        assert session.is_authenticated
    # Renewed a third of a lifetime early: one renewal per 40 s, not one per tick.
    assert 10 <= len(provider.refresh_uses) <= 10 * TTL / (TTL * 2 / 3) + 1
    clock.now = login_exp
    assert run(session.tick()) == "expired"


# -- 12. hardening ---------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://api.example.test/data",       # plain http off this machine
    "https://evil.example.test/steal",    # an origin the settings do not name
    "https://op.example.test.evil.test/", # a look-alike
])
def test_fetch_sends_the_token_only_where_the_settings_allow(tab, provider, url):
    session = log_in(tab(), provider)
    before = list(provider.requests)
    with pytest.raises(DestinationError, match="may not send your access token"):
        run(session.fetch(url))
    assert provider.requests == before


def test_fetch_may_use_the_origins_the_settings_name(tab, provider):
    session = log_in(tab(apiOrigins=["https://op.example.test"]), provider)
    assert run(session.fetch(f"{ISSUER}/api")).status == 200


def test_abandoned_logins_are_forgotten(tab, storage, clock):
    session = tab()
    run(session.login_url(PAGE_URL))
    assert f"oidc_spa:{CLIENT_ID}:pending_logins" in storage.items
    clock.now += 16 * 60
    run(tab().start(PAGE_URL))
    assert f"oidc_spa:{CLIENT_ID}:pending_logins" not in storage.items


def test_logout_forgets_logins_in_flight(tab, provider, storage):
    session = log_in(tab(), provider)
    run(session.login_url(PAGE_URL))
    run(session.logout())
    assert storage.items == {}
