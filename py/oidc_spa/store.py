"""What is kept between page loads, behind a small Storage protocol.

Keys are namespaced by client id: every GitHub Pages project site of one account
shares the origin USER.github.io, so two apps there must not read or overwrite
each other's tokens. The session is one JSON record written with a single
setItem, so a page never finds half a session.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from .authorize import LoginTransaction

KEY_PREFIX = "oidc_spa"
# Logins started (e.g. in several tabs) and not yet finished that are remembered.
MAX_PENDING_LOGINS = 5


class Storage(Protocol):
    """The part of the Web Storage API this package uses (localStorage has it)."""

    def getItem(self, key: str) -> str | None: ...
    def setItem(self, key: str, value: str) -> None: ...
    def removeItem(self, key: str) -> None: ...


class MemoryStorage:
    """Storage kept in a dict: for tests, and when the browser refuses localStorage."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def getItem(self, key: str) -> str | None:
        return self.items.get(key)

    def setItem(self, key: str, value: str) -> None:
        self.items[key] = str(value)

    def removeItem(self, key: str) -> None:
        self.items.pop(key, None)


class FallbackStorage:
    """Several storages tried in order, e.g. localStorage, then sessionStorage, then memory.

    A write goes to the first storage that accepts it (a full quota or a browser that
    blocks storage throws) and removes the key from the others, so a read finds one
    copy only. `level` is the least durable storage a write has had to use, which the
    page uses to tell the user that the session will not be remembered.
    """

    def __init__(self, storages: list[Storage]) -> None:
        if not storages:
            raise ValueError("FallbackStorage needs at least one storage")
        self.storages = storages
        self.level = 0

    def getItem(self, key: str) -> str | None:
        for index, storage in enumerate(self.storages):
            try:
                value = storage.getItem(key)
            except Exception:  # a blocked storage throws on any access
                continue
            if value is not None:
                # What was found in a less durable storage is only that durable.
                self.level = max(self.level, index)
                return value
        return None

    def setItem(self, key: str, value: str) -> None:
        for index, storage in enumerate(self.storages):
            try:
                storage.setItem(key, value)
            except Exception:
                continue
            self.level = max(self.level, index)
            self._remove_from_others(key, index)
            return
        raise OSError("no storage accepted the write")

    def removeItem(self, key: str) -> None:
        self._remove_from_others(key, None)

    def _remove_from_others(self, key: str, keep: int | None) -> None:
        for index, storage in enumerate(self.storages):
            if index != keep:
                try:
                    storage.removeItem(key)
                except Exception:
                    continue


@dataclass(frozen=True)
class StoredSession:
    """A validated login: the tokens and the profile shown on the page."""

    id_token: str
    access_token: str
    expires_at: float  # the ID token's exp: the session's end as the tutorial defines it
    access_token_expires_at: float | None = None
    refresh_token: str | None = None
    scope: str | None = None
    profile: dict[str, Any] = field(default_factory=dict)
    # When these tokens were received: their lifetime bounds the renewal margin.
    issued_at: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StoredSession | None:
        """The stored session, or None when the text is not one (tampered, old, foreign)."""
        try:
            data = json.loads(text)
            session = cls(**data)
        except (ValueError, TypeError):
            return None
        if not (
            isinstance(session.id_token, str)
            and isinstance(session.access_token, str)
            and _finite(session.expires_at)
            and (session.access_token_expires_at is None
                 or _finite(session.access_token_expires_at))
            and (session.refresh_token is None or isinstance(session.refresh_token, str))
            and (session.scope is None or isinstance(session.scope, str))
            and isinstance(session.profile, dict)
            and _finite(session.issued_at)
        ):
            return None
        return session

    def with_profile(self, profile: dict[str, Any]) -> StoredSession:
        return replace(self, profile=profile)


class SessionStore:
    """This app's keys in a Storage, under oidc_spa:<client id>:..."""

    def __init__(self, storage: Storage, client_id: str) -> None:
        self.storage = storage
        self.prefix = f"{KEY_PREFIX}:{client_id}:"

    @property
    def session_key(self) -> str:
        return self.prefix + "session"

    def load_session(self) -> StoredSession | None:
        text = self.storage.getItem(self.session_key)
        return StoredSession.from_json(text) if text is not None else None

    def save_session(self, session: StoredSession) -> None:
        self.storage.setItem(self.session_key, session.to_json())

    def clear_session(self) -> None:
        self.storage.removeItem(self.session_key)

    def note_refresh_spent(self, refresh_token: str) -> None:
        """Mark a refresh token as presented, before the request goes out.

        Browsers pass localStorage writes to other tabs asynchronously: a tab that takes
        the renewal lock right after another tab renewed can still read the old session.
        This marker, written long before the renewal ends, tells it to wait instead.
        """
        self.storage.setItem(self.prefix + "spent_refresh", _fingerprint(refresh_token))

    def clear_refresh_spent(self) -> None:
        self.storage.removeItem(self.prefix + "spent_refresh")

    def is_refresh_spent(self, refresh_token: str) -> bool:
        return self.storage.getItem(self.prefix + "spent_refresh") == _fingerprint(refresh_token)

    def note_ended(self, now: float) -> None:
        """Tell the app's other tabs why the session is about to disappear."""
        self.storage.setItem(self.prefix + "ended_at", repr(now))

    def ended_since(self, since: float) -> bool:
        text = self.storage.getItem(self.prefix + "ended_at")
        try:
            return text is not None and float(text) >= since
        except ValueError:
            return False

    def save_transaction(self, transaction: LoginTransaction, now: float) -> None:
        """Remember a started login; logins left unfinished are dropped once expired."""
        pending = self._pending_logins(now)
        pending[transaction.state] = transaction
        newest = sorted(pending.values(), key=lambda t: t.created_at)[-MAX_PENDING_LOGINS:]
        self._write_pending({t.state: t for t in newest})

    def take_transaction(self, state: str, now: float) -> LoginTransaction | None:
        """The login started with this state, removed so that it can be used once only."""
        pending = self._pending_logins(None)
        transaction = pending.pop(state, None)
        # An expired one is still returned, so the caller can say it took too long.
        self._write_pending({s: t for s, t in pending.items() if not t.is_expired(now)})
        return transaction

    @property
    def _pending_key(self) -> str:
        return self.prefix + "pending_logins"

    def _pending_logins(self, now: float | None) -> dict[str, LoginTransaction]:
        """The remembered logins; with `now`, only those not yet expired."""
        text = self.storage.getItem(self._pending_key)
        try:
            raw = json.loads(text) if text else {}
        except ValueError:
            raw = {}
        if not isinstance(raw, dict):
            raw = {}
        pending = {}
        for state, item in raw.items():
            transaction = LoginTransaction.from_data(item)
            if transaction is None or transaction.state != state:
                continue
            if now is None or not transaction.is_expired(now):
                pending[state] = transaction
        return pending

    def _write_pending(self, pending: dict[str, LoginTransaction]) -> None:
        if pending:
            data = {state: t.to_data() for state, t in pending.items()}
            self.storage.setItem(self._pending_key, json.dumps(data))
        else:
            self.storage.removeItem(self._pending_key)


def _fingerprint(secret: str) -> str:
    """Enough of a hash to recognise a token, useless to anyone who reads it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
