"""Every sentence the library shows the user, keyed by a stable code.

Each AuthError carries `code` (a key of MESSAGES, `<area>.<what>`) and `user_message`
(the sentence here, its `{fields}` filled in). An app can:
- show `error.user_message` as is (English);
- branch on `error.code`, e.g. `if error.code == "callback.state_unknown": ...`;
- translate: look `error.code` up in its own table with the same keys, falling back
  to `error.user_message` for a code it does not know. Its sentences may use the same
  `{fields}`; those of a code are documented by the English sentence here.

Codes are stable: a sentence may be reworded, its code is not renamed or reused.
`userinfo.unavailable` is a warning, not an error: it comes as StartResult.warning
(and its code as StartResult.warning_code) while the login still works.
`token.no_refresh_token` is a note for the developer console, not for the page: it
comes in StartResult.notes.
`popup.cut_off` is a notice too: log_in_with_popup hands it to its `on_cut_off` and waits
on; `popup.superseded` ends a popup login that a newer login replaced (an app may ignore it).
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # auth_config.json (ConfigError)
    "config.missing":
        "This page is not set up yet: auth_config.json was not found beside index.html.",
    "config.not_json": "This page's auth_config.json is not valid JSON.",
    "config.not_object": "This page's auth_config.json must hold a JSON object.",
    "config.unknown_settings":
        "auth_config.json has unknown setting(s) {unknown}; known: {known}.",
    "config.provider_choice":
        'auth_config.json needs exactly one of "domain" (Auth0) '
        'or "issuer" (any OpenID provider).',
    "config.domain":
        'auth_config.json: "domain" must be a host name like "tenant.auth0.com" '
        "(no https://, no path).",
    "config.issuer":
        'auth_config.json: "issuer" must be an https URL without query or fragment '
        "(plain http only on localhost).",
    "config.redirect_uri":
        'auth_config.json: "redirectUri" must be an https URL without fragment '
        "(plain http only on localhost).",
    "config.redirect_uri_site":
        'auth_config.json: "redirectUri" must be on this page\'s own site, {origin}.',
    "config.api_url":
        'auth_config.json: "apiUrl" must be an https URL (plain http only on localhost): '
        "the access token travels with every call.",
    "config.api_origins": 'auth_config.json: "apiOrigins" must be a list of origins.',
    "config.api_origin":
        'auth_config.json: "apiOrigins" entry {entry!r} must be an origin like '
        '"https://api.example.com" (plain http only on localhost), with no path.',
    "config.full_lane": 'auth_config.json: "fullLane" must be one of {choices}.',
    "config.csp_origins": 'auth_config.json: "cspOrigins" must be a list of origins.',
    "config.csp_origin":
        'auth_config.json: "cspOrigins" entry {entry!r} must be an origin like '
        '"https://login.example.com" (plain http only on localhost), with no path.',
    "config.authorization_params":
        'auth_config.json: "authorizationParams" must be an object of parameter names '
        "and values.",
    "config.authorization_param_name":
        'auth_config.json: "authorizationParams" name {name!r} must be 1 to 64 letters, '
        'digits, "_", "-" or ".".',
    "config.authorization_param_setting":
        'auth_config.json: "authorizationParams" may not set "{name}": use the '
        '"{setting}" setting.',
    "config.authorization_param_reserved":
        'auth_config.json: "authorizationParams" may not set "{name}": the library sends '
        "it itself, or it would weaken the login (PKCE, state, nonce, where the answer "
        "goes, secrets in the address bar).",
    "config.authorization_param_value":
        'auth_config.json: "authorizationParams" "{name}" must be a non-empty string '
        "(at most 2000 characters) without control characters or spaces around it.",
    "config.max_age":
        'auth_config.json: "authorizationParams" "max_age" must be a whole number of '
        "seconds from 0 to {high}.",
    "config.prompt":
        'auth_config.json: "authorizationParams" "prompt" must be "none" alone, or one '
        "or more of {choices} separated by single spaces.",
    "config.dpop": 'auth_config.json: "dpop" must be true, false or "auto".',
    "config.dpop_unsupported":
        'auth_config.json asks for DPoP ("dpop": true), but the sign-in provider does not '
        "offer it with ES256, or this browser cannot keep a key for it.",
    "config.scope_openid": 'auth_config.json: "scope" must include "openid".',
    "config.not_boolean": 'auth_config.json: "{key}" must be true or false.',
    "config.not_text": 'auth_config.json: "{key}" must be a non-empty string.',
    "config.untrimmed": 'auth_config.json: "{key}" has spaces or control characters around it.',
    "config.out_of_range": 'auth_config.json: "{key}" must be a number from {low:g} to {high:g}.',
    # The provider's metadata: discovery document and signing keys (DiscoveryError)
    "discovery.unavailable":
        "The sign-in provider's settings could not be loaded. Please try again.",
    "discovery.not_json": "The sign-in provider's settings could not be read (not JSON).",
    "discovery.issuer":
        "The sign-in provider's settings name another issuer than auth_config.json.",
    "discovery.endpoint": "The sign-in provider's settings have a missing or unsafe address.",
    "discovery.keys_unavailable":
        "The sign-in provider's signing keys could not be loaded. Please try again.",
    # No answer at all (NetworkError)
    "network.provider_timeout": "The sign-in provider took too long to answer. Please try again.",
    "network.provider_unreachable":
        "The sign-in provider could not be reached. Check your connection and try again.",
    "network.blocked_by_policy":
        "This site's security policy does not let the page reach the sign-in provider at "
        "{origin}. The site's owner must allow that address (cspOrigins in "
        "auth_config.json, or a build that can read the provider's discovery document).",
    "network.config_timeout":
        "This page's settings took too long to load. Please reload the page.",
    "network.config_unreachable":
        "This page's settings could not be loaded. Check your connection and reload the page.",
    # The address the browser came back with (CallbackError, UnreadableAnswerError)
    "callback.malformed":
        "The sign-in response in the address bar is malformed. Please sign in again.",
    "callback.state_missing":
        "The sign-in response is missing its security check (state). Please sign in again.",
    "callback.state_unknown":
        "This sign-in response does not belong to a login started here, "
        "or it was already used. Please sign in again.",
    "callback.expired": "The sign-in took too long and has expired. Please sign in again.",
    "callback.issuer":
        "The sign-in response came from a different provider than this app uses.",
    "callback.issuer_missing":
        "The sign-in response is missing the provider's name (iss). Please sign in again.",
    "callback.code_missing":
        "The sign-in response has no authorization code. Please sign in again.",
    "callback.unusable_answer":
        "The sign-in provider sent an answer this app cannot use. Please sign in again.",
    # A popup login (PopupError): nothing is stored when it fails
    "popup.blocked":
        "The browser blocked the sign-in window. Allow pop-ups for this site, or use Log in.",
    "popup.closed": "The sign-in window was closed before the sign-in finished.",
    "popup.cut_off":
        "The sign-in window no longer reports to this page. If it is still open, finish "
        "signing in there; otherwise log in again.",
    "popup.superseded": "A newer sign-in took the place of this one.",
    "popup.timeout":
        "The sign-in window got no answer within {seconds} seconds. Please try again.",
    "popup.redirect_uri":
        "The sign-in window's return address must be on this page's own site, {origin}.",
    # The provider answered the login with an OAuth error (ProviderError); the
    # provider's own description, if any, follows the sentence (PROVIDER_SAID).
    "provider.access_denied": "The sign-in was cancelled or not allowed.",
    "provider.login_required": "You need to sign in again.",
    "provider.consent_required": "The app needs your consent to sign you in.",
    "provider.interaction_required":
        "The sign-in provider needs you to act before you can sign in.",
    "provider.invalid_scope":
        "The sign-in provider does not allow the permissions this app asked for.",
    "provider.unauthorized_client": "This app is not allowed to sign in with that provider.",
    "provider.invalid_request": "The sign-in provider rejected the login request.",
    "provider.server_error": "The sign-in provider had a problem. Please try again.",
    "provider.temporarily_unavailable":
        "The sign-in provider is busy. Please try again in a moment.",
    "provider.other": "The sign-in provider refused the login.",
    # The token endpoint's answer (TokenError)
    "token.refused": "The sign-in provider refused to complete the login ({error}).",
    "token.failed": "The sign-in provider failed to complete the login. Please try again.",
    "token.not_json": "The sign-in provider sent an unreadable answer (not JSON).",
    "token.no_access_token": "The sign-in provider's answer has no access token.",
    "token.no_id_token": "The sign-in provider's answer has no ID token.",
    "token.type": "The sign-in provider sent a token type this app cannot use.",
    # A note for the developer console, not the page (StartResult.notes).
    "token.no_refresh_token":
        'The sign-in provider sent no refresh token although "scope" asks for '
        "offline_access, so this session cannot be renewed and ends with its tokens. "
        'Fix: node-oidc-provider and other spec-strict providers: "prompt": "consent" in '
        '"authorizationParams"; Auth0: Refresh Token Rotation on the application and '
        '"Allow Offline Access" on the API; Okta: the "Refresh Token" grant type on the '
        "app and in the authorization server's access policy; Keycloak: \"Use refresh "
        'tokens" on in the client\'s advanced settings (and the offline_access role for '
        "offline tokens); Entra ID: a \"Single-page application\" redirect URI. See "
        "docs/providers.md.",
    "token.dpop_downgraded":
        "The sign-in provider sent tokens that are not bound to this browser's key (DPoP "
        "was asked for). Nothing was kept.",
    "dpop.no_key":
        "This browser no longer has the key your session's tokens are bound to. "
        "Please log in again.",
    # The ID token's checks (IdTokenError)
    "id_token.not_jwt": "The ID token is not a JSON Web Token.",
    "id_token.unreadable": "The ID token cannot be read.",
    "id_token.stored_expiry": "The stored ID token has no valid expiry time.",
    "id_token.algorithm": "The ID token is signed in a way this app does not accept.",
    "id_token.critical": "The ID token uses features this app does not understand.",
    "id_token.type": "The ID token has an unexpected type.",
    "id_token.unknown_key":
        "The ID token is signed with a key the sign-in provider does not publish.",
    "id_token.signature":
        "The ID token's signature is not valid: it was not issued by the sign-in provider.",
    "id_token.issuer": "The ID token was issued by a different provider than this app uses.",
    "id_token.audience": "The ID token was issued to a different app.",
    "id_token.authorized_party": "The ID token was issued to a different app (authorized party).",
    "id_token.subject": "The ID token does not say who the user is (no sub).",
    "id_token.expiry": "The ID token has no valid expiry time (exp).",
    "id_token.expired": "The ID token has already expired. Check this computer's clock.",
    "id_token.issued_at": "The ID token has no valid issue time (iat).",
    "id_token.issued_in_future":
        "The ID token was issued in the future. Check this computer's clock.",
    "id_token.nonce": "The ID token does not belong to this login (nonce mismatch).",
    "id_token.auth_time":
        "The ID token does not say when you signed in (auth_time), which this app asks "
        "the sign-in provider for (max_age).",
    "id_token.auth_time_too_old":
        "Your sign-in at the provider is older than this app accepts (max_age). "
        "Please sign in again.",
    "id_token.access_token_hash": "The ID token does not match the access token (at_hash).",
    "id_token.renewed_identity": "The renewed ID token is about a different user or provider.",
    "id_token.renewed_audience": "The renewed ID token was issued to a different app.",
    "id_token.renewed_auth_time": "The renewed ID token names another sign-in than yours.",
    "id_token.renewed_nonce": "The renewed ID token belongs to another login.",
    # The profile (UserInfoError; userinfo.unavailable is a warning)
    "userinfo.unauthorized": "The sign-in provider did not accept this login's access token.",
    "userinfo.other_user":
        "The profile the sign-in provider sent belongs to someone else; login refused.",
    "userinfo.unavailable":
        "Your full profile could not be loaded right now; showing what the "
        "sign-in provider sent with the login.",
    # Renewal (BusyError, SessionEndedError)
    "session.busy": "The session is being renewed in another tab; trying again shortly.",
    "session.ended": "Your session was ended by the sign-in provider. Please log in again.",
    "session.renewal_invalid":
        "The sign-in provider sent a renewed session that failed its checks. "
        "Please log in again.",
    # session.fetch (NotAuthenticatedError, DestinationError)
    "fetch.not_logged_in": "You are not logged in: log in to call the API.",
    "fetch.insecure_url":
        "This app may not send your access token to {origin}: the access token travels "
        "only over https (or http on this computer).",
    "fetch.no_api":
        "This app may not send your access token to {origin}: no API is set up: "
        'name it with "apiUrl" or "apiOrigins" in auth_config.json.',
    "fetch.origin_not_allowed":
        "This app may not send your access token to {origin}: only to {allowed} "
        '("apiOrigins" in auth_config.json).',
}

# Follows a ProviderError's or a refused TokenError's sentence when the provider
# described the error; the description is the provider's own text, untranslated.
PROVIDER_SAID = "The provider said: {description}"
