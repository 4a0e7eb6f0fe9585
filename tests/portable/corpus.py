"""Stored sessions, good and bad, for checking that the page's two lanes decide alike.

`cases()` answers a list of (name, storage, settings, now):
- `storage`: localStorage's items, key -> text (oidc_spa:<client id>:current, the record
  under oidc_spa:<client id>:session:<id>, ...);
- `settings`: auth_config.json's object (clientId and issuer or domain; leeway in some),
  for `oidc_spa.portable.settings.read_settings(json.dumps(settings), PAGE_URL)` or the
  full lane's `oidc_spa.config.parse_settings`;
- `now`: the time of the page load, in seconds.

Built with oidc_spa.portable.b64url and json only, so it imports on MicroPython too. The
tokens are not signed (a dummy signature): nothing verifies one when a stored login is
read back, it was verified when it arrived.
"""

import json

from token_factory import (
    CLIENT_ID,
    ISSUER,
    LIFETIME,
    NOW,
    OTHER_CLIENT_ID,
    PAGE_URL,
    SESSION_ID,
    make_claims,
    make_record,
    make_token,
    stored_items,
)

from oidc_spa.portable import b64url
from oidc_spa.portable.record import Keys

EXP = NOW + LIFETIME
SETTINGS = {"clientId": CLIENT_ID, "issuer": ISSUER}
AUTH0_DOMAIN = "tenant.auth0.example"
KEYS = Keys(CLIENT_ID)

__all__ = ["PAGE_URL", "cases"]


def _record_text_with(number_text, field):
    """A record's JSON with the field's number written as `number_text` (1e999, 10**400)."""
    return json.dumps(make_record(**{field: 987654321})).replace("987654321", number_text)


def _deep(depth):
    return '{"d":' * depth + "1" + "}" * depth


def _with_profile_text(profile_text):
    marker = '"__profile__"'
    return json.dumps(make_record(profile="__profile__")).replace(marker, profile_text)


def _tampered_token(claims_changes):
    """The valid ID token with its payload changed and the old signature kept."""
    header, _, signature = make_token(make_claims()).split(".")
    payload = b64url.encode(json.dumps(make_claims(**claims_changes)).encode("utf-8"))
    return header + "." + payload + "." + signature


def _with_raw_claims(raw):
    header, _, signature = make_token(make_claims()).split(".")
    return header + "." + b64url.encode(raw) + "." + signature


def cases():
    valid = stored_items()
    items = []

    def add(name, storage, now=NOW, settings=SETTINGS):
        # Copies: a lane that ends an expired login removes keys from its storage.
        items.append((name, dict(storage), dict(settings), now))

    # -- alive, or just past it
    add("valid", valid)
    add("valid_float_now", valid, NOW + 0.25)
    add("valid_just_issued", valid, NOW - 60)
    add("one_second_before_expiry", valid, EXP - 1)
    add("exactly_at_expiry", valid, EXP)
    add("just_after_expiry", valid, EXP + 0.001)
    add("expired_long_ago", valid, EXP + 86400 * 365)
    add("within_leeway_after_expiry", valid, EXP + 30, dict(SETTINGS, leeway=60))
    add("beyond_leeway_after_expiry", valid, EXP + 61, dict(SETTINGS, leeway=60))
    add("issued_in_the_future", valid, NOW - 3600)

    # -- whose login it is
    add("other_apps_client_id_in_aud",
        stored_items(make_record(claims=make_claims(aud=OTHER_CLIENT_ID))))
    add("other_apps_keys_only", stored_items(client_id=OTHER_CLIENT_ID))
    both = stored_items(make_record(claims=make_claims(aud=OTHER_CLIENT_ID)),
                        client_id=OTHER_CLIENT_ID)
    both.update(valid)
    add("other_app_signed_in_too", both)
    add("other_issuer", stored_items(make_record(claims=make_claims(iss="https://evil.example/"))))
    add("issuer_without_trailing_slash",
        stored_items(make_record(claims=make_claims(iss=ISSUER.rstrip("/")))))
    add("aud_list_with_client",
        stored_items(make_record(claims=make_claims(aud=["https://api.example", CLIENT_ID]))))
    add("aud_list_without_client",
        stored_items(make_record(claims=make_claims(aud=["https://api.example", "x"]))))
    add("aud_missing", stored_items(make_record(claims=make_claims(aud=None))))
    add("auth0_domain_form",
        stored_items(make_record(claims=make_claims(iss="https://" + AUTH0_DOMAIN + "/"))),
        NOW, {"clientId": CLIENT_ID, "domain": AUTH0_DOMAIN})

    # -- tampered: the payload changed without re-signing, or the record's fields
    tampered = make_record(id_token=_tampered_token({"exp": EXP + 86400}), expires_at=EXP + 86400,
                           access_token_expires_at=EXP + 86400)
    add("tampered_payload_exp_moved_with_record", stored_items(tampered), EXP + 60)
    add("tampered_payload_exp_moved_alone",
        stored_items(make_record(id_token=_tampered_token({"exp": EXP + 86400}))), EXP + 60)
    add("tampered_payload_other_audience",
        stored_items(make_record(id_token=_tampered_token({"aud": OTHER_CLIENT_ID}))))
    add("tampered_record_expires_at_moved",
        stored_items(make_record(expires_at=EXP + 86400)), EXP + 60)
    add("tampered_expires_at_string", stored_items(make_record(expires_at=str(EXP))))
    add("tampered_expires_at_bool", stored_items(make_record(expires_at=True)))
    add("tampered_expires_at_infinite",
        stored_items(record_text=_record_text_with("1e999", "expires_at")))
    add("tampered_expires_at_huge_integer",
        stored_items(record_text=_record_text_with("1" + "0" * 400, "expires_at")))
    add("tampered_generation_huge_integer",
        stored_items(record_text=_record_text_with("1" + "0" * 400, "generation")))
    add("tampered_generation_float", stored_items(make_record(generation=1.5)))
    add("tampered_generation_bool", stored_items(make_record(generation=True)))
    add("tampered_profile_list", stored_items(make_record(profile=["Ada"])))
    add("tampered_extendable_text", stored_items(make_record(extendable="yes")))
    add("tampered_refresh_token_number", stored_items(make_record(refresh_token=12345)))
    add("tampered_id_token_null", stored_items(make_record(id_token=None)))
    add("tampered_id_token_not_a_jws", stored_items(make_record(id_token="not-a-token")))
    add("tampered_id_token_padded", stored_items(make_record(
        id_token=make_token(make_claims()) + "==")))
    add("tampered_session_id_in_record_number",
        stored_items(make_record(session_id=12345)))
    add("exp_huge_in_token", stored_items(make_record(
        id_token=_with_raw_claims(json.dumps(make_claims()).replace(
            str(EXP), "1" + "0" * 30).encode("utf-8")))))
    add("exp_float_equal_to_expires_at",
        stored_items(make_record(claims=make_claims(exp=EXP + 0.0))))
    add("exp_bool_in_token", stored_items(make_record(
        claims=make_claims(exp=True), expires_at=EXP)))
    # Another app's token whose name hides `"aud":"<this app>"` behind overlong
    # quotes (C0 A2): a lax UTF-8 decoder (MicroPython's own) reads this app's audience.
    prefix = '{"iss":"' + ISSUER + '","aud":"' + OTHER_CLIENT_ID + '","exp":' + str(EXP)
    add("claims_overlong_utf8", stored_items(make_record(id_token=_with_raw_claims(
        prefix.encode("utf-8") + b',"name":"Ada\xc0\xa2,\xc0\xa2aud\xc0\xa2:\xc0\xa2'
        + CLIENT_ID.encode("utf-8") + b'"}'))))
    prefix = '{"iss":"' + ISSUER + '","aud":"' + CLIENT_ID + '","exp":' + str(EXP)
    add("claims_not_utf8", stored_items(make_record(id_token=_with_raw_claims(
        prefix.encode("utf-8") + b',"name":"\xff"}'))))
    add("claims_surrogate_utf8", stored_items(make_record(id_token=_with_raw_claims(
        prefix.encode("utf-8") + b',"name":"\xed\xa0\xbd\xed\xb8\x80"}'))))
    # base64 beyond base64url: the standard alphabet, padding, whitespace.
    header, payload, signature = make_token(make_claims(name="Ada ~~~ >>>")).split(".")
    add("id_token_standard_alphabet_claims", stored_items(make_record(
        id_token=header + "." + payload.replace("-", "+").replace("_", "/") + "." + signature)))
    add("id_token_standard_alphabet_signature", stored_items(make_record(
        id_token=header + "." + payload + ".ab+/cd")))
    add("id_token_claims_with_newline", stored_items(make_record(
        id_token=header + "." + payload[:8] + "\n" + payload[8:] + "." + signature)))
    add("id_token_header_without_alg", stored_items(make_record(
        id_token=make_token(make_claims(), header={}))))
    add("id_token_header_not_an_object", stored_items(make_record(
        id_token=make_token(make_claims(), header=["RS256"]))))
    add("duplicate_keys_last_wins", stored_items(record_text=json.dumps(make_record())[:-1]
                                                 + ', "expires_at": ' + str(EXP + 5) + "}"))

    # -- the pointer
    add("no_session_at_all", {})
    add("pointer_to_missing_record", {KEYS.current: SESSION_ID})
    add("pointer_mismatch", stored_items(pointer="another-session-0123456789",
                                         session_id="another-session-0123456789"))
    add("pointer_not_a_session_id", stored_items(pointer="short"))
    add("pointer_with_whitespace", stored_items(pointer=SESSION_ID + "\n"))
    add("record_without_pointer", {KEYS.record(SESSION_ID): valid[KEYS.record(SESSION_ID)]})

    # -- text that is not a record
    add("garbage_json", stored_items(record_text="{this is not json"))
    add("empty_record_text", stored_items(record_text=""))
    add("record_is_an_array", stored_items(record_text=json.dumps([make_record()])))
    text = json.dumps(make_record())
    add("lax_json_trailing_comma", stored_items(record_text=text[:-1] + ",}"))
    add("lax_json_missing_comma", stored_items(record_text=text.replace(", ", " ", 1)))
    add("lax_json_leading_zero", stored_items(record_text=text.replace(
        '"generation": 0', '"generation": 00')))
    add("lax_json_trailing_dot", stored_items(record_text=text.replace(
        '"issued_at": ' + str(NOW - 60), '"issued_at": ' + str(NOW - 60) + ".")))
    # Spliced in as text: MicroPython's json.dumps takes seconds over a megabyte.
    add("huge_record_over_the_limit",
        stored_items(record_text=_with_profile_text('{"x": "' + "a" * 1_000_001 + '"}')))
    add("large_record_under_the_limit",
        stored_items(record_text=_with_profile_text('{"x": "' + "a" * 100_000 + '"}')))
    add("deeply_nested_profile", stored_items(record_text=_with_profile_text(_deep(40))))
    add("very_deeply_nested_profile", stored_items(record_text=_with_profile_text(_deep(5000))))
    add("nested_profile_within_the_limit",
        stored_items(record_text=_with_profile_text(_deep(20))))
    add("emoji_profile_escaped_by_python",
        stored_items(make_record(profile={"name": "Ada " + chr(0x1F600)})))

    # -- other layouts
    add("older_layout_unknown_field", stored_items(make_record(tokens={"id_token": "x"})))
    add("older_layout_without_session_id", stored_items(make_record(without=("session_id",))))
    add("older_layout_single_key", {
        KEYS.prefix + "session": json.dumps({"id_token": make_token(make_claims()),
                                             "access_token": "a", "expires_at": EXP})})
    add("minimal_record_defaults", stored_items(record_text=json.dumps({
        "id_token": make_token(make_claims()), "access_token": "a", "expires_at": EXP,
        "session_id": SESSION_ID})))

    # -- renewed without a new ID token: the session's end is the access token's expiry
    later = EXP + LIFETIME
    renewed = make_record(expires_at=later, access_token_expires_at=later, generation=1)
    add("renewal_without_id_token_alive", stored_items(renewed), EXP + 600)
    add("renewal_without_id_token_at_end", stored_items(renewed), later)
    add("renewal_without_id_token_mismatch",
        stored_items(make_record(expires_at=later, access_token_expires_at=later - 1)), EXP + 600)
    add("renewal_without_id_token_shorter",
        stored_items(make_record(expires_at=EXP - 600, access_token_expires_at=EXP - 600)))
    add("renewal_without_id_token_no_access_expiry",
        stored_items(make_record(expires_at=later, access_token_expires_at=None)), EXP + 600)
    return items
