"""login: PKCE (RFC 7636), the started login and its authorization request, where to
return afterwards, and the logins in flight kept in storage."""

import json
import unittest

from memory_storage import CountingRandom, MemoryStorage

from oidc_spa.portable import b64url, login
from oidc_spa.portable.login import (
    MAX_PENDING_LOGINS,
    TRANSACTION_FIELDS,
    TRANSACTION_LIFETIME_SECONDS,
    authorization_url,
    is_expired,
    is_valid_code_verifier,
    new_transaction,
    pending_logins,
    random_token,
    read_transaction,
    remember_login,
    s256_code_challenge,
    safe_return_to,
    write_pending,
)
from oidc_spa.portable.record import Keys
from oidc_spa.portable.urls import query_value, split_url

# RFC 7636 Appendix B.
RFC_OCTETS = bytes([116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
                    22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121])
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

NOW = 1_700_000_000
PAGE = "https://app.example/app/"
KEYS = Keys("client-1")


def transaction(state, created_at=NOW, **changes):
    data = {"state": state, "nonce": "nonce-" + state, "code_verifier": "v" * 43,
            "redirect_uri": PAGE, "return_to": PAGE, "created_at": created_at}
    data.update(changes)
    return data


def stored(*transactions):
    return MemoryStorage({KEYS.pending_logins: json.dumps({t["state"]: t for t in transactions})})


class Pkce(unittest.TestCase):
    def test_rfc_7636_appendix_b(self):
        self.assertEqual(b64url.encode(RFC_OCTETS), RFC_VERIFIER)
        self.assertEqual(s256_code_challenge(RFC_VERIFIER), RFC_CHALLENGE)
        self.assertEqual(random_token(lambda n: RFC_OCTETS[:n]), RFC_VERIFIER)

    def test_verifiers(self):
        for verifier in ("a" * 43, "a" * 128, "A-._~" * 9, RFC_VERIFIER):
            with self.subTest(verifier=verifier):
                self.assertTrue(is_valid_code_verifier(verifier))
                self.assertEqual(len(s256_code_challenge(verifier)), 43)
        for verifier in ("a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + "/", "a" * 42 + "=",
                         "a" * 42 + " ", "a" * 42 + "\u00e9", "", None, 1, b"a" * 43):
            with self.subTest(verifier=repr(verifier)):
                self.assertFalse(is_valid_code_verifier(verifier))
                with self.assertRaises(ValueError):
                    s256_code_challenge(verifier)

    def test_random_tokens(self):
        self.assertEqual(len(random_token(CountingRandom())), 43)
        self.assertEqual(random_token(CountingRandom(), 3), "AAEC")
        self.assertEqual(random_token(lambda n: [255] * n, 3), "____")
        self.assertEqual(random_token(lambda n: bytearray(n), 2), "AAA")

    def test_a_random_source_that_gives_too_little(self):
        for source in (lambda n: b"", lambda n: bytes(n - 1), lambda n: bytes(n + 1)):
            with self.assertRaises(ValueError):
                random_token(source)


class NewTransaction(unittest.TestCase):
    def test_state_nonce_and_verifier_take_32_bytes_each_in_that_order(self):
        source = CountingRandom()
        started = new_transaction(source, PAGE, PAGE + "page?x=1", NOW)
        self.assertEqual(source.calls, [32, 32, 32])
        self.assertEqual(started, {
            "state": b64url.encode(bytes(range(0, 32))),
            "nonce": b64url.encode(bytes(range(32, 64))),
            "code_verifier": b64url.encode(bytes(range(64, 96))),
            "redirect_uri": PAGE,
            "return_to": PAGE + "page?x=1",
            "created_at": NOW,
        })
        self.assertTrue(is_valid_code_verifier(started["code_verifier"]))
        self.assertEqual(sorted(started), sorted(TRANSACTION_FIELDS))
        self.assertIs(read_transaction(started), started)

    def test_the_return_address_is_made_safe(self):
        started = new_transaction(CountingRandom(), PAGE, "https://evil.example/", NOW)
        self.assertEqual(started["return_to"], PAGE)

    def test_authorization_url(self):
        started = new_transaction(CountingRandom(), PAGE, PAGE, NOW)
        url = authorization_url("https://issuer.example/auth", "client 1", "openid email",
                                None, started)
        self.assertEqual(url, (
            "https://issuer.example/auth?response_type=code&client_id=client+1"
            "&redirect_uri=https%3A%2F%2Fapp.example%2Fapp%2F&scope=openid+email"
            "&state=" + started["state"] + "&nonce=" + started["nonce"]
            + "&code_challenge=" + s256_code_challenge(started["code_verifier"])
            + "&code_challenge_method=S256"))

    def test_authorization_url_parameters(self):
        started = new_transaction(CountingRandom(), PAGE, PAGE, NOW)
        url = authorization_url("https://issuer.example/auth?kc_idp_hint=x#frag", "c",
                                "openid", "https://api.example/", started)
        scheme, netloc, path, query, fragment = split_url(url)
        self.assertEqual((scheme, netloc, path, fragment),
                         ("https", "issuer.example", "/auth", "frag"))
        for name, value in (("kc_idp_hint", "x"), ("response_type", "code"), ("client_id", "c"),
                            ("redirect_uri", PAGE), ("scope", "openid"),
                            ("state", started["state"]), ("nonce", started["nonce"]),
                            ("code_challenge", s256_code_challenge(started["code_verifier"])),
                            ("code_challenge_method", "S256"),
                            ("audience", "https://api.example/")):
            with self.subTest(name=name):
                self.assertEqual(query_value(query, name), [value])
        self.assertEqual(query_value(query, "code_verifier"), [])

    def test_no_audience_parameter_when_there_is_none(self):
        started = new_transaction(CountingRandom(), PAGE, PAGE, NOW)
        for audience in (None, ""):
            url = authorization_url("https://i.example/a", "c", "openid", audience, started)
            self.assertEqual(query_value(split_url(url)[3], "audience"), [])

    def test_authorization_params_follow_the_librarys_own(self):
        started = new_transaction(CountingRandom(), PAGE, PAGE, NOW)
        extra = (("login_hint", "alice@example.com"), ("max_age", "0"), ("prompt", "login"),
                 ("ui_locales", "de fr"))
        url = authorization_url("https://i.example/a?tenant=t", "c", "openid", None, started,
                                extra)
        query = split_url(url)[3]
        self.assertTrue(query.startswith("tenant=t&response_type=code&"))
        self.assertTrue(query.endswith("&code_challenge_method=S256&login_hint=alice%40example.com"
                                       "&max_age=0&prompt=login&ui_locales=de+fr"))
        for name, value in extra:
            with self.subTest(name=name):
                self.assertEqual(query_value(query, name), [value])

    def test_authorization_params_never_replace_the_librarys(self):
        started = new_transaction(CountingRandom(), PAGE, PAGE, NOW)
        for extra in ((("state", "x"),), (("Nonce", "x"),), (("redirect_uri", "x"),),
                      (("audience", "x"),), (("code_verifier", "x"),), (("request_uri", "x"),),
                      (("max_age", 300),)):
            with self.subTest(extra=extra), self.assertRaises(ValueError):
                authorization_url("https://i.example/a", "c", "openid", "api", started, extra)

    def test_a_stored_verifier_that_is_not_one_is_refused(self):
        with self.assertRaises(ValueError):
            authorization_url("https://i.example/a", "c", "openid", None,
                              transaction("s", code_verifier="short"))


class SafeReturnTo(unittest.TestCase):
    def test_same_origin_addresses_are_kept_without_the_response_parameters(self):
        for candidate, expected in (
            ("https://app.example/app/page?x=1&code=2&state=3#frag",
             "https://app.example/app/page?x=1#frag"),
            ("https://app.example/other", "https://app.example/other"),
            ("HTTPS://APP.EXAMPLE/x", "HTTPS://APP.EXAMPLE/x"),
            ("https://app.example/x?%63ode=1&iss=2&session_state=3", "https://app.example/x"),
            ("https://app.example/x?error=a&error_description=b&error_uri=c&keep=1",
             "https://app.example/x?keep=1"),
        ):
            with self.subTest(candidate=candidate):
                self.assertEqual(safe_return_to(candidate, PAGE), expected)

    def test_anything_else_goes_back_to_the_page(self):
        for candidate in ("https://evil.example/", "//evil.example/x", "/path", "path",
                          "javascript:alert(1)", "https://app.example@evil.example/",
                          "https://app.example:444/", "http://app.example/",
                          "https://app.example\\@evil.example", "https://app.example.evil.com/",
                          "https:app.example/x", "https:///app.example", "data:text/html,x",
                          " https://app.example/", "", None, 1):
            with self.subTest(candidate=repr(candidate)):
                self.assertEqual(safe_return_to(candidate, PAGE), PAGE)


class Transactions(unittest.TestCase):
    def test_a_remembered_login(self):
        data = transaction("s1")
        self.assertEqual(read_transaction(data), data)
        self.assertEqual(read_transaction(transaction("s1", created_at=NOW + 0.5))["created_at"],
                         NOW + 0.5)

    def test_what_is_not_one(self):
        cases = [None, [], "x", 1, {}, {"state": "s1"}]
        for name in TRANSACTION_FIELDS:
            data = transaction("s1")
            del data[name]
            cases.append(data)
        for name in TRANSACTION_FIELDS[:5]:
            for value in ("", None, 1, ["x"]):
                data = transaction("s1")
                data[name] = value
                cases.append(data)
        for created in (True, False, "1700000000", None, [NOW], float("inf"), float("nan"),
                        10**400, -(10**400), 2**53 + 1):
            cases.append(transaction("s1", created_at=created))
        cases.append(transaction("s1", extra=1))
        for data in cases:
            with self.subTest(data=repr(data)[:80]):
                self.assertIsNone(read_transaction(data))

    def test_expiry(self):
        data = transaction("s1")
        self.assertFalse(is_expired(data, NOW))
        self.assertFalse(is_expired(data, NOW + TRANSACTION_LIFETIME_SECONDS))
        self.assertTrue(is_expired(data, NOW + TRANSACTION_LIFETIME_SECONDS + 0.001))
        self.assertTrue(is_expired(data, NOW - 1))  # from the future: a clock went back
        self.assertEqual(TRANSACTION_LIFETIME_SECONDS, 900)


class Pending(unittest.TestCase):
    def test_pending_logins_by_state(self):
        one, two = transaction("s1"), transaction("s2", NOW - 100)
        self.assertEqual(pending_logins(stored(one, two), KEYS, NOW), {"s1": one, "s2": two})
        self.assertEqual(pending_logins(stored(one, two), KEYS, None), {"s1": one, "s2": two})

    def test_expired_ones_are_left_out_when_now_is_given(self):
        old = transaction("old", NOW - TRANSACTION_LIFETIME_SECONDS - 1)
        fresh = transaction("fresh")
        self.assertEqual(pending_logins(stored(old, fresh), KEYS, NOW), {"fresh": fresh})
        self.assertEqual(sorted(pending_logins(stored(old, fresh), KEYS, None)), ["fresh", "old"])

    def test_malformed_ones_are_left_out(self):
        good = transaction("good")
        items = {"good": good, "wrong-key": transaction("other"), "bad": {"state": "bad"},
                 "num": 1, "none": None, "huge": transaction("huge", 10**400),
                 "inf": "placeholder"}
        text = json.dumps(items).replace('"placeholder"', json.dumps(
            transaction("inf", 12345)).replace("12345", "1e999"))
        storage = MemoryStorage({KEYS.pending_logins: text})
        # A float now, as time.time() gives: now - 10**400 overflowed on CPython.
        self.assertEqual(pending_logins(storage, KEYS, NOW + 0.5), {"good": good})
        self.assertEqual(sorted(pending_logins(storage, KEYS, None)), ["good"])

    def test_unreadable_storage_means_none_pending(self):
        for text in (None, "", "[]", "1", "{", '{"s1": 1,}', "[" * 100, "null",
                     '{"a":' * 40 + "1" + "}" * 40):
            with self.subTest(text=repr(text)[:40]):
                storage = MemoryStorage({} if text is None else {KEYS.pending_logins: text})
                self.assertEqual(pending_logins(storage, KEYS, NOW), {})

    def test_remember_a_login(self):
        storage = MemoryStorage()
        started = new_transaction(CountingRandom(), PAGE, PAGE, NOW)
        remember_login(storage, KEYS, started, NOW)
        self.assertEqual(json.loads(storage.items[KEYS.pending_logins]),
                         {started["state"]: started})
        self.assertEqual(pending_logins(storage, KEYS, NOW), {started["state"]: started})

    def test_at_most_five_are_kept_the_newest(self):
        storage = MemoryStorage()
        for i in range(8):
            remember_login(storage, KEYS, transaction("s" + str(i), NOW + i), NOW + i)
        kept = pending_logins(storage, KEYS, None)
        self.assertEqual(MAX_PENDING_LOGINS, 5)
        self.assertEqual(sorted(kept), ["s3", "s4", "s5", "s6", "s7"])

    def test_remembering_drops_expired_and_malformed_ones(self):
        old = transaction("old", NOW - TRANSACTION_LIFETIME_SECONDS - 1)
        storage = stored(old, transaction("keep", NOW - 10))
        data = json.loads(storage.items[KEYS.pending_logins])
        data["junk"] = {"state": "junk"}
        storage.items[KEYS.pending_logins] = json.dumps(data)
        remember_login(storage, KEYS, transaction("new"), NOW)
        self.assertEqual(sorted(json.loads(storage.items[KEYS.pending_logins])), ["keep", "new"])

    def test_remembering_over_garbage(self):
        storage = MemoryStorage({KEYS.pending_logins: "[1 2]"})
        remember_login(storage, KEYS, transaction("new"), NOW)
        self.assertEqual(sorted(json.loads(storage.items[KEYS.pending_logins])), ["new"])

    def test_the_login_just_started_is_kept_on_equal_times(self):
        # Six logins started in the same instant (or a clock with coarse ticks): the one
        # just started stays, and which older one goes does not depend on dict order
        # or on the sort being stable (neither holds on MicroPython).
        storage = stored(*[transaction("s" + str(i)) for i in range(1, 6)])
        remember_login(storage, KEYS, transaction("s0"), NOW)
        self.assertEqual(sorted(json.loads(storage.items[KEYS.pending_logins])),
                         ["s0", "s2", "s3", "s4", "s5"])
        storage = stored(*[transaction("t" + str(i)) for i in range(9, 3, -1)])
        remember_login(storage, KEYS, transaction("t0"), NOW)
        self.assertEqual(sorted(json.loads(storage.items[KEYS.pending_logins])),
                         ["t0", "t6", "t7", "t8", "t9"])

    def test_remembering_the_same_state_again_replaces_it(self):
        storage = stored(transaction("s1", NOW - 5))
        remember_login(storage, KEYS, transaction("s1", NOW, nonce="second"), NOW)
        self.assertEqual(pending_logins(storage, KEYS, NOW)["s1"]["nonce"], "second")

    def test_write_pending(self):
        storage = stored(transaction("s1"))
        write_pending(storage, KEYS, [transaction("a"), transaction("b")])
        self.assertEqual(sorted(json.loads(storage.items[KEYS.pending_logins])), ["a", "b"])
        write_pending(storage, KEYS, [])
        self.assertIsNone(storage.getItem(KEYS.pending_logins))

    def test_response_parameters(self):
        self.assertEqual(sorted(login.RESPONSE_PARAMETERS), sorted((
            "code", "state", "iss", "error", "error_description", "error_uri", "session_state")))
