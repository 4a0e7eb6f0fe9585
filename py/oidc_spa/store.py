"""What is kept between page loads, behind a small Storage protocol.

Keys are namespaced by client id: every GitHub Pages project site of one account
shares the origin USER.github.io, so two apps there must not read or overwrite
each other's tokens. A login's record is one JSON value written with a single
setItem, so a page never finds half a session; which login is signed in is a
separate pointer (see SessionStore), so a late renewal cannot undo a logout.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple, Protocol

from .authorize import LoginTransaction
from .portable.record import Keys, end_login, is_session_id, read_record
from .portable.strict_json import is_number, json_object

# Logins started (e.g. in several tabs) and not yet finished that are remembered.
MAX_PENDING_LOGINS = 5
ORPHAN_AGE_SECONDS = 60.0
# Keys of earlier versions of this package (one session key, a spent-token marker).
_LEGACY_KEYS = frozenset({"session", "spent_refresh", "ended_at"})


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

    def keys(self) -> list[str]:
        return list(self.items)


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

    def keys(self) -> list[str]:
        found: dict[str, None] = {}
        for storage in self.storages:
            try:
                found.update(dict.fromkeys(storage.keys()))  # type: ignore[attr-defined]
            except Exception:  # blocked, or a storage that cannot list its keys
                continue
        return list(found)

    def _remove_from_others(self, key: str, keep: int | None) -> None:
        for index, storage in enumerate(self.storages):
            if index != keep:
                try:
                    storage.removeItem(key)
                except Exception:
                    continue


@dataclass(frozen=True)
class StoredSession:
    """A validated login: the tokens and the profile shown on the page.

    `session_id` names the login (a fresh random id per login, kept by renewals) and
    `generation` counts its renewals: a renewal is saved only over the generation it
    started from, and only while the login is still the signed-in one.
    """

    id_token: str
    access_token: str
    # The session's end: the ID token's exp, or the access token's expiry when a
    # renewal came without a new ID token (see Session._refresh).
    expires_at: float
    access_token_expires_at: float | None = None
    refresh_token: str | None = None
    scope: str | None = None
    profile: dict[str, Any] = field(default_factory=dict)
    # When these tokens were received: their lifetime bounds the renewal margin.
    issued_at: float = 0.0
    session_id: str = ""
    generation: int = 0
    # The login's claims that every renewed ID token must repeat (OpenID Connect Core 12.2).
    identity: dict[str, Any] = field(default_factory=dict)
    # False once a renewal could not move the session's end (renewal.renew_at).
    extendable: bool = True
    # "DPoP" when the tokens are bound to this login's key (oidc_spa.dpop), else "Bearer".
    token_type: str = "Bearer"

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StoredSession | None:
        """The stored session, or None when the text is not one (tampered, old, foreign).
        The shape rules are portable.record's, which the page's first lane runs too."""
        data = read_record(text)
        return cls(**data) if data is not None else None

    def with_profile(self, profile: dict[str, Any]) -> StoredSession:
        return replace(self, profile=profile)


class RenewalMark(NamedTuple):
    """Written before a refresh token is presented: "tab `by` is renewing this generation".

    A tab that takes the renewal lock and finds another tab's mark for the generation it
    sees has not yet seen that renewal's result (browsers pass localStorage writes
    between tabs asynchronously, but in order), or the other tab died on the way.
    """

    session_id: str
    generation: int
    by: str
    at: float


class Ended(NamedTuple):
    """Why the last signed-in login ended: "logout", "ended" (by the provider) or "expired"."""

    session_id: str
    reason: str
    at: float


class SessionStore:
    """This app's keys in a Storage, under oidc_spa:<client id>:...

    - `current`: the id of the signed-in login. Only a login and an ending write it.
    - `session:<id>`: that login's record. Renewals write only this, and only over
      the generation they started from, so a renewal that finishes late can never
      bring back a login that was logged out or replaced meanwhile, whatever order
      the tabs' writes arrive in.
    - `renewing`: the RenewalMark of a renewal in flight.
    - `ended`: why the last login ended, for the other tabs' message.
    - `pending_logins`: logins started and not yet finished.
    """

    def __init__(self, storage: Storage, client_id: str) -> None:
        self.storage = storage
        self.keys = Keys(client_id)
        self.prefix = self.keys.prefix

    @property
    def current_key(self) -> str:
        return self.prefix + "current"

    def record_key(self, session_id: str) -> str:
        return f"{self.prefix}session:{session_id}"

    @property
    def renew_lock_name(self) -> str:
        return self.prefix + "renew"

    # -- the session

    def current_id(self) -> str | None:
        value = self.storage.getItem(self.current_key)
        return value if is_session_id(value) else None

    def load_session(self) -> StoredSession | None:
        """The signed-in login's record; None when there is none or it is unreadable."""
        session_id = self.current_id()
        if session_id is None:
            return None
        return self._load_record(session_id)

    def _load_record(self, session_id: str) -> StoredSession | None:
        text = self.storage.getItem(self.record_key(session_id))
        stored = StoredSession.from_json(text) if text is not None else None
        return stored if stored is not None and stored.session_id == session_id else None

    def save_new_session(self, session: StoredSession) -> None:
        """A login: its record, then the pointer to it (a reader never finds half of it)."""
        previous = self.current_id()
        self.storage.setItem(self.record_key(session.session_id), session.to_json())
        self.storage.setItem(self.current_key, session.session_id)
        if previous is not None and previous != session.session_id:
            self.storage.removeItem(self.record_key(previous))

    def commit_renewal(self, started_from: StoredSession, renewed: StoredSession) -> bool:
        """Save a renewal if its login is still signed in at the generation it started from.

        False (nothing saved) when a logout, another login or another renewal came first.
        """
        session_id = started_from.session_id
        stored = self._load_record(session_id) if self.current_id() == session_id else None
        if stored is None or stored.generation != started_from.generation:
            return False
        self.storage.setItem(self.record_key(session_id), renewed.to_json())
        if self.current_id() != session_id:  # ended while we wrote: take it back
            self.storage.removeItem(self.record_key(session_id))
            return False
        return True

    def end_session(self, session_id: str | None, reason: str, now: float) -> None:
        """End a login: `session_id` only if it is still the signed-in one; None ends
        whichever is signed in (a logout). The reason is left for the other tabs."""
        end_login(self.storage, self.keys, session_id, reason, now)

    def ended(self, session_id: str) -> Ended | None:
        """How that login ended, if the tab that ended it said."""
        data = json_object(self.storage.getItem(self.prefix + "ended"))
        try:
            ended = Ended(**data) if data is not None else None
        except TypeError:
            return None
        return ended if ended is not None and ended.session_id == session_id else None

    def remove_orphans(self, now: float) -> None:
        """Remove records no pointer leads to and keys of earlier versions.

        An orphan is what a renewal wrote just as its login ended, in a tab whose view
        of storage was behind. Records younger than a minute are left alone: a login
        in another tab writes its record a moment before its pointer. Needs a storage
        that can list its keys.
        """
        keys = getattr(self.storage, "keys", None)
        if keys is None:
            return
        keep = f"session:{self.current_id()}"
        for key in list(keys()):
            name = key[len(self.prefix):] if key.startswith(self.prefix) else None
            if name in _LEGACY_KEYS or (name and name.startswith("session:") and name != keep
                                         and self._orphan_is_old(key, now)):
                self.storage.removeItem(key)

    def _orphan_is_old(self, key: str, now: float) -> bool:
        text = self.storage.getItem(key)
        record = StoredSession.from_json(text) if text is not None else None
        return record is None or record.issued_at < now - ORPHAN_AGE_SECONDS

    # -- renewals in flight

    def renewal_mark(self) -> RenewalMark | None:
        data = json_object(self.storage.getItem(self.prefix + "renewing"))
        try:
            mark = RenewalMark(**data) if data is not None else None
        except TypeError:
            return None
        if mark is None or not (is_session_id(mark.session_id) and isinstance(mark.by, str)
                                and is_number(mark.generation) and is_number(mark.at)):
            return None
        return mark

    def mark_renewal(self, mark: RenewalMark) -> None:
        self.storage.setItem(self.prefix + "renewing", json.dumps(mark._asdict()))

    def clear_renewal_mark(self, by: str) -> None:
        mark = self.renewal_mark()
        if mark is not None and mark.by == by:
            self.storage.removeItem(self.prefix + "renewing")

    # -- logins in flight

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

    def prune_transactions(self, now: float) -> None:
        """Forget abandoned logins (their verifier and nonce) once they have expired."""
        text = self.storage.getItem(self._pending_key)
        if text is not None:
            self._write_pending(self._pending_logins(now))

    def clear_transactions(self) -> None:
        self.storage.removeItem(self._pending_key)

    @property
    def _pending_key(self) -> str:
        return self.prefix + "pending_logins"

    def _pending_logins(self, now: float | None) -> dict[str, LoginTransaction]:
        """The remembered logins; with `now`, only those not yet expired."""
        raw = json_object(self.storage.getItem(self._pending_key)) or {}
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
