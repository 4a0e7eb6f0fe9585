"""Renewing a login with its refresh token, correctly whatever the other tabs do.

- Renewals run under a lock shared by the origin's tabs, requested with a timeout.
- Under it the login's record is read again: a newer generation (another tab's
  renewal) is adopted instead of renewed.
- Before the refresh token is presented a RenewalMark is left; a tab that finds another
  tab's mark for the generation it sees waits, by the clock and not under the lock, for
  that renewal's result, and goes ahead only when the result never comes (that tab died).
- The discovery document and the signing keys are read before the refresh token is
  presented, so an outage there spends nothing.
- The answer is saved only over the generation it started from, while the login is still
  the signed-in one (SessionStore.commit_renewal); otherwise it is dropped and the refresh
  token it brought revoked.
- An answer that fails its checks (a token type other than the login's, an ID token that
  is not valid) ends the login: nothing of it is kept, its refresh token is revoked.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .config import ProviderMetadata, Settings
from .errors import AuthError, BusyError, IdTokenError, SessionEndedError, TokenError
from .id_token import IdTokenValidator
from .lock import Lock, LockTimeout
from .messages import MESSAGES
from .provider_client import ProviderClient
from .renewal import renew_at, renewed_session, with_new_refresh_token
from .store import RenewalMark, SessionStore, StoredSession
from .tokens import TokenResponse, check_token_type, parse_token_response

# SessionEndedError's sentence, for a page that says so when another tab saw the ending.
ENDED_MESSAGE = MESSAGES["session.ended"]
# How long another tab's renewal result may take to reach this tab before that tab
# is taken to have died on the way (localStorage writes cross tabs in milliseconds).
SETTLE_SECONDS = 3.0
# How long a tab waits for the renewal lock before it tries again later.
LOCK_WAIT_SECONDS = 5.0


class Renewer:
    def __init__(self, settings: Settings, store: SessionStore, client: ProviderClient,
                 validator: IdTokenValidator, lock: Lock, clock: Callable[[], float],
                 tab_id: str) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self.validator = validator
        self.lock = lock
        self.clock = clock
        self.tab_id = tab_id  # names this tab's renewal marks
        self._foreign_mark: tuple[RenewalMark, float] | None = None

    def can_renew(self, session: StoredSession) -> bool:
        return (self.settings.renew and session.refresh_token is not None
                and renew_at(session, self.settings.renew_margin) < math.inf)

    def due(self, session: StoredSession, now: float) -> bool:
        return self.can_renew(session) and now >= renew_at(session, self.settings.renew_margin)

    async def renew(self, current: StoredSession, *, force: bool,
                    is_alive: Callable[[StoredSession], bool]) -> StoredSession | None:
        """The login's newer session (renewed here, or another tab's), or None when
        nothing changed or the login is no longer the signed-in one.

        SessionEndedError when the provider refused (the login is then ended in
        storage); BusyError or another AuthError for a passing failure.
        """
        try:
            async with self.lock.hold(self.store.renew_lock_name, timeout=LOCK_WAIT_SECONDS):
                return await self._renew_locked(current, force, is_alive)
        except LockTimeout:
            raise BusyError("session.busy", detail="renewal lock not granted in time") from None

    async def _renew_locked(self, current: StoredSession, force: bool,
                            is_alive: Callable[[StoredSession], bool]) -> StoredSession | None:
        latest = self.store.load_session()
        if latest is None or latest.session_id != current.session_id or not is_alive(latest):
            return None  # not this tab's login any more: the caller's sync says what happened
        now = self.clock()
        if latest.generation < current.generation:
            return None
        if latest.generation > current.generation and not self.due(latest, now):
            return latest  # another tab renewed meanwhile
        if not (self.can_renew(latest) and (force or self.due(latest, now))):
            return None
        self._wait_for_foreign_renewal(latest, now)
        metadata = await self.client.metadata()
        await self.client.keys()
        if not self._still_signed_in(latest):  # logged out while the keys were read
            return None
        self.store.mark_renewal(RenewalMark(latest.session_id, latest.generation,
                                            self.tab_id, now))
        try:
            return await self._refresh(latest, metadata)
        finally:
            self.store.clear_renewal_mark(self.tab_id)

    def _wait_for_foreign_renewal(self, latest: StoredSession, now: float) -> None:
        """BusyError while another tab's renewal of this generation may still land here."""
        mark = self.store.renewal_mark()
        if (mark is None or mark.by == self.tab_id
                or (mark.session_id, mark.generation) != (latest.session_id, latest.generation)):
            return
        if self._foreign_mark is None or self._foreign_mark[0] != mark:
            self._foreign_mark = (mark, now)
        if now - self._foreign_mark[1] < SETTLE_SECONDS:
            raise BusyError("session.busy", detail="another tab's renewal result not seen yet")
        # The tab that left the mark is gone without a result: go on with the stored token.

    async def _refresh(self, latest: StoredSession,
                       metadata: ProviderMetadata) -> StoredSession | None:
        assert latest.refresh_token is not None
        bound = latest.token_type == "DPoP"  # its refresh token needs the login's key
        prover = await self.client.dpop.prover(latest.session_id) if bound else None
        response = await self.client.refresh(latest.refresh_token, prover)
        now = self.clock()
        try:
            tokens = parse_token_response(response.status, response.text, require_id_token=False)
        except TokenError as error:
            if error.status is None or error.status >= 500:
                raise  # passing trouble: the session stays until it expires
            if not self._still_signed_in(latest):
                return None  # logged out meanwhile (the logout revoked the token): no news
            self._end(latest)
            raise SessionEndedError("session.ended", detail=error.detail or str(error.error)
                                    ) from None
        try:
            # A token type other than the login's is the provider breaking its contract,
            # not passing trouble: a Bearer answer to a DPoP login would leave the tokens
            # usable by whoever copies them, a DPoP answer to a Bearer login binds them to
            # a key this login never had. Retrying later is no way out either: the old
            # refresh token may be spent already.
            check_token_type(tokens, dpop=bound)
            claims = (await self.validator.validate(tokens, metadata, identity=latest.identity)
                      if tokens.id_token else None)
        except (TokenError, IdTokenError) as error:
            self._refuse(latest, tokens, metadata, error)
            return None  # the user logged out meanwhile: no news
        except AuthError:
            # Passing trouble after the answer (the keys could not be read): the old
            # refresh token may be spent, so keep the new one for the retry.
            self._commit(latest, with_new_refresh_token(latest, tokens), tokens, metadata)
            raise
        return self._commit(latest, renewed_session(latest, tokens, claims, now), tokens,
                            metadata)

    def _commit(self, latest: StoredSession, renewed: StoredSession, tokens: TokenResponse,
                metadata: ProviderMetadata) -> StoredSession | None:
        """Save a renewal over the generation it started from, or drop it."""
        if self.store.commit_renewal(latest, renewed):
            return renewed
        # A logout, another login or another renewal came first. Make this answer's
        # refresh token useless, unless it is the one the kept login still uses.
        stored = self.store.load_session()
        if stored is None or stored.session_id != latest.session_id:
            self.client.revoke(metadata, tokens.refresh_token or latest.refresh_token)
        elif tokens.refresh_token and tokens.refresh_token != stored.refresh_token:
            self.client.revoke(metadata, tokens.refresh_token)
        return None

    def _refuse(self, latest: StoredSession, tokens: TokenResponse, metadata: ProviderMetadata,
                error: AuthError) -> None:
        """Drop an answer that failed its checks: nothing of it is kept, its refresh token
        is revoked, and the login ends (SessionEndedError) unless it already has."""
        self.client.revoke(metadata, tokens.refresh_token)
        if not self._still_signed_in(latest):
            return
        self._end(latest)
        if latest.refresh_token != tokens.refresh_token:
            # A provider that does not rotate would otherwise keep the ended login's
            # refresh token alive.
            self.client.revoke(metadata, latest.refresh_token)
        raise SessionEndedError("session.renewal_invalid",
                                detail=f"{error.code}: {error}") from None

    def _still_signed_in(self, session: StoredSession) -> bool:
        return self.store.current_id() == session.session_id

    def _end(self, session: StoredSession) -> None:
        self.store.end_session(session.session_id, "ended", self.clock())
