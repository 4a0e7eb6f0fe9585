"""One exception type per thing that can go wrong.

Every error carries `code`, a stable key of messages.MESSAGES (e.g. `id_token.audience`)
that an app can branch on or translate by; `user_message`, that key's sentence, fit to
show on the page as is; and `detail`, extra text for the developer console. No error
ever asks the page to show a traceback.
"""

from __future__ import annotations

from .messages import MESSAGES, PROVIDER_SAID


class AuthError(Exception):
    """Base class: something stopped the login session from working.

    `code` must be a key of MESSAGES (a KeyError otherwise, so a typo fails loudly);
    `params` fill the sentence's `{fields}`.
    """

    def __init__(self, code: str, *, detail: str = "", **params: object) -> None:
        self.code = code
        self.detail = detail
        self._set_message(MESSAGES[code].format(**params))

    def _set_message(self, user_message: str) -> None:
        self.user_message = user_message
        detail = self.detail
        self.args = (user_message if not detail else f"{user_message} ({detail})",)

    def _add_provider_words(self, description: str | None) -> None:
        """Append what the provider said, in its own words (never translated)."""
        if description:
            said = PROVIDER_SAID.format(description=description)
            self._set_message(f"{self.user_message} {said}")


class ConfigError(AuthError):
    """auth_config.json is missing, is not JSON, or has a wrong value."""


class DiscoveryError(AuthError):
    """The provider's metadata could not be read or does not fit the settings."""


class NetworkError(AuthError):
    """A request to the provider failed to arrive or took too long."""


class CallbackError(AuthError):
    """The URL the browser came back with is not a response to our own login."""


class PopupError(AuthError):
    """A popup login did not get its answer: the popup was blocked, closed or timed out
    (nothing is stored), or its return address is not on the page's site."""


class ProviderError(AuthError):
    """The provider answered the login with an OAuth error (e.g. access_denied).

    Its code is `provider.<error>` for the errors of RFC 6749 4.1.2.1 and OpenID
    Connect Core 3.1.2.6 that have a sentence, `provider.other` for any other.
    """

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(_PROVIDER_ERROR_CODES.get(error, "provider.other"), detail=error)
        self._add_provider_words(description)
        self.error = error
        self.description = description


class TokenError(AuthError):
    """The token endpoint refused the exchange or sent an unusable answer.

    `error` is the OAuth error code when the provider sent one (also the `{error}` of
    `token.refused`), `description` its error_description; `status` the HTTP status.
    """

    def __init__(
        self, code: str, *, detail: str = "", error: str | None = None,
        description: str | None = None, status: int | None = None, **params: object,
    ) -> None:
        super().__init__(code, detail=detail, error=error, **params)
        self._add_provider_words(description)
        self.error = error
        self.description = description
        self.status = status


class IdTokenError(AuthError):
    """The ID token failed validation: it was not issued to this app, now."""


class UserInfoError(AuthError):
    """The userinfo endpoint failed or returned a profile that is not ours."""

    def __init__(self, code: str, *, detail: str = "", status: int | None = None,
                 **params: object) -> None:
        super().__init__(code, detail=detail, **params)
        self.status = status


class NotAuthenticatedError(AuthError):
    """An action needs a session and there is none."""


class BusyError(AuthError):
    """Another tab holds the renewal, or its result has not reached this tab yet: a
    passing state, retried shortly."""


class DestinationError(AuthError):
    """session.fetch was asked to send the access token where the settings do not allow."""


class UnreadableAnswerError(AuthError):
    """The provider's answer broke the rules in a way no check foresaw; the login is
    refused rather than half done."""


class SessionEndedError(AuthError):
    """The provider refused to renew the session: it is over, the user must log in again."""


# Literal codes, not f"provider.{error}": every code stays findable in the source.
_PROVIDER_ERROR_CODES = {
    "access_denied": "provider.access_denied",
    "login_required": "provider.login_required",
    "consent_required": "provider.consent_required",
    "interaction_required": "provider.interaction_required",
    "invalid_scope": "provider.invalid_scope",
    "unauthorized_client": "provider.unauthorized_client",
    "invalid_request": "provider.invalid_request",
    "server_error": "provider.server_error",
    "temporarily_unavailable": "provider.temporarily_unavailable",
}
