"""The stored-session corpus (corpus.py), read by the portable rules: what each case
decides, here and on MicroPython alike. (test_lanes_agree compares the lanes.)"""

import json
import unittest

import corpus
from memory_storage import MemoryStorage

from oidc_spa.portable import record
from oidc_spa.portable.settings import read_settings

# The cases whose login the portable rules keep; every other case is signed out.
ALIVE = [
    "valid", "valid_float_now", "valid_just_issued", "one_second_before_expiry",
    "issued_in_the_future", "other_app_signed_in_too", "aud_list_with_client",
    "auth0_domain_form", "tampered_payload_exp_moved_with_record",
    "exp_float_equal_to_expires_at", "id_token_header_without_alg",
    "large_record_under_the_limit", "nested_profile_within_the_limit",
    "emoji_profile_escaped_by_python", "minimal_record_defaults",
    "renewal_without_id_token_alive",
]


class Corpus(unittest.TestCase):
    def setUp(self):
        self.cases = corpus.cases()

    def test_enough_distinct_cases(self):
        names = [case[0] for case in self.cases]
        self.assertGreaterEqual(len(names), 25)
        self.assertEqual(len(set(names)), len(names))
        for name in ALIVE:
            self.assertIn(name, names)

    def test_shapes(self):
        for name, storage, settings, now in self.cases:
            with self.subTest(name=name):
                self.assertIsInstance(storage, dict)
                for key, value in storage.items():
                    self.assertIsInstance(key, str)
                    self.assertIsInstance(value, str)
                self.assertTrue(isinstance(now, (int, float)) and not isinstance(now, bool))
                read = read_settings(json.dumps(settings), corpus.PAGE_URL)
                self.assertEqual(read["client_id"], settings["clientId"])

    def test_each_case_decides_as_expected(self):
        for name, storage, settings, now in self.cases:
            with self.subTest(name=name):
                read = read_settings(json.dumps(settings), corpus.PAGE_URL)
                keys = record.Keys(read["client_id"])
                found = record.live_record(MemoryStorage(storage), keys, now, read["issuer"],
                                           read["client_id"])
                self.assertEqual(found is not None, name in ALIVE)

    def test_ending_what_is_not_alive_leaves_nobody_signed_in(self):
        for name, storage, settings, now in self.cases:
            with self.subTest(name=name):
                read = read_settings(json.dumps(settings), corpus.PAGE_URL)
                keys = record.Keys(read["client_id"])
                kept = MemoryStorage(storage)
                if record.live_record(kept, keys, now, read["issuer"], read["client_id"]):
                    continue
                record.end_login(kept, keys, None, "expired", now)
                self.assertIsNone(record.current_record(kept, keys))

    def test_cases_are_fresh_copies(self):
        first, second = corpus.cases()[0], corpus.cases()[0]
        self.assertIsNot(first[1], second[1])
        self.assertEqual(first[1], second[1])
