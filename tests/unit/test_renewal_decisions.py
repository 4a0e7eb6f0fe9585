"""renewal's pure decisions for Session: whether a kept session holds, whether two
records are one login, and when to try a failed renewal again."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from oidc_spa.errors import BusyError, DiscoveryError, NetworkError
from oidc_spa.renewal import (
    BUSY_RETRY_SECONDS,
    RENEW_RETRY_SECONDS,
    is_kept_alive,
    retry_renewal_at,
    same_login,
)
from oidc_spa.store import StoredSession

ISSUER = "https://issuer.example"
CLIENT_ID = "spa"
NOW = 1_000.0
EXP = NOW + 600


def id_token(**claims: Any) -> str:
    # parse_jwt does not check the signature: any key makes a readable token.
    return jwt.encode({"iss": ISSUER, "aud": CLIENT_ID, "sub": "u1", "exp": EXP, **claims},
                      "a test key of at least thirty-two bytes", algorithm="HS256")


def kept(token: str, *, expires_at: float = EXP, session_id: str = "s1") -> StoredSession:
    return StoredSession(id_token=token, access_token="at", expires_at=expires_at,
                         session_id=session_id)


def alive(stored: StoredSession, now: float = NOW) -> bool:
    return is_kept_alive(stored, now=now, issuer=ISSUER, client_id=CLIENT_ID)


def test_a_kept_session_with_this_apps_token_is_alive_until_its_exp() -> None:
    assert alive(kept(id_token()))
    assert not alive(kept(id_token()), now=EXP)


@pytest.mark.parametrize("token", [
    "not a jwt",
    "a.b.c",
    id_token(iss="https://other.example"),
    id_token(aud="another-client"),
    id_token(exp="tomorrow"),
])
def test_unreadable_or_foreign_tokens_are_not_alive(token: str) -> None:
    assert not alive(kept(token))


def test_a_session_whose_end_is_not_its_tokens_is_not_alive() -> None:
    assert not alive(kept(id_token(), expires_at=EXP + 3_600))  # a stretched end


def test_same_login_by_session_id() -> None:
    one, renewed = kept("t1", session_id="s1"), kept("t2", session_id="s1")
    assert same_login(one, renewed)
    assert not same_login(one, kept("t1", session_id="s2"))
    assert not same_login(one, None)
    assert not same_login(None, one)
    assert not same_login(None, None)


def test_another_tabs_renewal_is_waited_for_briefly() -> None:
    assert retry_renewal_at(BusyError("session.busy"), kept("t"), NOW) == NOW + BUSY_RETRY_SECONDS


@pytest.mark.parametrize("error", [NetworkError("network.provider_unreachable"),
                                   DiscoveryError("discovery.keys_unavailable")])
def test_passing_trouble_waits_longer_far_from_the_end(error) -> None:
    far = kept("t", expires_at=NOW + 600)
    assert retry_renewal_at(error, far, NOW) == NOW + RENEW_RETRY_SECONDS


def test_passing_trouble_tries_sooner_near_the_end() -> None:
    error = NetworkError("network.provider_unreachable")
    assert retry_renewal_at(error, kept("t", expires_at=NOW + 8), NOW) == NOW + 2.0
    # Never sooner than a second, even at or past the end, or without a session.
    assert retry_renewal_at(error, kept("t", expires_at=NOW + 2), NOW) == NOW + 1.0
    assert retry_renewal_at(error, kept("t", expires_at=NOW - 5), NOW) == NOW + 1.0
    assert retry_renewal_at(error, None, NOW) == NOW + 1.0
