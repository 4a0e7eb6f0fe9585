"""The rules for auth_config.json, as plain data: both lanes read the settings here.

`read_settings` answers a dict of the validated values (the fields of
`oidc_spa.config.Settings`) or raises Problem with a code of
`oidc_spa.messages.MESSAGES` and its fields; `oidc_spa.config` turns that into a
ConfigError with the user's sentence. See `oidc_spa.config` for the settings.
"""

from .problem import Problem
from .strict_json import is_number, parse_json
from .urls import default_redirect_uri, is_secure_url, lower_ascii, origin, split_url

DEFAULT_SCOPE = "openid profile email"
DEFAULT_LEEWAY_SECONDS = 60
DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_RENEW_MARGIN_SECONDS = 60.0

KNOWN_KEYS = ("apiOrigins", "apiUrl", "audience", "authorizationParams", "clientId",
              "cspOrigins", "domain", "dpop", "fullLane", "issuer", "leeway", "redirectUri",
              "renew", "renewMargin", "scope", "timeout")
# When a page starts its full lane (Pyodide) if nothing needs it sooner: at once, once
# the browser is idle after the first paint, or only when needed (a login's answer,
# a renewal, an API call).
FULL_LANE_POLICIES = ("eager", "idle", "on-demand")
DEFAULT_FULL_LANE = "idle"
_HOST_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
_DIGITS = "0123456789"
# Whitespace as CPython's str.split() and strip() see it; MicroPython's see ASCII only,
# so a no-break space pasted into auth_config.json would pass in one lane alone.
_SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
           "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def read_settings(text: str | None, page_url: str) -> dict:
    """auth_config.json's text, checked; Problem names the first thing wrong."""
    if text is None:
        raise Problem("config.missing")
    raw = parse_json(text)
    if raw is None:
        raise Problem("config.not_json")
    if not isinstance(raw, dict):
        raise Problem("config.not_object")
    unknown = sorted(key for key in raw if key not in KNOWN_KEYS)
    if unknown:
        raise Problem("config.unknown_settings", unknown=", ".join(unknown),
                              known=", ".join(KNOWN_KEYS))
    client_id = _required_text(raw, "clientId")
    issuer, domain = provider_issuer(raw)
    return {
        "client_id": client_id,
        "issuer": issuer,
        "auth0_domain": domain,
        "redirect_uri": _redirect_uri(raw, page_url),
        "scope": _scope(raw),
        "audience": _optional_text(raw, "audience"),
        "leeway": int(_number(raw, "leeway", DEFAULT_LEEWAY_SECONDS, 0, 600)),
        "timeout": _number(raw, "timeout", DEFAULT_TIMEOUT_SECONDS, 1, 120),
        "renew": _flag(raw, "renew", True),
        "renew_margin": _number(raw, "renewMargin", DEFAULT_RENEW_MARGIN_SECONDS, 1, 3600),
        "api_url": _api_url(raw),
        "api_origins": api_origins(raw),
        "full_lane": _full_lane(raw),
        "dpop": _dpop(raw),
        "authorization_params": authorization_params(raw),
        "csp_origins": csp_origins(raw),
    }


def provider_issuer(raw: dict) -> tuple:
    """The issuer and, for the Auth0 form, the tenant domain; Problem if unclear."""
    if ("domain" in raw) == ("issuer" in raw):
        raise Problem("config.provider_choice")
    if "domain" in raw:
        domain = lower_ascii(_required_text(raw, "domain"))
        if not is_host_name(domain):
            raise Problem("config.domain")
        return "https://" + domain + "/", domain
    issuer = _required_text(raw, "issuer")
    if not is_secure_url(issuer) or "?" in issuer or "#" in issuer:
        raise Problem("config.issuer")
    return issuer, None


def api_origins(raw: dict) -> tuple:
    """Where session.fetch may send the access token: apiUrl's origin and apiOrigins."""
    api_url = _api_url(raw)
    origins = [origin(api_url)] if api_url else []
    return _origin_list(raw, "apiOrigins", origins, "config.api_origins", "config.api_origin")


def csp_origins(raw: dict) -> tuple:
    """More origins the built page's Content-Security-Policy lets it fetch from (the
    provider's endpoints on other hosts than its issuer's): cspOrigins. Only the build
    reads them; the page checks them as it checks apiOrigins."""
    return _origin_list(raw, "cspOrigins", [], "config.csp_origins", "config.csp_origin")


def _origin_list(raw: dict, key: str, origins: list, list_code: str, entry_code: str) -> tuple:
    extra = raw.get(key, [])
    if not isinstance(extra, list) or not all(isinstance(item, str) for item in extra):
        raise Problem(list_code)
    for item in extra:
        bare = item.rstrip("/")
        if not _is_bare_origin(bare) or not is_secure_url(item) or bare != origin(item):
            raise Problem(entry_code, entry=item)
        if origin(item) not in origins:
            origins.append(origin(item))
    return tuple(origins)


# -- authorizationParams: more parameters for the authorization request -----------------

# What the library sends itself, or what would take the login out of its hands: PKCE,
# state and nonce (RFC 9700 2.1.1, OpenID Connect Core 3.1.2.1), where and how the
# answer comes back, a request object replacing the parameters (RFC 9101), and secrets
# that must never travel in the address bar (the code verifier, a client secret).
# "dpop_jkt" (RFC 9449 10) binds the code to a key only the library may name. Compared
# in lower case: a provider that reads names without case must not be given a second one.
OWN_PARAMETERS = ("response_type", "state", "nonce", "code_challenge",
                  "code_challenge_method", "code_verifier", "response_mode", "request",
                  "request_uri", "client_secret", "client_assertion", "client_assertion_type",
                  "dpop_jkt")
# Parameters that have a setting of their own, by the setting's name.
PARAMETER_SETTINGS = {"client_id": "clientId", "redirect_uri": "redirectUri", "scope": "scope",
                      "audience": "audience"}
# OpenID Connect Core 3.1.2.1, and "create" (OpenID Connect Prompt Create 1.0).
PROMPT_VALUES = ("none", "login", "consent", "select_account", "create")
# max_age in seconds: at most 2^31 - 1, what providers that keep it in a 32-bit integer read.
MAX_AGE_LIMIT = 2147483647
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
MAX_PARAMETER_NAME = 64
MAX_PARAMETER_VALUE = 2000


def authorization_params(raw: dict) -> tuple:
    """authorizationParams as (name, value) pairs sorted by name (so both lanes send
    them in one order), every value a string as the URL carries it; Problem names the
    first parameter that is wrong."""
    given = raw.get("authorizationParams", {})
    if not isinstance(given, dict):
        raise Problem("config.authorization_params")
    pairs = []
    for name in sorted(given):
        value = given[name]
        if (not isinstance(name, str) or not 1 <= len(name) <= MAX_PARAMETER_NAME
                or not all(c in _NAME_CHARS for c in name)):
            raise Problem("config.authorization_param_name", name=name)
        lowered = lower_ascii(name)
        if lowered in PARAMETER_SETTINGS:
            raise Problem("config.authorization_param_setting", name=name,
                          setting=PARAMETER_SETTINGS[lowered])
        if lowered in OWN_PARAMETERS:
            raise Problem("config.authorization_param_reserved", name=name)
        if name == "max_age":
            pairs.append((name, _max_age(value)))
            continue
        if (not isinstance(value, str) or not _words(value) or len(value) > MAX_PARAMETER_VALUE
                or value[0] in _SPACES or value[-1] in _SPACES
                or any(ord(c) < 0x20 or ord(c) == 0x7f for c in value)):
            raise Problem("config.authorization_param_value", name=name)
        if name == "prompt":
            _check_prompt(value)
        pairs.append((name, value))
    return tuple(pairs)


def max_age_of(pairs: tuple) -> int | None:
    """The max_age the authorization request sends (seconds), or None."""
    for name, value in pairs:
        if name == "max_age":
            return int(value)
    return None


def _max_age(value: object) -> str:
    if (isinstance(value, bool) or not isinstance(value, int)
            or not 0 <= value <= MAX_AGE_LIMIT):
        raise Problem("config.max_age", high=MAX_AGE_LIMIT)
    return str(value)


def _check_prompt(value: str) -> None:
    """Space-separated values of PROMPT_VALUES, each once; "none" only alone (OpenID
    Connect Core 3.1.2.1: none with any other value is an error)."""
    values = value.split(" ")
    if (not all(item in PROMPT_VALUES for item in values) or len(set(values)) != len(values)
            or ("none" in values and len(values) > 1)):
        raise Problem("config.prompt", choices=", ".join(PROMPT_VALUES[1:]))


def is_host_name(text: str) -> bool:
    """A DNS name (labels of letters, digits and inner hyphens, 253 characters at most),
    with an optional :port: what an Auth0 tenant domain looks like."""
    host, colon, port = text.partition(":")
    if colon and not (1 <= len(port) <= 5 and all(c in _DIGITS for c in port)):
        return False
    if not 1 <= len(host) <= 253:
        return False
    for label in host.split("."):
        if not (1 <= len(label) <= 63 and all(c in _HOST_CHARS for c in label)
                and label[0] != "-" and label[-1] != "-"):
            return False
    return True


def _is_bare_origin(text: str) -> bool:
    """scheme://host[:port] and nothing more, host a name or a bracketed IP address."""
    scheme, netloc, path, query, fragment = split_url(text)
    if scheme not in ("http", "https") or path or query or fragment or "?" in text or "#" in text:
        return False
    if netloc.startswith("["):
        host, _, port = netloc[1:].partition("]")
        if not host or not all(c in "0123456789abcdef:." for c in host):
            return False
        return not port or (port[0] == ":" and 1 <= len(port) - 1 <= 5
                            and all(c in _DIGITS for c in port[1:]))
    host, colon, port = netloc.partition(":")
    if not host or not all(c in _HOST_CHARS + "." for c in host):
        return False
    return not colon or (1 <= len(port) <= 5 and all(c in _DIGITS for c in port))


def _redirect_uri(raw: dict, page_url: str) -> str:
    if "redirectUri" not in raw:
        return default_redirect_uri(page_url)
    value = _required_text(raw, "redirectUri")
    if not is_secure_url(value) or "#" in value:
        raise Problem("config.redirect_uri")
    if origin(value) != origin(page_url):
        raise Problem("config.redirect_uri_site", origin=origin(page_url))
    return value


def _api_url(raw: dict) -> str | None:
    if "apiUrl" not in raw:
        return None
    value = _required_text(raw, "apiUrl")
    if not is_secure_url(value):
        raise Problem("config.api_url")
    return value


def _dpop(raw: dict) -> object:
    """DPoP (RFC 9449): true (required), false, or "auto" (when the provider offers it)."""
    value = raw.get("dpop", "auto")
    if value is not True and value is not False and value != "auto":
        raise Problem("config.dpop")
    return value


def _full_lane(raw: dict) -> str:
    value = raw.get("fullLane", DEFAULT_FULL_LANE)
    if value not in FULL_LANE_POLICIES:
        raise Problem("config.full_lane", choices=", ".join(FULL_LANE_POLICIES))
    return value


def _flag(raw: dict, key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise Problem("config.not_boolean", key=key)
    return value


def _scope(raw: dict) -> str:
    if "scope" not in raw:
        return DEFAULT_SCOPE
    scopes = []
    for scope in _words(_required_text(raw, "scope")):
        if scope not in scopes:
            scopes.append(scope)
    if "openid" not in scopes:
        raise Problem("config.scope_openid")
    return " ".join(scopes)


def _required_text(raw: dict, key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not _words(value):
        raise Problem("config.not_text", key=key)
    if value[0] in _SPACES or value[-1] in _SPACES or min(value) < " ":
        raise Problem("config.untrimmed", key=key)
    return value


def _words(text: str) -> list:
    """text.split() with CPython's whitespace on both interpreters."""
    if text and min(text) >= " " and max(text) < "\x80":  # only " " separates: both agree
        return text.split()
    for space in _SPACES:
        text = text.replace(space, " ")
    return text.split()


def _optional_text(raw: dict, key: str) -> str | None:
    return _required_text(raw, key) if key in raw else None


def _number(raw: dict, key: str, default: float, low: float, high: float) -> float:
    if key not in raw:
        return default
    value = raw[key]
    if not is_number(value) or not low <= value <= high:
        raise Problem("config.out_of_range", key=key, low=low, high=high)
    return float(value)
