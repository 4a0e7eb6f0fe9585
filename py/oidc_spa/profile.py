"""The profile shown on the page: userinfo's, checked to be about the ID token's user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import UserInfoError
from .safe_json import json_object
from .transport import HttpResponse

# Claims about the token itself rather than the user: left out of a profile
# built from the ID token.
PROTOCOL_CLAIMS = frozenset(
    {"iss", "aud", "azp", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash",
     "auth_time", "acr", "amr", "sid", "jti"}
)
PROFILE_UNAVAILABLE = ("Your full profile could not be loaded right now; showing what the "
                       "sign-in provider sent with the login.")


def profile_from(claims: Mapping[str, Any], userinfo: HttpResponse | None, *,
                 has_endpoint: bool) -> tuple[dict[str, Any], str | None]:
    """The profile and a warning for the user, if any.

    userinfo's answer when it is usable and about the same `sub` (OpenID Connect Core
    5.3.2); a 401 refuses the login; otherwise the ID token's own claims, with a
    warning when the provider has a userinfo endpoint that failed.
    """
    from_id_token = {k: v for k, v in claims.items() if k not in PROTOCOL_CLAIMS}
    if not has_endpoint:
        return from_id_token, None
    if userinfo is not None and userinfo.status == 401:
        raise UserInfoError(
            "The sign-in provider did not accept this login's access token.", status=401
        )
    profile = json_object(userinfo.text) if userinfo and userinfo.status == 200 else None
    if profile is None:
        return from_id_token, PROFILE_UNAVAILABLE
    if profile.get("sub") != claims["sub"]:
        raise UserInfoError(
            "The profile the sign-in provider sent belongs to someone else; login refused.",
            detail="userinfo sub differs from the ID token's sub",
        )
    return profile, None
