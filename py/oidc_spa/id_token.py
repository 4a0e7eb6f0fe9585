"""Validating a new ID token: the key from the provider's JWKS, the signature, then the
claims (OpenID Connect Core 3.1.3.7, and 12.2 for a renewed one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .config import ProviderMetadata, Settings
from .errors import IdTokenError
from .provider_client import ProviderClient
from .renewal import check_renewed_claims
from .tokens import (
    ALLOWED_ALGORITHMS,
    SignatureVerifier,
    TokenResponse,
    check_access_token_hash,
    check_header,
    check_id_token_claims,
    parse_jwt,
    select_key,
    signature_valid,
)


class IdTokenValidator:
    def __init__(self, settings: Settings, client: ProviderClient, verifier: SignatureVerifier,
                 clock: Callable[[], float]) -> None:
        self.settings = settings
        self.client = client
        self.verifier = verifier
        self.clock = clock

    async def validate(
        self,
        tokens: TokenResponse,
        metadata: ProviderMetadata,
        *,
        nonce: str | None = None,
        identity: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The claims of `tokens.id_token`, once proven; IdTokenError otherwise.

        `nonce`: the login's, at a callback. `identity`: the login's claims, for a
        renewed token. At a login (no `identity`) with max_age in authorizationParams,
        auth_time must be there and recent enough; a renewed token repeats the login's.
        A key that cannot be found, or whose signature fails, sends the JWKS to be read
        once more: providers rotate keys, with or without a kid.
        """
        parsed = parse_jwt(tokens.id_token)
        check_header(parsed.header)
        allowed = ALLOWED_ALGORITHMS & frozenset(metadata.signing_algorithms)
        key = select_key(parsed.header, await self.client.keys(), allowed)
        if key is None or not await signature_valid(parsed, key, self.verifier):
            key = select_key(parsed.header, await self.client.keys(refresh=True), allowed)
            if key is None:
                raise IdTokenError("id_token.unknown_key",
                                   detail=f"kid={parsed.header.get('kid')!r}")
            if not await signature_valid(parsed, key, self.verifier):
                raise IdTokenError("id_token.signature")
        check_id_token_claims(
            parsed.claims,
            issuer=metadata.issuer,
            client_id=self.settings.client_id,
            now=self.clock(),
            leeway=self.settings.leeway,
            nonce=nonce,
            max_age=self.settings.max_age if identity is None else None,
        )
        check_access_token_hash(parsed.claims, parsed.header["alg"], tokens.access_token)
        if identity is not None:
            check_renewed_claims(identity, parsed.claims)
        return parsed.claims
