"""api_call: what an API call sends, and when Session.fetch goes on or retries."""

from __future__ import annotations

import pytest

from oidc_spa.api_call import (
    access_token_expired,
    bearer_headers,
    calls_after_failed_renewal,
    retries_after,
)
from oidc_spa.errors import BusyError, NetworkError, SessionEndedError
from oidc_spa.store import StoredSession

NOW = 1_000.0


def session(access_token_expires_at: float | None) -> StoredSession:
    return StoredSession(id_token="id", access_token="at", expires_at=NOW + 600,
                         access_token_expires_at=access_token_expires_at)


def test_bearer_headers_keep_the_callers_and_add_the_token() -> None:
    callers = {"Accept": "application/json"}
    assert bearer_headers(callers, "abc") == {"Accept": "application/json",
                                              "Authorization": "Bearer abc"}
    assert callers == {"Accept": "application/json"}  # the caller's dict is not changed


def test_bearer_headers_without_headers() -> None:
    assert bearer_headers(None, "abc") == {"Authorization": "Bearer abc"}


def test_bearer_headers_replace_the_callers_authorization() -> None:
    sent = bearer_headers({"Authorization": "Basic eHg6eXk="}, "abc")
    assert sent == {"Authorization": "Bearer abc"}


def test_access_token_expired_at_and_after_its_expiry() -> None:
    assert not access_token_expired(session(NOW + 1), NOW)
    assert access_token_expired(session(NOW), NOW)
    assert access_token_expired(session(NOW - 1), NOW)


def test_access_token_of_unknown_lifetime_does_not_expire_by_itself() -> None:
    assert not access_token_expired(session(None), NOW + 10**9)


def test_no_session_means_no_token_to_send() -> None:
    assert access_token_expired(None, NOW)


@pytest.mark.parametrize("error", [NetworkError("network.provider_unreachable"),
                                   BusyError("session.busy")])
def test_a_passing_failure_still_calls_while_the_token_works(error) -> None:
    assert calls_after_failed_renewal(error, session(NOW + 30), NOW)
    assert not calls_after_failed_renewal(error, session(NOW - 1), NOW)
    assert not calls_after_failed_renewal(error, None, NOW)


def test_an_ended_session_never_calls() -> None:
    ended = SessionEndedError("session.ended")
    assert not calls_after_failed_renewal(ended, session(NOW + 30), NOW)
    assert not calls_after_failed_renewal(ended, session(None), NOW)


def test_only_a_401_of_a_renewable_session_is_retried() -> None:
    assert retries_after(401, renewable=True)
    assert not retries_after(401, renewable=False)
    for status in (200, 400, 403, 500):
        assert not retries_after(status, renewable=True)
