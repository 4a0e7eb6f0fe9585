"""A session that stays true while the page is open: renewal, expiry, other tabs, API calls.

Two Session objects on one storage and one lock are two tabs of the same app.
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
)
from software_keys import KeyStore

from oidc_spa import MemoryStorage, NotAuthenticatedError, Session, parse_settings
from oidc_spa.errors import BusyError, SessionEndedError
from oidc_spa.lock import LocalLock
from oidc_spa.transport import HttpResponse

TTL = 60
API = f"{ISSUER}/api"


@pytest.fixture
def provider(clock: FakeClock) -> InProcessProvider:
    return InProcessProvider(clock=clock, id_token_ttl=TTL)


@pytest.fixture
def tabs(provider, clock):
    """Open tabs of the app: tabs(n, **settings) -> n sessions sharing storage and lock."""
    storage, lock = MemoryStorage(), LocalLock()

    def open_tabs(count: int = 1, *, dpop_keys: KeyStore | None = None,
                  **settings: Any) -> list[Session]:
        raw = {"issuer": ISSUER, "clientId": CLIENT_ID, "apiUrl": API,
               "scope": "openid profile email offline_access", **settings}
        return [
            Session(parse_settings(json.dumps(raw), PAGE_URL), storage=storage,
                    http=provider.http, verifier=PyJwtVerifier(), clock=clock, lock=lock,
                    dpop_keys=dpop_keys)
            for _ in range(count)
        ]

    return open_tabs


def logged_in(session: Session, provider: InProcessProvider) -> Session:
    run(session.start(provider.authorize(run(session.login_url(PAGE_URL)))))
    assert session.is_authenticated
    return session


def test_tokens_are_renewed_before_they_expire(tabs, provider, clock):
    session = logged_in(tabs()[0], provider)
    first = session.current
    clock.now += TTL - 10
    assert run(session.tick()) == "renewed"
    assert session.current.expires_at == clock.now + TTL
    assert session.current.refresh_token != first.refresh_token
    assert session.current.profile == first.profile


def test_nothing_happens_long_before_expiry(tabs, provider, clock):
    session = logged_in(tabs()[0], provider)
    clock.now += TTL / 2
    assert run(session.tick()) is None
    assert provider.refresh_uses == []


def test_session_stays_alive_through_many_lifetimes(tabs, provider, clock):
    session = logged_in(tabs()[0], provider)
    for _ in range(10 * TTL):
        clock.now += 1
        run(session.tick())
        assert session.is_authenticated
    assert len(provider.refresh_uses) >= 10


@pytest.mark.parametrize("settings", [{"scope": "openid profile"}, {"renew": False}])
def test_without_renewal_the_session_expires_on_time(tabs, provider, clock, settings):
    session = logged_in(tabs(**settings)[0], provider)
    clock.now += TTL - 1
    assert run(session.tick()) is None
    clock.now += 1
    assert run(session.tick()) == "expired"
    assert not session.is_authenticated
    assert session.store.load_session() is None
    assert provider.refresh_uses == []


def test_refused_renewal_ends_the_session(tabs, provider, clock):
    session = logged_in(tabs()[0], provider)
    provider.revoke_all()
    clock.now += TTL - 5
    with pytest.raises(SessionEndedError, match="ended by the sign-in provider"):
        run(session.tick())
    assert not session.is_authenticated
    assert session.store.load_session() is None


def test_provider_outage_keeps_the_session_until_it_expires(tabs, provider, clock):
    session = logged_in(tabs()[0], provider)
    provider.override["/token"] = HttpResponse(503, "down")
    clock.now += TTL - 10
    assert run(session.tick()) is None
    assert session.is_authenticated
    attempts = len(provider.requests)
    clock.now += 1
    run(session.tick())
    assert len(provider.requests) == attempts  # waits before trying again
    clock.now += 10
    assert run(session.tick()) == "expired"


def test_renewed_id_token_about_another_user_ends_the_session(tabs, provider, clock):
    session = logged_in(tabs()[0], provider)
    provider.tamper_claims = lambda claims: {**claims, "sub": "mallory"}
    clock.now += TTL - 5
    with pytest.raises(SessionEndedError):
        run(session.tick())
    assert session.store.load_session() is None


@pytest.mark.parametrize(("dpop", "answered", "refusal"), [
    (True, "Bearer", "token.dpop_downgraded"),  # tokens anyone who copies them can use
    (False, "DPoP", "token.type"),  # tokens bound to a key this login never had
])
def test_renewal_answer_of_another_token_type_ends_the_session(tabs, provider, clock, dpop,
                                                                answered, refusal):
    provider.dpop = dpop
    session = logged_in(tabs(dpop_keys=KeyStore())[0], provider)
    assert session.current.token_type == ("DPoP" if dpop else "Bearer")
    kept_refresh_token = session.current.refresh_token
    answers: list[dict[str, Any]] = []

    def retyped(answer: dict[str, Any]) -> dict[str, Any]:
        answers.append(answer)
        return {**answer, "token_type": answered}

    provider.tamper_refresh_answer = retyped
    clock.now += TTL - 5
    with pytest.raises(SessionEndedError) as caught:
        run(session.tick())
    assert caught.value.code == "session.renewal_invalid"
    assert caught.value.detail.startswith(f"{refusal}:")
    assert not session.is_authenticated and session.store.load_session() is None
    [answer] = answers
    kept = "".join(session.store.storage.items.values())
    assert answer["access_token"] not in kept and answer["refresh_token"] not in kept
    # The answer's refresh token, and the ended login's (alive at a provider that does
    # not rotate them).
    assert provider.revocations == [answer["refresh_token"], kept_refresh_token]
    assert provider.live_refresh_tokens() == []


def test_concurrent_renewal_in_two_tabs_uses_each_refresh_token_once(tabs, provider, clock):
    first, second = tabs(2)
    logged_in(first, provider)
    assert second.sync_from_storage() == "signed_in"
    for _ in range(5):
        clock.now += TTL - 5

        async def both_tabs() -> list[str | None]:
            return list(await asyncio.gather(first.tick(), second.tick()))

        changes = run(both_tabs())
        assert changes == ["renewed", "renewed"]
        assert first.current == second.current
    assert len(provider.refresh_uses) == len(set(provider.refresh_uses)) == 5


def test_refused_renewal_in_one_tab_is_reported_as_ended_in_the_other(tabs, provider, clock):
    first, second = tabs(2)
    logged_in(first, provider)
    second.sync_from_storage()
    provider.revoke_all()
    clock.now += TTL - 5
    with pytest.raises(SessionEndedError):
        run(first.tick())
    assert run(second.tick()) == "ended"


def test_logout_in_one_tab_shows_in_the_other(tabs, provider):
    first, second = tabs(2)
    logged_in(first, provider)
    second.sync_from_storage()
    run(first.logout())
    assert run(second.tick()) == "signed_out"
    assert not second.is_authenticated


def test_login_in_one_tab_shows_in_the_other(tabs, provider):
    first, second = tabs(2)
    run(second.start(PAGE_URL))
    logged_in(first, provider)
    assert run(second.tick()) == "signed_in"
    assert second.user == first.user


def test_fetch_sends_the_access_token(tabs, provider):
    session = logged_in(tabs()[0], provider)
    response = run(session.fetch(API))
    assert response.status == 200
    assert json.loads(response.text)["sub"] == "alice"


def test_fetch_renews_first_when_the_token_is_about_to_expire(tabs, provider, clock):
    session = logged_in(tabs()[0], provider)
    old = session.access_token
    clock.now += TTL - 5
    assert run(session.fetch(API)).status == 200
    assert session.access_token != old
    assert len(provider.refresh_uses) == 1


def test_fetch_renews_and_retries_once_after_a_401(tabs, provider):
    session = logged_in(tabs()[0], provider)
    provider.access_tokens.clear()  # the API no longer accepts the current token
    assert run(session.fetch(API)).status == 200
    assert len(provider.refresh_uses) == 1
    assert [r for r in provider.requests if r[1] == "/api"] == [("GET", "/api")] * 2


def test_fetch_gives_up_after_one_retry(tabs, provider):
    session = logged_in(tabs()[0], provider)
    provider.override["/api"] = HttpResponse(401, "")
    assert run(session.fetch(API)).status == 401
    assert len([r for r in provider.requests if r[1] == "/api"]) == 2


def test_fetch_without_a_session_says_so(tabs):
    session = tabs()[0]
    run(session.start(PAGE_URL))
    with pytest.raises(NotAuthenticatedError, match="log in"):
        run(session.fetch(API))


class LaggingView(MemoryStorage):
    """One tab's view of shared storage that lags behind: once frozen it shows the
    shared storage as it was at that moment (browsers pass localStorage writes between
    tabs asynchronously, but in order, so a lagging view is an older state)."""

    def __init__(self, shared: MemoryStorage) -> None:
        super().__init__()
        self.shared = shared
        self.snapshot: dict[str, str] | None = None

    def freeze(self) -> None:
        self.snapshot = dict(self.shared.items)

    def getItem(self, key: str) -> str | None:
        items = self.snapshot if self.snapshot is not None else self.shared.items
        return items.get(key)

    def setItem(self, key: str, value: str) -> None:
        self.shared.setItem(key, value)

    def removeItem(self, key: str) -> None:
        self.shared.removeItem(key)


def test_a_renewal_not_yet_visible_in_this_tab_is_awaited_not_repeated(provider, clock):
    shared, lock = MemoryStorage(), LocalLock()
    raw = json.dumps({"issuer": ISSUER, "clientId": CLIENT_ID,
                      "scope": "openid profile email offline_access"})
    view = LaggingView(shared)

    def tab(storage) -> Session:
        return Session(parse_settings(raw, PAGE_URL), storage=storage, http=provider.http,
                       verifier=PyJwtVerifier(), clock=clock, lock=lock)

    first, second = tab(shared), tab(view)
    logged_in(first, provider)
    second.sync_from_storage()
    clock.now += TTL - 5

    async def renew_while_the_other_tab_lags() -> None:
        provider.token_gate = asyncio.Event()
        renewing = asyncio.ensure_future(first.renew())
        while f"oidc_spa:{CLIENT_ID}:renewing" not in shared.items:
            await asyncio.sleep(0.001)
        view.freeze()  # the second tab saw the mark, and will not see the result for now
        provider.token_gate.set()
        assert await renewing
        with pytest.raises(BusyError):
            await second.renew()
        view.snapshot = None  # the writes arrive
        assert await second.renew()

    run(renew_while_the_other_tab_lags())
    assert second.current == first.current
    assert len(provider.refresh_uses) == len(set(provider.refresh_uses)) == 1
