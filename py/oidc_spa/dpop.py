"""DPoP (RFC 9449): tokens bound to a key the page holds and cannot export.

A DPoP proof is a JWT signed with the login's private key (ES256, WebCrypto P-256, made
non-extractable in the browser: oidc_spa.browser.IndexedDbKeys). It names the request
(`htm`, `htu`), is fresh (`iat`, a random `jti`), carries the server's `nonce` when the
server asked for one, and for a resource request the access token's hash (`ath`). The
provider binds the tokens it issues to the key's thumbprint (`cnf.jkt`): a token copied
out of storage is worthless without the key.

What is decided here is pure; signing is the key's (the DpopKey protocol).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from .config import ProviderMetadata
from .errors import ConfigError, NotAuthenticatedError
from .pkce import base64url, random_token
from .portable.strict_json import json_object
from .portable.urls import split_url
from .transport import HttpResponse

ALGORITHM = "ES256"
# The error a server answers when it wants a proof with its nonce (RFC 9449 8 and 9).
USE_NONCE = "use_dpop_nonce"
_NONCE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 9449 8.1: NQCHAR, at least one


class DpopKey(Protocol):
    """The login's key pair: the private half never leaves the browser's key store."""

    def public_jwk(self) -> dict[str, str]: ...

    async def sign(self, data: bytes) -> bytes:
        """ES256: the 64-byte r || s signature of `data` (what WebCrypto's ECDSA gives)."""
        ...


def htu(url: str) -> str:
    """The request's URL without query and fragment (RFC 9449 4.2)."""
    scheme, netloc, path = split_url(url)[:3]
    return f"{scheme}://{netloc}{path}"


def access_token_hash(access_token: str) -> str:
    """`ath`: base64url of the SHA-256 of the access token's ASCII (RFC 9449 4.2)."""
    return base64url(hashlib.sha256(access_token.encode("ascii")).digest())


def proof_parts(public_jwk: Mapping[str, str], method: str, url: str, *, now: float,
                nonce: str | None = None, access_token: str | None = None,
                jti: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The proof's header and claims."""
    header = {"typ": "dpop+jwt", "alg": ALGORITHM,
              "jwk": {name: public_jwk[name] for name in ("kty", "crv", "x", "y")}}
    claims: dict[str, Any] = {"jti": jti or random_token(16), "htm": method.upper(),
                              "htu": htu(url), "iat": int(now)}
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    return header, claims


def signing_input(header: Mapping[str, Any], claims: Mapping[str, Any]) -> bytes:
    def part(value: Mapping[str, Any]) -> str:
        return base64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))

    return f"{part(header)}.{part(claims)}".encode("ascii")


def jwk_thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint of an EC public key: what `cnf.jkt` names."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return base64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def offered_nonce(response: HttpResponse) -> str | None:
    """The DPoP-Nonce a server sent (on any answer: it may rotate), if well formed."""
    value = response.headers.get("dpop-nonce")
    return value if isinstance(value, str) and _NONCE.fullmatch(value) else None


def asks_for_nonce(response: HttpResponse) -> bool:
    """The server refused the proof for want of its nonce: at the token endpoint a 400
    with error=use_dpop_nonce, at a resource a 401 whose WWW-Authenticate says so."""
    if offered_nonce(response) is None:
        return False
    if response.status == 400:
        body = json_object(response.text) or {}
        return body.get("error") == USE_NONCE
    challenge = response.headers.get("www-authenticate", "")
    return response.status == 401 and challenge.lower().startswith("dpop") and (
        f'error="{USE_NONCE}"' in challenge)


class Prover:
    """Makes proofs with one login's key, and keeps each server's latest nonce."""

    def __init__(self, key: DpopKey) -> None:
        self.key = key
        self._nonces: dict[str, str] = {}

    async def proof(self, method: str, url: str, *, now: float,
                    access_token: str | None = None) -> str:
        origin = htu(url).split("/", 3)[:3]
        nonce = self._nonces.get("/".join(origin))
        header, claims = proof_parts(self.key.public_jwk(), method, url, now=now,
                                     nonce=nonce, access_token=access_token)
        data = signing_input(header, claims)
        signature = await self.key.sign(data)
        return f"{data.decode('ascii')}.{base64url(signature)}"

    def remember(self, url: str, response: HttpResponse) -> None:
        nonce = offered_nonce(response)
        if nonce is not None:
            self._nonces["/".join(htu(url).split("/", 3)[:3])] = nonce


class DpopKeyStore(Protocol):
    """Where the logins' keys live (IndexedDB in the page), by login id."""

    async def create(self, session_id: str) -> DpopKey: ...

    async def load(self, session_id: str) -> DpopKey | None: ...

    async def delete_all(self) -> None: ...


def wants_dpop(setting: bool | str, metadata: ProviderMetadata, *, can_keep_keys: bool) -> bool:
    """Whether a new login binds its tokens to a key: the "dpop" setting, what the
    provider offers (discovery's dpop_signing_alg_values_supported), and whether this
    page can keep a key. ConfigError when DPoP is required and impossible."""
    if setting is False:
        return False
    offered = ALGORITHM in metadata.dpop_algorithms
    if setting == "auto":
        return offered and can_keep_keys
    # Required. Auth0 (fixed endpoints, no discovery) is taken at the setting's word.
    if not can_keep_keys or not (offered or metadata.auth0_logout_endpoint):
        raise ConfigError("config.dpop_unsupported")
    return True


class Binder:
    """The DPoP side of requests: one Prover per login (its key loaded once), proofs on
    the requests that need them, and one retry when a server asks for its nonce."""

    def __init__(self, keys: DpopKeyStore | None, clock: Callable[[], float]) -> None:
        self.keys = keys
        self.clock = clock
        self._provers: dict[str, Prover] = {}

    @property
    def can_keep_keys(self) -> bool:
        return self.keys is not None

    async def prover(self, session_id: str, *, create: bool = False) -> Prover:
        prover = self._provers.get(session_id)
        if prover is None:
            if self.keys is None:
                raise ConfigError("config.dpop_unsupported")
            key = await (self.keys.create(session_id) if create
                         else self.keys.load(session_id))
            if key is None:
                raise NotAuthenticatedError("dpop.no_key", detail=session_id)
            prover = self._provers[session_id] = Prover(key)
        return prover

    async def for_new_login(self, setting: bool | str, metadata: ProviderMetadata,
                            session_id: str) -> Prover | None:
        """A new key for a login about to get its tokens, when it binds them (wants_dpop)."""
        if not wants_dpop(setting, metadata, can_keep_keys=self.can_keep_keys):
            return None
        return await self.prover(session_id, create=True)

    async def send(self, send: Callable[[dict[str, str]], Awaitable[HttpResponse]],
                   prover: Prover, method: str, url: str,
                   access_token: str | None = None) -> HttpResponse:
        """`send(headers)` with a fresh proof in `DPoP` (and the access token as a DPoP
        credential when given); once more with the server's nonce if it asks for one."""
        response = None
        for _attempt in range(2):
            headers = {"DPoP": await prover.proof(method, url, now=self.clock(),
                                                  access_token=access_token)}
            if access_token is not None:
                headers["Authorization"] = f"DPoP {access_token}"
            response = await send(headers)
            prover.remember(url, response)
            if not asks_for_nonce(response):
                break
        assert response is not None
        return response

    async def delete_keys(self) -> None:
        """At logout: every key of this app goes (a new login makes a new one). A store
        that fails to delete must not stop the logout: the tokens are revoked anyway."""
        self._provers.clear()
        if self.keys is not None:
            with contextlib.suppress(Exception):
                await self.keys.delete_all()
