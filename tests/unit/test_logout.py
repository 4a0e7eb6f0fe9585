"""logout: which refresh tokens a logout revokes, and which ID token it names."""

from __future__ import annotations

from oidc_spa.logout import id_token_hint, refresh_tokens_to_revoke
from oidc_spa.store import StoredSession


def session(id_token: str, refresh_token: str | None) -> StoredSession:
    return StoredSession(id_token=id_token, access_token="at", expires_at=2_000.0,
                         refresh_token=refresh_token)


def test_both_refresh_tokens_are_revoked_in_order_when_they_differ() -> None:
    kept, ours = session("id-kept", "rt-kept"), session("id-ours", "rt-ours")
    assert refresh_tokens_to_revoke(kept, ours) == ["rt-kept", "rt-ours"]


def test_a_shared_refresh_token_is_revoked_once() -> None:
    kept, ours = session("id-kept", "rt"), session("id-ours", "rt")
    assert refresh_tokens_to_revoke(kept, ours) == ["rt"]


def test_missing_sessions_and_tokens_are_skipped() -> None:
    assert refresh_tokens_to_revoke(None, None) == []
    assert refresh_tokens_to_revoke(None, session("id", "rt")) == ["rt"]
    assert refresh_tokens_to_revoke(session("id", None), session("id2", "rt")) == ["rt"]
    assert refresh_tokens_to_revoke(session("id", None), None) == []


def test_the_hint_is_the_kept_sessions_id_token_first() -> None:
    kept, ours = session("id-kept", None), session("id-ours", None)
    assert id_token_hint(kept, ours) == "id-kept"
    assert id_token_hint(None, ours) == "id-ours"
    assert id_token_hint(kept, None) == "id-kept"
    assert id_token_hint(None, None) is None
