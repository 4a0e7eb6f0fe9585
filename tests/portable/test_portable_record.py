"""record: the stored session's keys and shape, its ID token's claims (decoded, not
verified), whether the login is alive, and ending it."""

import json
import unittest

from memory_storage import MemoryStorage
from token_factory import (
    CLIENT_ID,
    ISSUER,
    LIFETIME,
    NOW,
    SESSION_ID,
    encode_json,
    make_claims,
    make_record,
    make_token,
    stored_items,
)

from oidc_spa.portable import b64url, record
from oidc_spa.portable.record import (
    RECORD_FIELDS,
    Keys,
    audiences_of,
    current_record,
    end_login,
    is_alive,
    is_session_id,
    live_record,
    read_record,
    token_claims,
)

INF_TEXT = "1e999"
HUGE_TEXT = "1" + "0" * 400

# For each field, values a record must not have there.
WRONG = {
    "id_token": [None, 1, [], {}],
    "access_token": [None, 1, ["a"]],
    "expires_at": [None, "1700000000", True, [], {}, 2**53 + 1],
    "access_token_expires_at": ["1", True, [], 2**60],
    "refresh_token": [1, [], True, {}],
    "scope": [1, [], False],
    "profile": [None, [], "Ada", 1],
    "issued_at": [None, "0", True, []],
    "session_id": ["", "short", "x" * 65, "has space 0123456", "tab\t0123456789abc", 1, None,
                   "\u00e9" * 20],
    "generation": [1.5, True, False, "0", None, 2**60, -(2**60)],
    "identity": [None, [], "x"],
    "extendable": [1, 0, "true", None],
    "token_type": ["bearer", "dpop", "", None, 1, "MAC"],
}


class KeyNames(unittest.TestCase):
    def test_key_names(self):
        keys = Keys("my-app")
        self.assertEqual(keys.prefix, "oidc_spa:my-app:")
        self.assertEqual(keys.current, "oidc_spa:my-app:current")
        self.assertEqual(keys.renewing, "oidc_spa:my-app:renewing")
        self.assertEqual(keys.ended, "oidc_spa:my-app:ended")
        self.assertEqual(keys.pending_logins, "oidc_spa:my-app:pending_logins")
        self.assertEqual(keys.renew_lock, "oidc_spa:my-app:renew")
        self.assertEqual(keys.record("abc"), "oidc_spa:my-app:session:abc")

    def test_session_ids(self):
        for value in ("a" * 16, "A" * 64, "abc-DEF_0123456789", SESSION_ID):
            with self.subTest(value=value):
                self.assertTrue(is_session_id(value))
        for value in ("a" * 15, "a" * 65, "", "a" * 15 + ".", "a" * 15 + "=", "a" * 15 + "+",
                      "a" * 15 + "/", "a" * 15 + " ", "a" * 15 + "\u00e9", None, 1, b"a" * 16,
                      ["a" * 16]):
            with self.subTest(value=repr(value)):
                self.assertFalse(is_session_id(value))


class ReadRecord(unittest.TestCase):
    def test_a_full_record(self):
        data = make_record()
        self.assertEqual(read_record(json.dumps(data)), data)

    def test_absent_optional_fields_get_their_defaults(self):
        data = {"id_token": "t", "access_token": "a", "expires_at": NOW, "session_id": SESSION_ID}
        read = read_record(json.dumps(data))
        self.assertEqual(read, {
            "id_token": "t", "access_token": "a", "expires_at": NOW,
            "access_token_expires_at": None, "refresh_token": None, "scope": None,
            "profile": {}, "issued_at": 0.0, "session_id": SESSION_ID, "generation": 0,
            "identity": {}, "extendable": True, "token_type": "Bearer"})

    def test_nullable_fields_may_be_null(self):
        data = make_record(access_token_expires_at=None, refresh_token=None, scope=None)
        self.assertEqual(read_record(json.dumps(data)), data)

    def test_each_field_wrong_in_turn(self):
        for key, values in WRONG.items():
            for value in values:
                with self.subTest(key=key, value=repr(value)):
                    self.assertIsNone(read_record(json.dumps(make_record(**{key: value}))))

    def test_every_field_is_checked(self):
        self.assertEqual(sorted(WRONG), sorted(RECORD_FIELDS))

    def test_numbers_json_cannot_hold_sanely(self):
        for key in ("expires_at", "issued_at", "access_token_expires_at", "generation"):
            for number in (INF_TEXT, "-" + INF_TEXT, HUGE_TEXT):
                with self.subTest(key=key, number=number):
                    text = json.dumps(make_record(**{key: 12345})).replace("12345", number)
                    self.assertIsNone(read_record(text))

    def test_required_fields(self):
        for key in ("id_token", "access_token", "expires_at", "session_id"):
            with self.subTest(key=key):
                self.assertIsNone(read_record(json.dumps(make_record(without=(key,)))))

    def test_an_unknown_field_means_another_layout(self):
        self.assertIsNone(read_record(json.dumps(make_record(tokens={"id_token": "t"}))))
        self.assertIsNone(read_record(json.dumps(make_record(expiresAt=NOW))))

    def test_not_a_record(self):
        for text in (None, "", "null", "[]", "{}", "1", '"x"', "{", b"{}", 1,
                     json.dumps(make_record())[:-1], json.dumps(make_record()) + ",",
                     json.dumps([make_record()])):
            with self.subTest(text=repr(text)[:40]):
                self.assertIsNone(read_record(text))

    def test_lax_json_is_not_read(self):
        text = json.dumps(make_record())
        for lax in (text[:-1] + ",}", text.replace(",", " ", 1), text.replace('"generation": 0',
                                                                              '"generation": 00')):
            with self.subTest(lax=lax[-30:]):
                self.assertIsNone(read_record(lax))

    def test_deep_profiles_are_not_read(self):
        deep = {}
        for _ in range(40):
            deep = {"d": deep}
        self.assertIsNone(read_record(json.dumps(make_record(profile=deep))))
        shallow = {}
        for _ in range(20):
            shallow = {"d": shallow}
        self.assertIsNotNone(read_record(json.dumps(make_record(profile=shallow))))

    def test_a_profile_with_an_emoji_written_by_python(self):
        name = "Ada " + chr(0x1F600)
        read = read_record(json.dumps(make_record(profile={"name": name})))
        self.assertEqual(read["profile"]["name"], name)


class CurrentRecord(unittest.TestCase):
    def setUp(self):
        self.keys = Keys(CLIENT_ID)

    def test_the_signed_in_record(self):
        storage = MemoryStorage(stored_items())
        self.assertEqual(current_record(storage, self.keys), make_record())

    def test_nobody_signed_in(self):
        self.assertIsNone(current_record(MemoryStorage(), self.keys))
        items = stored_items()
        del items[self.keys.current]
        self.assertIsNone(current_record(MemoryStorage(items), self.keys))

    def test_a_pointer_that_is_not_a_session_id(self):
        for pointer in ("", "short", "x" * 65, "../session:" + SESSION_ID, SESSION_ID + " "):
            with self.subTest(pointer=pointer):
                items = stored_items(pointer=pointer)
                self.assertIsNone(current_record(MemoryStorage(items), self.keys))

    def test_a_pointer_to_a_missing_record(self):
        items = stored_items(pointer="another-session-0123456789")
        self.assertIsNone(current_record(MemoryStorage(items), self.keys))

    def test_a_record_under_another_id(self):
        other = "another-session-0123456789"
        items = {self.keys.current: other,
                 self.keys.record(other): json.dumps(make_record())}  # says SESSION_ID
        self.assertIsNone(current_record(MemoryStorage(items), self.keys))

    def test_another_apps_keys(self):
        storage = MemoryStorage(stored_items(client_id="another-app"))
        self.assertIsNone(current_record(storage, self.keys))
        self.assertIsNotNone(current_record(storage, Keys("another-app")))

    def test_an_unreadable_record(self):
        items = stored_items(record_text="{not json")
        self.assertIsNone(current_record(MemoryStorage(items), self.keys))


class TokenClaims(unittest.TestCase):
    def test_claims_are_decoded(self):
        claims = make_claims()
        self.assertEqual(token_claims(make_token(claims)), claims)

    def test_any_signature_text_will_do_but_it_must_be_base64url(self):
        claims = make_claims()
        self.assertEqual(token_claims(make_token(claims, signature="")), claims)
        for signature in ("a=", "a+b", "a/b", "A", "a b"):
            with self.subTest(signature=signature):
                self.assertIsNone(token_claims(make_token(claims, signature=signature)))

    def test_not_a_compact_jws(self):
        good = make_token(make_claims())
        header, claims, signature = good.split(".")
        for token in (None, 1, b"a.b.c", "", "a.b", "a.b.c.d", header + "." + claims,
                      good + ".", "." + good, "..", header + "..", "." + claims + ".",
                      header + "=." + claims + "." + signature,
                      header + "." + claims + "=." + signature,
                      header + "." + claims[:-1] + "+." + signature,
                      header + " ." + claims + "." + signature,
                      encode_json([1]) + "." + claims + "." + signature,
                      encode_json("x") + "." + claims + "." + signature,
                      header + "." + encode_json([make_claims()]) + "." + signature,
                      header + "." + encode_json(None) + "." + signature,
                      header + "." + b64url.encode(b"{not json}") + "." + signature,
                      header + "." + b64url.encode(b'{"a":1,}') + "." + signature,
                      b64url.encode(b"\xff") + "." + claims + "." + signature):
            with self.subTest(token=repr(token)[:60]):
                self.assertIsNone(token_claims(token))

    def test_claims_must_be_strict_utf8(self):
        # An overlong '"' (C0 A2) would close the string early where a decoder let it.
        header = make_token({}).split(".")[0]
        for raw in (b'{"iss":"a\xc0\xa2,\xc0\xa2x\xc0\xa2:1}', b'{"iss":"\xed\xa0\x80"}',
                    b'{"iss":"\xff"}', b'{"iss":"\xf4\x90\x80\x80"}'):
            with self.subTest(raw=repr(raw)):
                token = header + "." + b64url.encode(raw) + ".c2ln"
                self.assertIsNone(token_claims(token))
        token = header + "." + b64url.encode('{"name":"Zo\u00eb"}'.encode("utf-8")) + ".c2ln"
        self.assertEqual(token_claims(token), {"name": "Zo\u00eb"})

    def test_a_token_too_long_is_not_read(self):
        long_token = make_token(make_claims(padding="x" * record.MAX_TOKEN_CHARS))
        self.assertIsNone(token_claims(long_token))
        fits = make_token(make_claims(padding="x" * (record.MAX_TOKEN_CHARS // 2)))
        self.assertIsNotNone(token_claims(fits))

    def test_audiences(self):
        self.assertEqual(audiences_of({"aud": "a"}), ["a"])
        self.assertEqual(audiences_of({"aud": ["a", "b"]}), ["a", "b"])
        self.assertEqual(audiences_of({"aud": []}), [])
        for value in (None, 1, {"a": 1}, True):
            with self.subTest(value=repr(value)):
                self.assertIsNone(audiences_of({"aud": value}))
        self.assertIsNone(audiences_of({}))


class IsAlive(unittest.TestCase):
    def alive(self, record_data=None, claims=None, now=NOW, issuer=ISSUER, client_id=CLIENT_ID):
        record_data = make_record() if record_data is None else record_data
        claims = token_claims(record_data["id_token"]) if claims is None else claims
        return is_alive(record_data, claims, now, issuer, client_id)

    def test_a_fresh_login_is_alive(self):
        self.assertTrue(self.alive())
        self.assertTrue(self.alive(now=NOW + LIFETIME - 1))
        self.assertTrue(self.alive(now=NOW + LIFETIME - 0.001))

    def test_at_and_after_its_end_it_is_not(self):
        self.assertFalse(self.alive(now=NOW + LIFETIME))
        self.assertFalse(self.alive(now=NOW + LIFETIME + 1))
        self.assertFalse(self.alive(now=NOW + 10**9))

    def test_no_claims(self):
        self.assertFalse(is_alive(make_record(), None, NOW, ISSUER, CLIENT_ID))

    def test_exp_must_be_a_sane_number(self):
        for exp in (None, "1700003600", True, [1], 2**53 + 1, float("inf"), float("nan")):
            with self.subTest(exp=repr(exp)):
                claims = make_claims(exp=exp)
                self.assertFalse(self.alive(make_record(claims=make_claims()), claims))
        claims = make_claims()
        del claims["exp"]
        self.assertFalse(self.alive(make_record(), claims))

    def test_another_issuer(self):
        self.assertFalse(self.alive(issuer="https://other.example/"))
        self.assertFalse(self.alive(issuer=ISSUER.rstrip("/")))
        claims = make_claims(iss=ISSUER.upper())
        self.assertFalse(self.alive(make_record(claims=claims)))
        claims = make_claims()
        del claims["iss"]
        self.assertFalse(self.alive(make_record(claims=claims)))

    def test_another_client(self):
        self.assertFalse(self.alive(client_id="another-app"))
        for aud in (["another-app"], [], "another-app", None, 1, {CLIENT_ID: True},
                    CLIENT_ID.upper(), [CLIENT_ID + " "]):
            with self.subTest(aud=repr(aud)):
                self.assertFalse(self.alive(make_record(claims=make_claims(aud=aud))))

    def test_an_audience_list_with_this_client(self):
        for aud in ([CLIENT_ID], ["https://api.example", CLIENT_ID], [1, None, CLIENT_ID]):
            with self.subTest(aud=repr(aud)):
                self.assertTrue(self.alive(make_record(claims=make_claims(aud=aud))))

    def test_expires_at_must_be_the_tokens_exp(self):
        # A record whose end was moved without a token to show for it.
        for moved in (NOW + LIFETIME + 1, NOW + LIFETIME * 100, NOW + LIFETIME - 1):
            with self.subTest(moved=moved):
                data = make_record(expires_at=moved, access_token_expires_at=NOW + LIFETIME)
                self.assertFalse(self.alive(data))

    def test_exp_as_a_float_equal_to_expires_at(self):
        data = make_record(claims=make_claims(exp=NOW + LIFETIME + 0.0))
        self.assertTrue(self.alive(data))
        data = make_record(expires_at=float(NOW + LIFETIME))
        self.assertTrue(self.alive(data))

    def test_a_renewal_without_an_id_token_extends_to_the_access_tokens_expiry(self):
        later = NOW + LIFETIME * 2
        data = make_record(expires_at=later, access_token_expires_at=later)
        self.assertTrue(self.alive(data, now=NOW + LIFETIME + 10))
        self.assertFalse(self.alive(data, now=later))

    def test_that_rule_never_shortens_or_strays(self):
        # ends == access token expiry but before exp: neither rule holds.
        earlier = NOW + LIFETIME - 100
        data = make_record(expires_at=earlier, access_token_expires_at=earlier)
        self.assertFalse(self.alive(data))
        # ends after exp, but not the access token's expiry.
        data = make_record(expires_at=NOW + LIFETIME * 2, access_token_expires_at=NOW + 5)
        self.assertFalse(self.alive(data))
        # no access token expiry at all.
        data = make_record(expires_at=NOW + LIFETIME * 2, access_token_expires_at=None)
        self.assertFalse(self.alive(data))

    def test_live_record(self):
        keys = Keys(CLIENT_ID)
        storage = MemoryStorage(stored_items())
        self.assertEqual(live_record(storage, keys, NOW, ISSUER, CLIENT_ID), make_record())
        self.assertIsNone(live_record(storage, keys, NOW + LIFETIME, ISSUER, CLIENT_ID))
        self.assertIsNone(live_record(storage, keys, NOW, "https://other.example/", CLIENT_ID))
        self.assertIsNone(live_record(MemoryStorage(), keys, NOW, ISSUER, CLIENT_ID))
        broken = MemoryStorage(stored_items(make_record(id_token="not.a.token")))
        self.assertIsNone(live_record(broken, keys, NOW, ISSUER, CLIENT_ID))


class EndLogin(unittest.TestCase):
    def setUp(self):
        self.keys = Keys(CLIENT_ID)
        self.storage = MemoryStorage(stored_items())
        self.storage.items[self.keys.ended] = "old"

    def test_a_logout_ends_whichever_is_signed_in(self):
        end_login(self.storage, self.keys, None, "logout", NOW)
        self.assertEqual(self.storage.items, {})

    def test_ended_by_the_provider_is_left_for_other_tabs(self):
        end_login(self.storage, self.keys, SESSION_ID, "ended", NOW + 5)
        self.assertEqual(list(self.storage.items), [self.keys.ended])
        self.assertEqual(json.loads(self.storage.items[self.keys.ended]),
                         {"session_id": SESSION_ID, "reason": "ended", "at": NOW + 5})

    def test_an_expired_login(self):
        end_login(self.storage, self.keys, SESSION_ID, "expired", NOW)
        self.assertEqual(self.storage.items, {})

    def test_a_login_that_is_no_longer_the_signed_in_one(self):
        other = "older-session-0123456789"
        self.storage.items[self.keys.record(other)] = "{}"
        end_login(self.storage, self.keys, other, "expired", NOW)
        self.assertEqual(self.storage.items[self.keys.current], SESSION_ID)
        self.assertIsNone(self.storage.items.get(self.keys.record(other)))
        self.assertEqual(self.storage.items[self.keys.ended], "old")

    def test_nobody_signed_in(self):
        storage = MemoryStorage({"unrelated": "1"})
        end_login(storage, self.keys, None, "logout", NOW)
        self.assertEqual(storage.items, {"unrelated": "1"})
        self.assertEqual(storage.writes, [])

    def test_a_broken_pointer_counts_as_nobody(self):
        storage = MemoryStorage({self.keys.current: "bad id"})
        end_login(storage, self.keys, None, "logout", NOW)
        self.assertEqual(storage.items, {self.keys.current: "bad id"})

    def test_other_apps_are_left_alone(self):
        other = stored_items(client_id="another-app")
        self.storage.items.update(other)
        end_login(self.storage, self.keys, None, "logout", NOW)
        self.assertEqual(self.storage.items, other)


class WhyEnded(unittest.TestCase):
    def test_past_its_end_it_expired_whatever_a_tab_said(self):
        self.assertEqual(record.why_ended(NOW, NOW, None), "expired")
        self.assertEqual(record.why_ended(NOW, NOW + 1, "ended"), "expired")

    def test_before_its_end_the_provider_ended_it_or_someone_logged_out(self):
        self.assertEqual(record.why_ended(NOW + 1, NOW, "ended"), "ended")
        for reason in (None, "logout", "expired", "anything"):
            self.assertEqual(record.why_ended(NOW + 1, NOW, reason), "signed_out")


class Renewal(unittest.TestCase):
    def test_nothing_to_renew_never_renews(self):
        data = make_record(access_token_expires_at=None, extendable=False)
        self.assertEqual(record.renew_at(data, 60), float("inf"))
        self.assertFalse(record.can_renew(data, True, 60))

    def test_without_a_refresh_token_or_when_switched_off(self):
        self.assertFalse(record.can_renew(make_record(refresh_token=None), True, 60))
        self.assertFalse(record.can_renew(make_record(), False, 60))
        self.assertTrue(record.can_renew(make_record(), True, 60))

    def test_a_margin_before_the_first_expiry(self):
        data = make_record(access_token_expires_at=NOW + 600)
        self.assertEqual(record.renew_at(data, 60), NOW + 540)
        self.assertLessEqual(record.renew_at(make_record(), 60), NOW + LIFETIME)
