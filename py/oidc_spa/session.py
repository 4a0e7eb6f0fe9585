"""The session object an app talks to.

    session = Session(settings, storage=..., http=..., verifier=...)
    result = await session.start(page_url)   # finishes a login, or restores one
    session.is_authenticated, session.user
    url = await session.login_url(return_to=page_url)   # send the browser there
    url = await session.logout()                        # and there, if not None
    change = await session.tick()                       # every second or so while open
    response = await session.fetch(api_url)             # a call with the access token

All I/O goes through the injected Storage, Http, SignatureVerifier and clock, so
the whole flow runs on CPython in tests; `browser.py` supplies the real ones.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from typing import Any, Literal, NamedTuple
from urllib.parse import urlencode

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
    DiscoveryError,
    IdTokenError,
    NetworkError,
    NotAuthenticatedError,
    SessionEndedError,
    TokenError,
    UserInfoError,
)
from .lock import LocalLock, Lock
from .store import SessionStore, Storage, StoredSession
from .tokens import (
    ALLOWED_ALGORITHMS,
    SignatureVerifier,
    TokenResponse,
    audiences_of,
    check_access_token_hash,
    check_header,
    check_id_token_claims,
    expiry_in,
    json_object,
    parse_jwt,
    parse_token_response,
    select_key,
    verify_signature,
)
from .transport import Http, HttpResponse, get, post_form

Clock = Callable[[], float]

# What tick() or sync_from_storage() saw happen to the session.
SessionChange = Literal["signed_in", "signed_out", "renewed", "expired", "ended"]
ENDED_MESSAGE = "Your session was ended by the sign-in provider. Please log in again."

# After a renewal failed for a passing reason (offline, provider down), wait this
# long (at most) before trying again.
RENEW_RETRY_SECONDS = 5.0
# How long to wait for another tab's renewal to become visible in storage.
SETTLE_SECONDS = 3.0
SETTLE_POLL_SECONDS = 0.05

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
        self._retry_renewal_at = 0.0
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

    # -- page load -----------------------------------------------------------

    async def start(self, page_url: str) -> StartResult:
        """On page load: finish a login the URL answers, else restore the kept session.

        On any AuthError the callback parameters are still removed from the URL:
        the caller shows the message and `error_clean_url(page_url)`.
        """
        response = read_callback(page_url)
        if response is None:
            self.restore()
            return StartResult()
        self.restore()  # a failed callback must not lose a session the user already has
        return await self.finish_login(response)

    def restore(self) -> bool:
        """Read the kept session; expired, foreign or unreadable ones are removed."""
        stored = self.store.load_session()
        if stored is None or not self._is_alive(stored):
            self.store.clear_session()
            self.current = None
            return False
        self.current = stored
        return True

    @staticmethod
    def error_clean_url(page_url: str) -> str:
        return url_without_response(page_url)

    async def finish_login(self, response: CallbackResponse) -> StartResult:
        now = self.clock()
        transaction = self.store.take_transaction(response.state, now) if response.state else None
        metadata = await self.metadata()
        code = check_callback(response, transaction, metadata, now)
        assert transaction is not None  # check_callback refuses a response without one
        tokens = parse_token_response(*await self._exchange_code(code, transaction, metadata))
        claims = await self._validated_id_token(tokens, transaction.nonce, metadata)
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
        )
        self.store.save_session(session)
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
        cannot be reached never leaves the user signed in here.
        """
        stored = self.current or self.store.load_session()
        self._forget()
        metadata = await self.metadata()
        return self._provider_logout_url(metadata, stored.id_token if stored else None)

    # -- while the page is open ----------------------------------------------

    def sync_from_storage(self) -> SessionChange | None:
        """Adopt what another tab did (login, logout, renewal) since we last looked."""
        had = self.current
        stored = self.store.load_session()
        if stored == had:
            return None
        if stored is None or not self._is_alive(stored):
            if stored is not None:
                self.store.clear_session()
            self.current = None
            if had is None:
                return None
            if self.clock() >= had.expires_at:
                return "expired"
            # Another tab's renewal was refused: say so here too, not "logged out".
            return "ended" if self.store.ended_since(had.issued_at) else "signed_out"
        self.current = stored
        if had is None or _subject(had) != _subject(stored):
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
        due = self._can_renew(current) and now >= max(self._renew_at(current),
                                                       self._retry_renewal_at)
        if due and await self._renew_quietly():
            change = change or "renewed"
        if self.current is not None and self.clock() >= self.current.expires_at:
            self._forget()
            return "expired"
        return change

    async def renew(self, *, force: bool = False) -> bool:
        """Renew the tokens with the refresh token; True when newer tokens are in place.

        Only one tab renews at a time: under the lock the stored session is read again,
        and a renewal another tab has just made is adopted instead of repeated.
        """
        async with self.lock.hold(self.store.prefix + "renew"):
            latest = await self._settled_session()
            if latest is None or not self._is_alive(latest):
                self.sync_from_storage()
                return False
            if self.current is None or latest.refresh_token != self.current.refresh_token:
                self.current = latest
                return True
            if not self._can_renew(latest) or not (force or self.clock() >= self._renew_at(latest)):
                return False
            assert latest.refresh_token is not None  # _can_renew checked it
            self.store.note_refresh_spent(latest.refresh_token)
            try:
                self.current = await self._refresh(latest)
            except SessionEndedError:
                raise
            except AuthError:
                # Our own attempt failed: no other tab should wait for its result.
                self.store.clear_refresh_spent()
                raise
            return True

    async def _settled_session(self) -> StoredSession | None:
        """The stored session, once any renewal another tab made has reached this tab.

        If the stored refresh token is marked as already presented, the session that
        replaced it is still on its way from the other tab's write: wait for it
        (briefly; a renewal that never lands is retried by a later tick).
        """
        waited = 0.0
        while True:
            latest = self.store.load_session()
            spent = latest is not None and latest.refresh_token is not None and (
                self.store.is_refresh_spent(latest.refresh_token))
            if not spent:
                return latest
            if waited >= SETTLE_SECONDS:
                raise NetworkError(
                    "The session is being renewed in another tab; trying again shortly.",
                    detail="renewed session not visible yet",
                )
            await asyncio.sleep(SETTLE_POLL_SECONDS)
            waited += SETTLE_POLL_SECONDS

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> HttpResponse:
        """Call an API with the access token as a Bearer token.

        Renews first when the token is about to expire, and once more followed by one
        retry when the API answers 401. NotAuthenticatedError when there is no session.
        """
        self.sync_from_storage()
        if not self.is_authenticated or self.current is None:
            raise NotAuthenticatedError("You are not logged in: log in to call the API.")
        if self._can_renew(self.current) and self.clock() >= self._renew_at(self.current):
            await self.renew()
        response = await self._call_api(method, url, headers, body)
        renewable = self.current is not None and self._can_renew(self.current)
        if response.status == 401 and renewable and await self.renew(force=True):
            response = await self._call_api(method, url, headers, body)
        return response

    async def _call_api(
        self, method: str, url: str, headers: dict[str, str] | None, body: str | None
    ) -> HttpResponse:
        if self.current is None:
            raise NotAuthenticatedError("You are not logged in: log in to call the API.")
        sent = {**(headers or {}), "Authorization": f"Bearer {self.current.access_token}"}
        return await self.http.request(method, url, headers=sent, body=body,
                                       timeout=self.settings.timeout)

    async def _renew_quietly(self) -> bool:
        """renew(), treating a passing failure (offline, provider down) as "try again soon"."""
        try:
            return await self.renew()
        except SessionEndedError:
            raise
        except AuthError:
            self._retry_renewal_at = self.clock() + RENEW_RETRY_SECONDS
            return False

    async def _refresh(self, latest: StoredSession) -> StoredSession:
        assert latest.refresh_token is not None
        metadata = await self.metadata()
        form = {
            "grant_type": "refresh_token",
            "refresh_token": latest.refresh_token,
            "client_id": self.settings.client_id,
        }
        response = await post_form(self.http, metadata.token_endpoint, form,
                                   timeout=self.settings.timeout)
        now = self.clock()
        try:
            tokens = parse_token_response(response.status, response.text, require_id_token=False)
            claims = (
                await self._validated_id_token(tokens, None, metadata, _subject(latest))
                if tokens.id_token
                else None
            )
        except TokenError as error:
            if error.status is None or error.status >= 500:
                raise  # passing trouble: the session stays until it expires
            self._forget(ended=True)
            raise SessionEndedError(ENDED_MESSAGE, detail=error.detail or str(error.error)
                                    ) from None
        except IdTokenError as error:
            self._forget(ended=True)
            raise SessionEndedError(
                "The sign-in provider sent a renewed session that failed its checks. "
                "Please log in again.",
                detail=error.user_message,
            ) from None
        renewed = StoredSession(
            id_token=tokens.id_token or latest.id_token,
            access_token=tokens.access_token,
            expires_at=float(claims["exp"]) if claims else latest.expires_at,
            access_token_expires_at=(now + tokens.expires_in) if tokens.expires_in else None,
            refresh_token=tokens.refresh_token or latest.refresh_token,
            scope=tokens.scope or latest.scope,
            profile=latest.profile,
            issued_at=now,
        )
        self.store.save_session(renewed)
        return renewed

    def _can_renew(self, session: StoredSession) -> bool:
        return self.settings.renew and session.refresh_token is not None

    def _renew_at(self, session: StoredSession) -> float:
        """When to renew: a margin before the first of the two tokens expires.

        The margin is at most a third of the tokens' lifetime, so short-lived tokens
        are not renewed the moment they arrive.
        """
        ends = min(session.expires_at, session.access_token_expires_at or math.inf)
        lifetime = ends - session.issued_at if session.issued_at else math.inf
        return ends - min(self.settings.renew_margin, max(lifetime / 3, 1.0))

    def _forget(self, *, ended: bool = False) -> None:
        """Remove the session; `ended` notes for other tabs that the provider ended it."""
        if ended:
            self.store.note_ended(self.clock())
        self.store.clear_session()
        self.current = None

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
        nonce: str | None,
        metadata: ProviderMetadata,
        expected_sub: str | None = None,
    ) -> dict[str, Any]:
        parsed = parse_jwt(tokens.id_token)
        check_header(parsed.header)
        allowed = ALLOWED_ALGORITHMS & frozenset(metadata.signing_algorithms)
        key = select_key(parsed.header, await self._keys(refresh=False), allowed)
        if key is None:  # the provider may have rotated its keys: read them once more
            key = select_key(parsed.header, await self._keys(refresh=True), allowed)
        if key is None:
            raise IdTokenError(
                "The ID token is signed with a key the sign-in provider does not publish.",
                detail=f"kid={parsed.header.get('kid')!r}",
            )
        await verify_signature(parsed, key, self.verifier)
        check_id_token_claims(
            parsed.claims,
            issuer=metadata.issuer,
            client_id=self.settings.client_id,
            now=self.clock(),
            leeway=self.settings.leeway,
            nonce=nonce,
        )
        check_access_token_hash(parsed.claims, parsed.header["alg"], tokens.access_token)
        if expected_sub is not None and parsed.claims["sub"] != expected_sub:
            # OpenID Connect Core 12.2: a renewed ID token is about the same user.
            raise IdTokenError("The renewed ID token is about a different user.")
        return parsed.claims

    async def _keys(self, *, refresh: bool) -> dict[str, Any]:
        if self._jwks is None or refresh:
            metadata = await self.metadata()
            response = await get(self.http, metadata.jwks_uri, timeout=self.settings.timeout)
            try:
                jwks = json.loads(response.text) if response.status == 200 else None
            except ValueError:
                jwks = None
            if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
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

    def _provider_logout_url(self, metadata: ProviderMetadata, id_token: str | None) -> str | None:
        if metadata.auth0_logout_endpoint:
            query = {"client_id": self.settings.client_id, "returnTo": self.settings.redirect_uri}
            return f"{metadata.auth0_logout_endpoint}?{urlencode(query)}"
        if metadata.end_session_endpoint is None:
            return None
        query = {"client_id": self.settings.client_id,
                 "post_logout_redirect_uri": self.settings.redirect_uri}
        if id_token:
            query = {"id_token_hint": id_token, **query}
        separator = "&" if "?" in metadata.end_session_endpoint else "?"
        return f"{metadata.end_session_endpoint}{separator}{urlencode(query)}"

    @property
    def seconds_left(self) -> float | None:
        """Until the session ends if it is not renewed (for an "expires in" indicator)."""
        if not self.is_authenticated or self.current is None:
            return None
        return max(0.0, self.current.expires_at - self.clock())

    @property
    def renews_automatically(self) -> bool:
        return self.current is not None and self._can_renew(self.current)

    def _is_alive(self, stored: StoredSession) -> bool:
        """The tutorial's check, done with PyJWT: the kept ID token's exp is still ahead.

        The token was fully validated when it was stored; here it is also checked to be
        this app's (iss, aud), so a record copied from another app is not taken.
        """
        try:
            claims = parse_jwt(stored.id_token).claims
            exp = expiry_in(claims)
        except IdTokenError:
            return False
        audiences = audiences_of(claims)
        return (
            exp == stored.expires_at
            and self.clock() < exp
            and claims.get("iss") == self.settings.issuer
            and audiences is not None
            and self.settings.client_id in audiences
        )


def _subject(session: StoredSession) -> str | None:
    try:
        sub = parse_jwt(session.id_token).claims.get("sub")
    except IdTokenError:
        return None
    return sub if isinstance(sub, str) else None
