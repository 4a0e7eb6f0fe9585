"""What the session tells the page: StartResult after start(), SessionChange from tick()."""

from __future__ import annotations

from typing import Literal, NamedTuple

from .messages import MESSAGES
from .portable.record import why_ended
from .store import StoredSession


class StartResult(NamedTuple):
    """What the page should do after start().

    clean_url: where the address bar should point (a callback's parameters removed,
    or the page the user started the login from); None to leave it alone.
    warning_code: the code (a key of MESSAGES) of something the user should know
    although the session works; `warning` is its sentence.
    notes: codes (keys of MESSAGES) of advice for the app's developer, for the console
    and not the page: `token.no_refresh_token`. `note_messages` are their sentences.
    """

    clean_url: str | None = None
    warning_code: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def warning(self) -> str | None:
        return MESSAGES[self.warning_code] if self.warning_code else None

    @property
    def note_messages(self) -> tuple[str, ...]:
        return tuple(f"{code}: {MESSAGES[code]}" for code in self.notes)


def login_notes(asked_scope: str, refresh_token: str | None) -> tuple[str, ...]:
    """What a finished login tells the developer: offline_access was asked for and no
    refresh token came (OpenID Connect Core 11 lets a provider drop offline_access, and
    node-oidc-provider does unless prompt=consent is sent; others need a setting)."""
    if "offline_access" in asked_scope.split() and refresh_token is None:
        return ("token.no_refresh_token",)
    return ()


# What tick() or sync_from_storage() saw happen to the session.
SessionChange = Literal["signed_in", "signed_out", "renewed", "expired", "ended"]


def classify_change(had: StoredSession | None, now_kept: StoredSession | None, *, now: float,
                    ended_reason: str | None) -> SessionChange | None:
    """`had`: the session this tab knew; `now_kept`: the live one in storage now (None
    when there is none); `ended_reason`: why `had`'s login ended, if a tab said so."""
    if now_kept == had:
        return None
    if now_kept is None:
        if had is None:
            return None
        # As the first lane says it (another tab's refused renewal: "ended", not a logout).
        return why_ended(had.expires_at, now, ended_reason)  # type: ignore[return-value]
    if had is None or had.session_id != now_kept.session_id:
        return "signed_in"
    return "renewed"
