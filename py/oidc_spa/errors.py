"""One exception type per thing that can go wrong.

Every error carries `user_message`, a sentence fit to show on the page as is,
and `detail`, extra text for the developer console. No error ever asks the page
to show a traceback.
"""

from __future__ import annotations


class AuthError(Exception):
    """Base class: something stopped the login session from working."""

    def __init__(self, user_message: str, *, detail: str = "") -> None:
        super().__init__(user_message if not detail else f"{user_message} ({detail})")
        self.user_message = user_message
        self.detail = detail


class ConfigError(AuthError):
    """auth_config.json is missing, is not JSON, or has a wrong value."""


class DiscoveryError(AuthError):
    """The provider's metadata could not be read or does not fit the settings."""


class NetworkError(AuthError):
    """A request to the provider failed to arrive or took too long."""


class CallbackError(AuthError):
    """The URL the browser came back with is not a response to our own login."""


class ProviderError(AuthError):
    """The provider answered the login with an OAuth error (e.g. access_denied)."""

    def __init__(self, error: str, description: str = "") -> None:
        message = _PROVIDER_ERROR_MESSAGES.get(error, "The sign-in provider refused the login.")
        if description:
            message = f"{message} The provider said: {description}"
        super().__init__(message, detail=error)
        self.error = error
        self.description = description


class TokenError(AuthError):
    """The token endpoint refused the exchange or sent an unusable answer.

    `error` is the OAuth error code when the provider sent one; `status` the HTTP status.
    """

    def __init__(
        self, user_message: str, *, detail: str = "", error: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(user_message, detail=detail)
        self.error = error
        self.status = status


class IdTokenError(AuthError):
    """The ID token failed validation: it was not issued to this app, now."""


class UserInfoError(AuthError):
    """The userinfo endpoint failed or returned a profile that is not ours."""

    def __init__(self, user_message: str, *, detail: str = "", status: int | None = None) -> None:
        super().__init__(user_message, detail=detail)
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


_PROVIDER_ERROR_MESSAGES = {
    "access_denied": "The sign-in was cancelled or not allowed.",
    "login_required": "You need to sign in again.",
    "consent_required": "The app needs your consent to sign you in.",
    "interaction_required": "The sign-in provider needs you to act before you can sign in.",
    "invalid_scope": "The sign-in provider does not allow the permissions this app asked for.",
    "unauthorized_client": "This app is not allowed to sign in with that provider.",
    "invalid_request": "The sign-in provider rejected the login request.",
    "server_error": "The sign-in provider had a problem. Please try again.",
    "temporarily_unavailable": "The sign-in provider is busy. Please try again in a moment.",
}
