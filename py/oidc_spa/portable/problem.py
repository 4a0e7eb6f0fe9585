"""The one exception the portable rules raise: a message code and its sentence's fields.

The full lane turns it into the matching AuthError (ConfigError, DiscoveryError, …),
which looks the user's sentence up in `oidc_spa.messages.MESSAGES` by the same code.
"""


class Problem(Exception):
    def __init__(self, code: str, detail: str = "", **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.params = params
