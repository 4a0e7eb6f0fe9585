"""The provider's endpoints as this app calls them: discovery, JWKS, token, userinfo,
revocation. The I/O only; what the answers mean is decided elsewhere."""

from __future__ import annotations

import time
from typing import Any

from .authorize import LoginTransaction
from .config import ProviderMetadata, Settings, auth0_metadata, parse_discovery
from .dpop import Binder, Prover
from .errors import AuthError, DiscoveryError
from .logout import revocation_form
from .portable.strict_json import json_object
from .transport import Http, HttpResponse, get, post_form, post_form_detached


class ProviderClient:
    def __init__(self, settings: Settings, http: Http, dpop: Binder | None = None) -> None:
        self.settings = settings
        self.http = http
        self.dpop = dpop or Binder(None, time.time)
        self._metadata: ProviderMetadata | None = (
            auth0_metadata(settings.auth0_domain) if settings.auth0_domain else None
        )
        self._jwks: dict[str, Any] | None = None

    async def metadata(self) -> ProviderMetadata:
        """The endpoints: Auth0's fixed ones, or the discovery document's (read once)."""
        if self._metadata is None:
            url = self.settings.discovery_url
            response = await get(self.http, url, timeout=self.settings.timeout)
            if response.status != 200:
                raise DiscoveryError(
                    "discovery.unavailable",
                    detail=f"HTTP {response.status} from {url}",
                )
            self._metadata = parse_discovery(response.text, self.settings.issuer)
        return self._metadata

    async def keys(self, *, refresh: bool = False) -> dict[str, Any]:
        """The provider's JWKS, read once and again on `refresh` (a key rotation)."""
        if self._jwks is None or refresh:
            metadata = await self.metadata()
            response = await get(self.http, metadata.jwks_uri, timeout=self.settings.timeout)
            jwks = json_object(response.text) if response.status == 200 else None
            if jwks is None or not isinstance(jwks.get("keys"), list):
                raise DiscoveryError(
                    "discovery.keys_unavailable",
                    detail=f"HTTP {response.status} from {metadata.jwks_uri}",
                )
            self._jwks = jwks
        return self._jwks

    async def exchange_code(self, code: str, transaction: LoginTransaction,
                            prover: Prover | None = None) -> HttpResponse:
        """RFC 6749 4.1.3 with the PKCE verifier (RFC 7636 4.5), as a public client;
        with a DPoP proof when `prover` is given (RFC 9449 5)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": transaction.redirect_uri,
            "client_id": self.settings.client_id,
            "code_verifier": transaction.code_verifier,
        }
        return await self._token_request(form, prover)

    async def refresh(self, refresh_token: str, prover: Prover | None = None) -> HttpResponse:
        """RFC 6749 6, as a public client (a DPoP-bound refresh token needs a proof)."""
        return await self._token_request({"grant_type": "refresh_token",
                                          "refresh_token": refresh_token,
                                          "client_id": self.settings.client_id}, prover)

    async def _token_request(self, form: dict[str, str],
                             prover: Prover | None) -> HttpResponse:
        metadata = await self.metadata()
        url, timeout = metadata.token_endpoint, self.settings.timeout
        if prover is None:
            return await post_form(self.http, url, form, timeout=timeout)
        return await self.dpop.send(
            lambda headers: post_form(self.http, url, form, timeout=timeout, headers=headers),
            prover, "POST", url)

    async def userinfo(self, access_token: str,
                       prover: Prover | None = None) -> HttpResponse | None:
        """The userinfo answer; None when there is no endpoint or it cannot be reached."""
        metadata = await self.metadata()
        url = metadata.userinfo_endpoint
        if url is None:
            return None
        timeout = self.settings.timeout
        try:
            if prover is None:
                return await get(self.http, url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {access_token}"})
            return await self.dpop.send(
                lambda headers: get(self.http, url, headers=headers, timeout=timeout),
                prover, "GET", url, access_token=access_token)
        except AuthError:
            return None

    def revoke(self, metadata: ProviderMetadata, refresh_token: str | None) -> None:
        """RFC 7009, sent without waiting (it must survive the page leaving for the
        provider's logout); nothing when the provider has no revocation endpoint."""
        if refresh_token and metadata.revocation_endpoint:
            post_form_detached(self.http, metadata.revocation_endpoint,
                               revocation_form(self.settings.client_id, refresh_token))
