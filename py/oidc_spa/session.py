"""The session object an app talks to.

    session = Session(settings, storage=..., http=..., verifier=..., lock=...)
    result = await session.start(page_url)   # finishes a login, or restores one
    session.is_authenticated, session.user
    url = await session.login_url(return_to=page_url)   # send the browser there
    url = await session.logout()                        # and there, if not None
    change = await session.tick()                       # every second or so while open
    response = await session.fetch(api_url)             # a call with the access token

Session keeps the order of the steps. The decisions are pure functions (authorize,
tokens, renewal, logout, profile, outcomes, api_call), the provider's endpoints
ProviderClient's, renewal between tabs Renewer's, DPoP keys and proofs Binder's, what is
kept SessionStore's (a late renewal never undoes a logout). All I/O goes through injected
objects, so the whole flow runs on CPython in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .api_call import call_with_token, calls_after_failed_renewal, retries_after
from .authorize import (
    CallbackResponse,
    LoginTransaction,
    authorization_url,
    check_callback,
    read_callback,
    url_without_response,
)
from .config import Settings
from .dpop import Binder, DpopKeyStore
from .errors import AuthError, NotAuthenticatedError, SessionEndedError, UnreadableAnswerError
from .id_token import IdTokenValidator
from .lock import LocalLock, Lock
from .logout import id_token_hint, provider_logout_url, refresh_tokens_to_revoke
from .outcomes import SessionChange, StartResult, classify_change, login_notes
from .pkce import random_token
from .popup import check_popup_redirect_uri
from .profile import profile_from
from .provider_client import ProviderClient
from .renewal import BUSY_RETRY_SECONDS as BUSY_RETRY_SECONDS  # re-exported: the tests
from .renewal import RENEW_RETRY_SECONDS as RENEW_RETRY_SECONDS  # time retries by them
from .renewal import is_kept_alive, login_session, retry_renewal_at, same_login
from .renewer import ENDED_MESSAGE, Renewer
from .store import SessionStore, Storage, StoredSession
from .tokens import SignatureVerifier, check_token_type, parse_token_response
from .transport import Http, HttpResponse
from .urls import check_token_destination

Clock = Callable[[], float]

__all__ = ["ENDED_MESSAGE", "Session", "SessionChange", "StartResult"]


class Session:
    def __init__(self, settings: Settings, *, storage: Storage, http: Http,
                 verifier: SignatureVerifier, clock: Clock = time.time,
                 lock: Lock | None = None, dpop_keys: DpopKeyStore | None = None) -> None:
        self.settings = settings
        self.store = SessionStore(storage, settings.client_id)
        self.http = http
        self.clock = clock
        self.dpop = Binder(dpop_keys, clock)
        self.client = ProviderClient(settings, http, self.dpop)
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
    def _live(self) -> StoredSession | None:
        return self.current if self.is_authenticated else None

    @property
    def user(self) -> dict[str, Any] | None:
        return dict(self._live.profile) if self._live else None

    @property
    def expires_at(self) -> float | None:
        return self._live.expires_at if self._live else None

    @property
    def access_token(self) -> str | None:
        return self._live.access_token if self._live else None

    @property
    def seconds_left(self) -> float | None:
        """Until the session ends if it is not renewed (for an "expires in" indicator)."""
        return max(0.0, self._live.expires_at - self.clock()) if self._live else None

    @property
    def renews_automatically(self) -> bool:
        return self.current is not None and self.renewer.can_renew(self.current)

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
        session_id = random_token(18)
        prover = await self.dpop.for_new_login(self.settings.dpop, metadata, session_id)
        answer = await self.client.exchange_code(code, transaction, prover)
        tokens = parse_token_response(answer.status, answer.text)
        check_token_type(tokens, dpop=prover is not None)
        claims = await self.validator.validate(tokens, metadata, nonce=transaction.nonce)
        profile, warning = profile_from(claims, await self.client.userinfo(tokens.access_token,
                                                                           prover),
                                        has_endpoint=metadata.userinfo_endpoint is not None)
        session = login_session(tokens, claims, profile, now=now, session_id=session_id,
                                default_scope=self.settings.scope)
        self.store.save_new_session(session)
        self.current = session
        return StartResult(clean_url=transaction.return_to, warning_code=warning,
                           notes=login_notes(self.settings.scope, tokens.refresh_token))

    # -- user actions --------------------------------------------------------

    async def login_url(self, return_to: str, *, redirect_uri: str | None = None) -> str:
        """Start a login: remember it, and return the provider URL to send the browser to.
        `redirect_uri`: this login's (a popup's callback page), on the page's origin."""
        if redirect_uri is not None:
            check_popup_redirect_uri(redirect_uri, self.settings.redirect_uri)
        metadata = await self.client.metadata()
        now = self.clock()
        transaction = LoginTransaction.start(self.settings, return_to, now, redirect_uri)
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
        for refresh_token in refresh_tokens_to_revoke(stored, ours):
            self.client.revoke(metadata, refresh_token)
        await self.dpop.delete_keys()  # the next login makes a new one
        return provider_logout_url(metadata, self.settings, id_token_hint(stored, ours))

    # -- while the page is open ----------------------------------------------

    def sync_from_storage(self) -> SessionChange | None:
        """Adopt what another tab did (login, logout, renewal) since we last looked."""
        had, stored = self.current, self.store.load_session()
        if stored is not None and stored != had and not self._is_alive(stored):
            self.store.end_session(stored.session_id, "expired", self.clock())
            stored = None
        ended = self.store.ended(had.session_id) if had and stored is None else None
        self.current = stored
        return classify_change(had, stored, now=self.clock(),
                               ended_reason=ended.reason if ended else None)

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
            if same_login(self.current, current):
                self.current = None
            raise
        # A logout in this tab while the renewal was out leaves self.current None.
        if not same_login(self.current, newer):
            return False
        self.current = newer
        return True

    async def _renew_quietly(self) -> bool:
        """renew(), treating a passing failure (offline, provider down) as "try again soon"."""
        try:
            return await self.renew()
        except SessionEndedError:
            raise
        except AuthError as error:
            self._retry_renewal_at = retry_renewal_at(error, self.current, self.clock())
        return False

    # -- API calls -------------------------------------------------------------

    async def fetch(self, url: str, *, method: str = "GET",
                    headers: dict[str, str] | None = None,
                    body: str | None = None) -> HttpResponse:
        """Call an API with the access token (Bearer, or DPoP-bound with a proof).

        Only to an origin the settings name (apiUrl, apiOrigins) over https (or http on
        loopback). Renews first when the token is about to expire, and once more
        followed by one retry when the API answers 401. NotAuthenticatedError when
        there is no session.
        """
        check_token_destination(url, self.settings.api_origins)
        self.sync_from_storage()
        if not self.is_authenticated or self.current is None:
            raise NotAuthenticatedError("fetch.not_logged_in")
        if self.renewer.due(self.current, self.clock()):
            try:
                await self.renew()
            except AuthError as error:
                if not calls_after_failed_renewal(error, self.current, self.clock()):
                    raise
        response = await self._call_api(method, url, headers, body)
        renewable = self.renews_automatically
        if retries_after(response.status, renewable) and await self.renew(force=True):
            response = await self._call_api(method, url, headers, body)
        return response

    async def _call_api(self, method: str, url: str, headers: dict[str, str] | None,
                        body: str | None) -> HttpResponse:
        if self.current is None:
            raise NotAuthenticatedError("fetch.not_logged_in")
        return await call_with_token(self.http, self.dpop, self.current, method, url,
                                     headers=headers, body=body, timeout=self.settings.timeout)

    def _is_alive(self, stored: StoredSession) -> bool:
        return is_kept_alive(stored, now=self.clock(), issuer=self.settings.issuer,
                             client_id=self.settings.client_id)
