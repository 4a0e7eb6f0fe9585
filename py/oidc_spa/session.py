"""The session object an app talks to.

    session = Session(settings, storage=..., http=..., verifier=...)
    result = await session.start(page_url)   # finishes a login, or restores one
    session.is_authenticated, session.user
    url = await session.login_url(return_to=page_url)   # send the browser there
    url = await session.logout()                        # and there, if not None
    change = await session.tick()                       # every second or so while open
    response = await session.fetch(api_url)             # a call with the access token

All I/O goes through the injected Storage, Http, SignatureVerifier, Lock and clock,
so the whole flow runs on CPython in tests; `browser.py` supplies the real ones.
Session keeps the order of the steps; the decisions are pure functions (authorize,
tokens, renewal, logout, profile) and the renewal protocol between tabs is Renewer's.

A logout, or any ending, removes the pointer to the signed-in login; renewals only
ever write that login's own record, over the generation they started from. So a
renewal that answers after a logout is dropped, whatever the order in which the
tabs' writes land (SessionStore, Renewer).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

from .authorize import (
    CallbackResponse,
    LoginTransaction,
    authorization_url,
    check_callback,
    read_callback,
    url_without_response,
)
from .config import ProviderMetadata, Settings
from .errors import (
    AuthError,
    BusyError,
    DestinationError,
    IdTokenError,
    NotAuthenticatedError,
    SessionEndedError,
    UnreadableAnswerError,
)
from .id_token import IdTokenValidator
from .lock import LocalLock, Lock
from .logout import provider_logout_url
from .messages import MESSAGES
from .pkce import random_token
from .profile import profile_from
from .provider_client import ProviderClient
from .renewal import identity_of, is_alive
from .renewer import ENDED_MESSAGE, Renewer
from .store import SessionStore, Storage, StoredSession
from .tokens import SignatureVerifier, parse_jwt, parse_token_response
from .transport import Http, HttpResponse
from .urls import origin, token_destination_problem

Clock = Callable[[], float]

# What tick() or sync_from_storage() saw happen to the session.
SessionChange = Literal["signed_in", "signed_out", "renewed", "expired", "ended"]
__all__ = ["ENDED_MESSAGE", "Session", "SessionChange", "StartResult"]

# After a renewal failed for a passing reason (offline, provider down), wait this
# long (less near the session's end) before trying again; after finding another
# tab's renewal in flight, this long.
RENEW_RETRY_SECONDS = 5.0
BUSY_RETRY_SECONDS = 0.5


class StartResult(NamedTuple):
    """What the page should do after start().

    clean_url: where the address bar should point (a callback's parameters removed,
    or the page the user started the login from); None to leave it alone.
    warning_code: the code (a key of MESSAGES) of something the user should know
    although the session works; `warning` is its sentence.
    """

    clean_url: str | None = None
    warning_code: str | None = None

    @property
    def warning(self) -> str | None:
        return MESSAGES[self.warning_code] if self.warning_code else None


class Session:
    def __init__(
        self,
        settings: Settings,
        *,
        storage: Storage,
        http: Http,
        verifier: SignatureVerifier,
        clock: Clock = time.time,
        lock: Lock | None = None,
    ) -> None:
        self.settings = settings
        self.store = SessionStore(storage, settings.client_id)
        self.http = http
        self.clock = clock
        self.client = ProviderClient(settings, http)
        self.validator = IdTokenValidator(settings, self.client, verifier, clock)
        self.renewer = Renewer(settings, self.store, self.client, self.validator,
                               lock or LocalLock(), clock, tab_id=random_token(12))
        self.current: StoredSession | None = None
        self._retry_renewal_at = 0.0

    # -- state ---------------------------------------------------------------

    @property
    def is_authenticated(self) -> bool:
        return self.current is not None and self.clock() < self.current.expires_at

    @property
    def user(self) -> dict[str, Any] | None:
        return dict(self.current.profile) if self.is_authenticated and self.current else None

    @property
    def expires_at(self) -> float | None:
        return self.current.expires_at if self.is_authenticated and self.current else None

    @property
    def access_token(self) -> str | None:
        return self.current.access_token if self.is_authenticated and self.current else None

    @property
    def seconds_left(self) -> float | None:
        """Until the session ends if it is not renewed (for an "expires in" indicator)."""
        if not self.is_authenticated or self.current is None:
            return None
        return max(0.0, self.current.expires_at - self.clock())

    @property
    def renews_automatically(self) -> bool:
        return self.current is not None and self.renewer.can_renew(self.current)

    async def metadata(self) -> ProviderMetadata:
        return await self.client.metadata()

    # -- page load -----------------------------------------------------------

    async def start(self, page_url: str) -> StartResult:
        """On page load: restore the kept session, then finish a login the URL answers.

        On any AuthError the caller shows the message and `error_clean_url(page_url)`;
        a session the user already had stays (a bad callback must not hide it).
        """
        self.restore()
        try:
            response = read_callback(page_url)
            if response is None:
                return StartResult()
            return await self.finish_login(response)
        finally:
            now = self.clock()
            self.store.prune_transactions(now)
            self.store.remove_orphans(now)

    def restore(self) -> bool:
        """Read the kept session; expired, foreign or unreadable ones are removed."""
        stored = self.store.load_session()
        if stored is None or not self._is_alive(stored):
            if stored is not None or self.store.current_id() is not None:
                self.store.end_session(stored.session_id if stored else None, "expired",
                                       self.clock())
            self.current = None
            return False
        self.current = stored
        return True

    @staticmethod
    def error_clean_url(page_url: str) -> str:
        return url_without_response(page_url)

    async def finish_login(self, response: CallbackResponse) -> StartResult:
        """Check the callback, exchange the code, validate, and only then store."""
        try:
            return await self._finish_login(response)
        except AuthError:
            raise
        except Exception as error:  # a provider answer that broke a rule no check foresaw
            raise UnreadableAnswerError(
                "callback.unusable_answer", detail=f"{type(error).__name__}: {error}"
            ) from None

    async def _finish_login(self, response: CallbackResponse) -> StartResult:
        now = self.clock()
        transaction = self.store.take_transaction(response.state, now) if response.state else None
        metadata = await self.client.metadata()
        code = check_callback(response, transaction, metadata, now)
        assert transaction is not None  # check_callback refuses a response without one
        answer = await self.client.exchange_code(code, transaction)
        tokens = parse_token_response(answer.status, answer.text)
        claims = await self.validator.validate(tokens, metadata, nonce=transaction.nonce)
        profile, warning = profile_from(claims, await self.client.userinfo(tokens.access_token),
                                        has_endpoint=metadata.userinfo_endpoint is not None)
        session = StoredSession(
            id_token=tokens.id_token,
            access_token=tokens.access_token,
            expires_at=float(claims["exp"]),
            access_token_expires_at=(now + tokens.expires_in) if tokens.expires_in else None,
            refresh_token=tokens.refresh_token,
            scope=tokens.scope or self.settings.scope,
            profile=profile,
            issued_at=now,
            session_id=random_token(18),
            identity=identity_of(claims),
        )
        self.store.save_new_session(session)
        self.current = session
        return StartResult(clean_url=transaction.return_to, warning_code=warning)

    # -- user actions --------------------------------------------------------

    async def login_url(self, return_to: str) -> str:
        """Start a login: remember it, and return the provider URL to send the browser to."""
        metadata = await self.client.metadata()
        now = self.clock()
        transaction = LoginTransaction.start(self.settings, return_to, now)
        self.store.save_transaction(transaction, now)
        return authorization_url(metadata, self.settings, transaction)

    async def logout(self) -> str | None:
        """Forget the session here; return the URL that ends it at the provider too.

        The local session is gone before anything else happens, so a provider that
        cannot be reached never leaves the user signed in here. Then the refresh token
        is revoked (RFC 7009) by a request the page does not wait for.
        """
        stored = self.store.load_session()
        ours = self.current
        self.current = None
        self.store.end_session(None, "logout", self.clock())
        if ours is not None:
            self.store.end_session(ours.session_id, "logout", self.clock())
        self.store.clear_transactions()
        metadata = await self.client.metadata()
        for session in {s.refresh_token: s for s in (stored, ours) if s}.values():
            self.client.revoke(metadata, session.refresh_token)
        last = stored or ours
        return provider_logout_url(metadata, self.settings, last.id_token if last else None)

    # -- while the page is open ----------------------------------------------

    def sync_from_storage(self) -> SessionChange | None:
        """Adopt what another tab did (login, logout, renewal) since we last looked."""
        had = self.current
        stored = self.store.load_session()
        if stored == had:
            return None
        if stored is None or not self._is_alive(stored):
            if stored is not None:
                self.store.end_session(stored.session_id, "expired", self.clock())
            self.current = None
            if had is None:
                return None
            if self.clock() >= had.expires_at:
                return "expired"
            ended = self.store.ended(had.session_id)
            # Another tab's renewal was refused: say so here too, not "logged out".
            return "ended" if ended is not None and ended.reason == "ended" else "signed_out"
        self.current = stored
        return "signed_in" if had is None or had.session_id != stored.session_id else "renewed"

    async def tick(self) -> SessionChange | None:
        """Keep the session true while the page is open: call it every second or so.

        Picks up other tabs' changes, renews ahead of expiry when it can, and ends the
        session at its expiry when it cannot. Raises SessionEndedError when the
        provider refuses a renewal (the session is then already forgotten here).
        """
        change = self.sync_from_storage()
        current = self.current
        if current is None:
            return change
        now = self.clock()
        due = self.renewer.due(current, now) and now >= self._retry_renewal_at
        if due and await self._renew_quietly():
            change = change or "renewed"
        if self.current is not None and self.clock() >= self.current.expires_at:
            self.store.end_session(self.current.session_id, "expired", self.clock())
            self.current = None
            return "expired"
        return change

    async def renew(self, *, force: bool = False) -> bool:
        """Renew the tokens with the refresh token; True when newer tokens are in place
        (this tab's, or another tab's that it adopted)."""
        current = self.current
        if current is None:
            return False
        try:
            newer = await self.renewer.renew(current, force=force, is_alive=self._is_alive)
        except SessionEndedError:
            if self.current is not None and self.current.session_id == current.session_id:
                self.current = None
            raise
        # A logout in this tab while the renewal was out leaves self.current None.
        if newer is None or self.current is None or self.current.session_id != newer.session_id:
            return False
        self.current = newer
        return True

    async def _renew_quietly(self) -> bool:
        """renew(), treating a passing failure (offline, provider down) as "try again soon"."""
        try:
            return await self.renew()
        except SessionEndedError:
            raise
        except BusyError:
            self._retry_renewal_at = self.clock() + BUSY_RETRY_SECONDS
        except AuthError:
            # Sooner when the session is about to end: a few tries still fit before it.
            left = self.current.expires_at - self.clock() if self.current else 0.0
            self._retry_renewal_at = self.clock() + min(RENEW_RETRY_SECONDS, max(1.0, left / 4))
        return False

    # -- API calls -------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> HttpResponse:
        """Call an API with the access token as a Bearer token.

        Only to an origin the settings name (apiUrl, apiOrigins) over https (or http on
        loopback). Renews first when the token is about to expire, and once more
        followed by one retry when the API answers 401. NotAuthenticatedError when
        there is no session.
        """
        problem = token_destination_problem(url, self.settings.api_origins)
        if problem is not None:
            raise DestinationError(problem, detail=url, origin=origin(url),
                                   allowed=", ".join(self.settings.api_origins))
        self.sync_from_storage()
        if not self.is_authenticated or self.current is None:
            raise NotAuthenticatedError("fetch.not_logged_in")
        if self.renewer.due(self.current, self.clock()):
            try:
                await self.renew()
            except SessionEndedError:
                raise
            except AuthError:
                if self._access_token_expired():
                    raise
                # The token still works: call with it; the tick renews later.
        response = await self._call_api(method, url, headers, body)
        renewable = self.current is not None and self.renewer.can_renew(self.current)
        if response.status == 401 and renewable and await self.renew(force=True):
            response = await self._call_api(method, url, headers, body)
        return response

    def _access_token_expired(self) -> bool:
        ends = self.current.access_token_expires_at if self.current else None
        return self.current is None or self.clock() >= (ends or math.inf)

    async def _call_api(
        self, method: str, url: str, headers: dict[str, str] | None, body: str | None
    ) -> HttpResponse:
        if self.current is None:
            raise NotAuthenticatedError("fetch.not_logged_in")
        sent = {**(headers or {}), "Authorization": f"Bearer {self.current.access_token}"}
        return await self.http.request(method, url, headers=sent, body=body,
                                       timeout=self.settings.timeout)

    def _is_alive(self, stored: StoredSession) -> bool:
        """The tutorial's check, with the ID token decoded by PyJWT (renewal.is_alive)."""
        try:
            claims = parse_jwt(stored.id_token).claims
        except IdTokenError:
            return False
        return is_alive(stored, claims, now=self.clock(), issuer=self.settings.issuer,
                        client_id=self.settings.client_id)
