"""The profile shown on the page: userinfo's, checked to be about the ID token's user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import UserInfoError
from .portable.strict_json import json_object
from .transport import HttpResponse

# Claims about the token itself rather than the user: left out of a profile
# built from the ID token.
PROTOCOL_CLAIMS = frozenset(
    {"iss", "aud", "azp", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash",
     "auth_time", "acr", "amr", "sid", "jti"}
)


def profile_from(claims: Mapping[str, Any], userinfo: HttpResponse | None, *,
                 has_endpoint: bool) -> tuple[dict[str, Any], str | None]:
    """The profile and the code of a warning for the user (a key of MESSAGES), if any.

    userinfo's answer when it is usable and about the same `sub` (OpenID Connect Core
    5.3.2); a 401 refuses the login; otherwise the ID token's own claims, with a
    warning when the provider has a userinfo endpoint that failed.
    """
    from_id_token = {k: v for k, v in claims.items() if k not in PROTOCOL_CLAIMS}
    if not has_endpoint:
        return from_id_token, None
    if userinfo is not None and userinfo.status == 401:
        raise UserInfoError("userinfo.unauthorized", status=401)
    profile = json_object(userinfo.text) if userinfo and userinfo.status == 200 else None
    if profile is None:
        return from_id_token, "userinfo.unavailable"
    if profile.get("sub") != claims["sub"]:
        raise UserInfoError(
            "userinfo.other_user",
            detail="userinfo sub differs from the ID token's sub",
        )
    return profile, None
