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
The decisions themselves are pure functions in authorize, tokens, renewal and logout.

What holds when tabs race (see SessionStore for the storage layout):
- A logout, or any ending, removes the pointer to the signed-in login; renewals only
  ever write that login's own record, over the generation they started from. So a
  renewal that answers after a logout is dropped (and its new refresh token revoked)
  whatever the order in which the tabs' writes land.
- Renewals run under a lock shared by the origin's tabs, requested with a timeout.
  Before presenting a refresh token a tab leaves a mark; a tab that then finds another
  tab's mark for the generation it sees waits (by the clock, not under the lock) for
  that renewal's result, and goes ahead only when the result never comes.
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
from .config import ProviderMetadata, Settings, auth0_metadata, parse_discovery
from .errors import (
    AuthError,
    BusyError,
    DestinationError,
    DiscoveryError,
    IdTokenError,
    NotAuthenticatedError,
    SessionEndedError,
    TokenError,
    UnreadableAnswerError,
    UserInfoError,
)
from .lock import LocalLock, Lock, LockTimeout
from .logout import provider_logout_url, revocation_form
from .pkce import random_token
from .renewal import (
    check_renewed_claims,
    identity_of,
    is_alive,
    refresh_form,
    renew_at,
    renewed_session,
    with_new_refresh_token,
)
from .safe_json import json_object
from .store import RenewalMark, SessionStore, Storage, StoredSession
from .tokens import (
    ALLOWED_ALGORITHMS,
    SignatureVerifier,
    TokenResponse,
    check_access_token_hash,
    check_header,
    check_id_token_claims,
    parse_jwt,
    parse_token_response,
    select_key,
    signature_valid,
)
from .transport import Http, HttpResponse, get, post_form, post_form_detached
from .urls import is_secure_url, origin

Clock = Callable[[], float]

# What tick() or sync_from_storage() saw happen to the session.
SessionChange = Literal["signed_in", "signed_out", "renewed", "expired", "ended"]
ENDED_MESSAGE = "Your session was ended by the sign-in provider. Please log in again."
BUSY_MESSAGE = "The session is being renewed in another tab; trying again shortly."

# After a renewal failed for a passing reason (offline, provider down), wait this
# long (less near the session's end) before trying again; after finding another
# tab's renewal in flight, this long.
RENEW_RETRY_SECONDS = 5.0
BUSY_RETRY_SECONDS = 0.5
# How long another tab's renewal result may take to reach this tab before that tab
# is taken to have died on the way (localStorage writes cross tabs in milliseconds).
SETTLE_SECONDS = 3.0
# How long a tab waits for the renewal lock before it tries again later.
LOCK_WAIT_SECONDS = 5.0

# Claims about the token itself rather than the user: left out of a profile
# built from the ID token.
_PROTOCOL_CLAIMS = frozenset(
    {"iss", "aud", "azp", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash",
     "auth_time", "acr", "amr", "sid", "jti"}
)


class StartResult(NamedTuple):
    """What the page should do after start().

    clean_url: where the address bar should point (a callback's parameters removed,
    or the page the user started the login from); None to leave it alone.
    warning: something the user should know although the session works.
    """

    clean_url: str | None = None
    warning: str | None = None


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
        self.verifier = verifier
        self.clock = clock
        self.lock = lock or LocalLock()
        self.current: StoredSession | None = None
        self.tab_id = random_token(12)  # names this tab's renewal marks
        self._retry_renewal_at = 0.0
        self._foreign_mark: tuple[RenewalMark, float] | None = None
        self._metadata: ProviderMetadata | None = (
            auth0_metadata(settings.auth0_domain) if settings.auth0_domain else None
        )
        self._jwks: dict[str, Any] | None = None

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
        return self.current is not None and self._can_renew(self.current)

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
                "The sign-in provider sent an answer this app cannot use. Please sign in again.",
                detail=f"{type(error).__name__}: {error}",
            ) from None

    async def _finish_login(self, response: CallbackResponse) -> StartResult:
        now = self.clock()
        transaction = self.store.take_transaction(response.state, now) if response.state else None
        metadata = await self.metadata()
        code = check_callback(response, transaction, metadata, now)
        assert transaction is not None  # check_callback refuses a response without one
        tokens = parse_token_response(*await self._exchange_code(code, transaction, metadata))
        claims = await self._validated_id_token(tokens, metadata, nonce=transaction.nonce)
        profile, warning = await self._profile(tokens.access_token, claims, metadata)
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
        return StartResult(clean_url=transaction.return_to, warning=warning)

    # -- user actions --------------------------------------------------------

    async def login_url(self, return_to: str) -> str:
        """Start a login: remember it, and return the provider URL to send the browser to."""
        metadata = await self.metadata()
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
        metadata = await self.metadata()
        for session in {s.refresh_token: s for s in (stored, ours) if s}.values():
            self._revoke(metadata, session.refresh_token)
        id_token = (stored or ours).id_token if (stored or ours) else None
        return provider_logout_url(metadata, self.settings, id_token)

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
        if had is None or had.session_id != stored.session_id:
            return "signed_in"
        return "renewed"

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
        due = self._renewal_due(current, now) and now >= self._retry_renewal_at
        if due and await self._renew_quietly():
            change = change or "renewed"
        if self.current is not None and self.clock() >= self.current.expires_at:
            self._end(self.current, "expired")
            return "expired"
        return change

    async def renew(self, *, force: bool = False) -> bool:
        """Renew the tokens with the refresh token; True when newer tokens are in place
        (this tab's, or another tab's that it adopted)."""
        try:
            async with self.lock.hold(self.store.renew_lock_name, timeout=LOCK_WAIT_SECONDS):
                return await self._renew_locked(force)
        except LockTimeout:
            raise BusyError(BUSY_MESSAGE, detail="renewal lock not granted in time") from None

    async def _renew_locked(self, force: bool) -> bool:
        latest = self.store.load_session()
        current = self.current
        if (latest is None or current is None or latest.session_id != current.session_id
                or not self._is_alive(latest)):
            return False  # not this tab's login any more: sync_from_storage says what happened
        if latest.generation != current.generation:
            if latest.generation < current.generation:
                return False
            self.current = latest  # another tab renewed meanwhile
            return True
        now = self.clock()
        if not self._can_renew(latest) or not (force or self._renewal_due(latest, now)):
            return False
        self._wait_for_foreign_renewal(latest, now)
        # Discovery and keys first: an outage there must not waste a refresh token.
        metadata = await self.metadata()
        await self._keys(refresh=False)
        if not self._still_signed_in(latest):  # logged out while the keys were read
            return False
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
            raise BusyError(BUSY_MESSAGE, detail="another tab's renewal result not seen yet")
        # The tab that left the mark is gone without a result: go on with the stored token.

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

    async def _refresh(self, latest: StoredSession, metadata: ProviderMetadata) -> bool:
        assert latest.refresh_token is not None
        response = await post_form(self.http, metadata.token_endpoint,
                                   refresh_form(self.settings.client_id, latest.refresh_token),
                                   timeout=self.settings.timeout)
        now = self.clock()
        try:
            tokens = parse_token_response(response.status, response.text, require_id_token=False)
        except TokenError as error:
            if error.status is None or error.status >= 500:
                raise  # passing trouble: the session stays until it expires
            if not self._still_signed_in(latest):
                return False  # logged out meanwhile (the logout revoked the token): no news
            self._end(latest, "ended")
            raise SessionEndedError(ENDED_MESSAGE, detail=error.detail or str(error.error)
                                    ) from None
        try:
            claims = (await self._validated_id_token(tokens, metadata, identity=latest.identity)
                      if tokens.id_token else None)
        except IdTokenError as error:
            self._revoke(metadata, tokens.refresh_token)
            if not self._still_signed_in(latest):
                return False
            self._end(latest, "ended")
            raise SessionEndedError(
                "The sign-in provider sent a renewed session that failed its checks. "
                "Please log in again.",
                detail=error.user_message,
            ) from None
        except AuthError:
            # Passing trouble after the answer (the keys could not be read): the old
            # refresh token may be spent, so keep the new one for the retry.
            self._commit(latest, with_new_refresh_token(latest, tokens), tokens, metadata)
            raise
        return self._commit(latest, renewed_session(latest, tokens, claims, now), tokens,
                            metadata)

    def _commit(self, latest: StoredSession, renewed: StoredSession, tokens: TokenResponse,
                metadata: ProviderMetadata) -> bool:
        """Save a renewal over the generation it started from, or drop it."""
        if self.store.commit_renewal(latest, renewed):
            if self.current is not None and self.current.session_id == latest.session_id:
                self.current = renewed
            return True
        # A logout, another login or another renewal came first. Make this answer's
        # refresh token useless, unless it is the one the kept login still uses.
        stored = self.store.load_session()
        if stored is None or stored.session_id != latest.session_id:
            self._revoke(metadata, tokens.refresh_token or latest.refresh_token)
        elif tokens.refresh_token and tokens.refresh_token != stored.refresh_token:
            self._revoke(metadata, tokens.refresh_token)
        return False

    def _still_signed_in(self, session: StoredSession) -> bool:
        return self.store.current_id() == session.session_id

    def _revoke(self, metadata: ProviderMetadata, refresh_token: str | None) -> None:
        if refresh_token and metadata.revocation_endpoint:
            post_form_detached(self.http, metadata.revocation_endpoint,
                               revocation_form(self.settings.client_id, refresh_token))

    def _end(self, session: StoredSession, reason: str) -> None:
        """End this login here and in storage, unless another login replaced it there."""
        self.store.end_session(session.session_id, reason, self.clock())
        if self.current is not None and self.current.session_id == session.session_id:
            self.current = None

    def _can_renew(self, session: StoredSession) -> bool:
        return (self.settings.renew and session.refresh_token is not None
                and renew_at(session, self.settings.renew_margin) < math.inf)

    def _renewal_due(self, session: StoredSession, now: float) -> bool:
        return self._can_renew(session) and now >= renew_at(session, self.settings.renew_margin)

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
        self._check_destination(url)
        self.sync_from_storage()
        if not self.is_authenticated or self.current is None:
            raise NotAuthenticatedError("You are not logged in: log in to call the API.")
        if self._renewal_due(self.current, self.clock()):
            try:
                await self.renew()
            except SessionEndedError:
                raise
            except AuthError:
                if self._access_token_expired():
                    raise
                # The token still works: call with it; the tick renews later.
        response = await self._call_api(method, url, headers, body)
        renewable = self.current is not None and self._can_renew(self.current)
        if response.status == 401 and renewable and await self.renew(force=True):
            response = await self._call_api(method, url, headers, body)
        return response

    def _check_destination(self, url: str) -> None:
        allowed = self.settings.api_origins
        if is_secure_url(url) and origin(url) in allowed:
            return
        if not is_secure_url(url):
            reason = "the access token travels only over https (or http on this computer)"
        elif not allowed:
            reason = 'no API is set up: name it with "apiUrl" or "apiOrigins" in auth_config.json'
        else:
            reason = f"only to {', '.join(allowed)} (\"apiOrigins\" in auth_config.json)"
        raise DestinationError(f"This app may not send your access token to {origin(url)}: "
                               f"{reason}.", detail=url)

    def _access_token_expired(self) -> bool:
        ends = self.current.access_token_expires_at if self.current else None
        return self.current is None or self.clock() >= (ends or math.inf)

    async def _call_api(
        self, method: str, url: str, headers: dict[str, str] | None, body: str | None
    ) -> HttpResponse:
        if self.current is None:
            raise NotAuthenticatedError("You are not logged in: log in to call the API.")
        sent = {**(headers or {}), "Authorization": f"Bearer {self.current.access_token}"}
        return await self.http.request(method, url, headers=sent, body=body,
                                       timeout=self.settings.timeout)

    # -- provider ------------------------------------------------------------

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is None:
            response = await get(self.http, self.settings.discovery_url,
                                 timeout=self.settings.timeout)
            if response.status != 200:
                raise DiscoveryError(
                    "The sign-in provider's settings could not be loaded. Please try again.",
                    detail=f"HTTP {response.status} from {self.settings.discovery_url}",
                )
            self._metadata = parse_discovery(response.text, self.settings.issuer)
        return self._metadata

    async def _exchange_code(
        self, code: str, transaction: LoginTransaction, metadata: ProviderMetadata
    ) -> tuple[int, str]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": transaction.redirect_uri,
            "client_id": self.settings.client_id,
            "code_verifier": transaction.code_verifier,
        }
        response = await post_form(
            self.http, metadata.token_endpoint, form, timeout=self.settings.timeout
        )
        return response.status, response.text

    async def _validated_id_token(
        self,
        tokens: TokenResponse,
        metadata: ProviderMetadata,
        *,
        nonce: str | None = None,
        identity: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """OpenID Connect Core 3.1.3.7 on a new ID token; 12.2 too when `identity` (the
        login's claims) is given, for a renewed one."""
        parsed = parse_jwt(tokens.id_token)
        check_header(parsed.header)
        allowed = ALLOWED_ALGORITHMS & frozenset(metadata.signing_algorithms)
        key = select_key(parsed.header, await self._keys(refresh=False), allowed)
        signed = key is not None and await signature_valid(parsed, key, self.verifier)
        if not signed:
            # The provider may have rotated its keys (with or without a kid): read once more.
            key = select_key(parsed.header, await self._keys(refresh=True), allowed)
            if key is None:
                raise IdTokenError(
                    "The ID token is signed with a key the sign-in provider does not publish.",
                    detail=f"kid={parsed.header.get('kid')!r}",
                )
            if not await signature_valid(parsed, key, self.verifier):
                raise IdTokenError("The ID token's signature is not valid: it was not issued "
                                   "by the sign-in provider.")
        check_id_token_claims(
            parsed.claims,
            issuer=metadata.issuer,
            client_id=self.settings.client_id,
            now=self.clock(),
            leeway=self.settings.leeway,
            nonce=nonce,
        )
        check_access_token_hash(parsed.claims, parsed.header["alg"], tokens.access_token)
        if identity is not None:
            check_renewed_claims(identity, parsed.claims)
        return parsed.claims

    async def _keys(self, *, refresh: bool) -> dict[str, Any]:
        if self._jwks is None or refresh:
            metadata = await self.metadata()
            response = await get(self.http, metadata.jwks_uri, timeout=self.settings.timeout)
            jwks = json_object(response.text) if response.status == 200 else None
            if jwks is None or not isinstance(jwks.get("keys"), list):
                raise DiscoveryError(
                    "The sign-in provider's signing keys could not be loaded. Please try again.",
                    detail=f"HTTP {response.status} from {metadata.jwks_uri}",
                )
            self._jwks = jwks
        return self._jwks

    async def _profile(
        self, access_token: str, claims: dict[str, Any], metadata: ProviderMetadata
    ) -> tuple[dict[str, Any], str | None]:
        """The userinfo profile; the ID token's claims, with a warning, when it is unavailable."""
        from_id_token = {k: v for k, v in claims.items() if k not in _PROTOCOL_CLAIMS}
        if metadata.userinfo_endpoint is None:
            return from_id_token, None
        try:
            response = await get(
                self.http,
                metadata.userinfo_endpoint,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=self.settings.timeout,
            )
        except AuthError:
            response = None
        if response is not None and response.status == 401:
            raise UserInfoError(
                "The sign-in provider did not accept this login's access token.", status=401
            )
        profile = json_object(response.text) if response and response.status == 200 else None
        if profile is None:
            return from_id_token, (
                "Your full profile could not be loaded right now; showing what the sign-in "
                "provider sent with the login."
            )
        if profile.get("sub") != claims["sub"]:
            raise UserInfoError(
                "The profile the sign-in provider sent belongs to someone else; login refused.",
                detail="userinfo sub differs from the ID token's sub",
            )
        return profile, None

    def _is_alive(self, stored: StoredSession) -> bool:
        """The tutorial's check, with the ID token decoded by PyJWT (renewal.is_alive)."""
        try:
            claims = parse_jwt(stored.id_token).claims
        except IdTokenError:
            return False
        return is_alive(stored, claims, now=self.clock(), issuer=self.settings.issuer,
                        client_id=self.settings.client_id)
