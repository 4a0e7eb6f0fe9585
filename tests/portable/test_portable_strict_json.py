"""strict_json: RFC 8259's grammar, the size and depth bounds, and the numbers a rule
may compare, read the same way on CPython and MicroPython (whose json.loads alone takes
`[1 2]`, trailing commas, `01` and `1.`)."""

import json
import unittest

from oidc_spa.portable import strict_json
from oidc_spa.portable.strict_json import (
    MAX_JSON_CHARS,
    MAX_JSON_DEPTH,
    MAX_SAFE_NUMBER,
    decode_utf8,
    is_json,
    is_number,
    json_object,
    parse_json,
)

# RFC 8259 section 13's two examples.
RFC_OBJECT = """{
  "Image": {
    "Width":  800,
    "Height": 600,
    "Title":  "View from 15th Floor",
    "Thumbnail": {
      "Url":    "http://www.example.com/image/481989943",
      "Height": 125,
      "Width":  100
    },
    "Animated" : false,
    "IDs": [116, 943, 234, 38793]
  }
}"""
RFC_ARRAY = """[
  {
     "precision": "zip",
     "Latitude":  37.7668,
     "Longitude": -122.3959,
     "Address":   "",
     "City":      "SAN FRANCISCO",
     "State":     "CA",
     "Zip":       "94107",
     "Country":   "US"
  },
  {
     "precision": "zip",
     "Latitude":  37.371991,
     "Longitude": -122.026020,
     "Address":   "",
     "City":      "SUNNYVALE",
     "State":     "CA",
     "Zip":       "94085",
     "Country":   "US"
  }
]"""

VALID = [
    ('"Hello world!"', "Hello world!"),
    ("42", 42),
    ("-0", 0),
    ("0", 0),
    ("-1.5e+10", -1.5e10),
    ("1E-2", 0.01),
    ("1e2", 100.0),
    ("0.0", 0.0),
    ("12.50", 12.5),
    ("true", True),
    ("false", False),
    ("null", None),
    (" 1 ", 1),
    ("\t\n\r[ ]\r\n", []),
    ("[]", []),
    ("{}", {}),
    ("[[]]", [[]]),
    ('{"":""}', {"": ""}),
    ('{"a":[1,{"b":null}]}', {"a": [1, {"b": None}]}),
    ('"\\u00e9\\u20AC"', "\u00e9\u20ac"),
    ('"\\/\\b\\f\\n\\r\\t\\"\\\\"', '/\b\f\n\r\t"\\'),
    ('"\u00e9\u20ac"', "\u00e9\u20ac"),
    ('"\u2028\u2029"', "\u2028\u2029"),  # allowed raw in JSON (not in JavaScript)
    ('"\x7f"', "\x7f"),  # DEL is not a control character to JSON
    ('"[[[[{{{{"', "[[[[{{{{"),  # brackets in a string do not nest
    ('{"a":1,"a":2}', {"a": 2}),  # duplicate names: the last one, in both interpreters
    ("[1,-2,3.5,-4e-1,5E+1]", [1, -2, 3.5, -0.4, 50.0]),
]

INVALID = [
    "", " ", "\n",
    # What MicroPython's json.loads accepts on its own:
    "[1 2]", '{"a":1,}', "[1,]", "01", "-01", "1.", "[,1]", "{,}", '{"a" 1}', "{1:2}",
    '"\\x41"', '{"a":1 "b":2}', "[1 2 3]", '["a" "b"]', "1.e5", "00",
    # Not JSON anywhere:
    ".5", "+1", "-", "--1", "- 1", "1e", "1e+", "1E-", "1e5.0", "0x10", "NaN", "Infinity",
    "-Infinity", "tru", "True", "nul", "nulll", "truefalse", "[true false]", "undefined",
    "'a'", '"a', '"\\"', '"\\u12"', '"\\u12G4"', '"\\U00e9"', '"a\tb"', '"a\nb"', '"\x00"',
    '"\x1f"', "[", "]", "{", "}", "[[1]", '{"a":1}}', '{"a":}', '{"a"}', '{:1}', "[1]]",
    "1 2", "[] []", '"a" "b"', "{}{}",
    # Whitespace JSON does not have (form feed, vertical tab, no-break space, NUL):
    "\x0c1", "1\x0b", "[1,\x0b2]", "\u00a01", "[1]\x00", "\u30001",
    # Comments:
    "// c\n1", "1 // c", "/* c */ 1", "# c\n1",
]


class Grammar(unittest.TestCase):
    def test_the_rfc_examples_parse(self):
        self.assertEqual(parse_json(RFC_OBJECT)["Image"]["IDs"], [116, 943, 234, 38793])
        self.assertEqual(parse_json(RFC_OBJECT)["Image"]["Animated"], False)
        parsed = parse_json(RFC_ARRAY)
        self.assertEqual(len(parsed), 2)
        self.assertEqual(parsed[1]["City"], "SUNNYVALE")
        self.assertEqual(parsed[0]["Longitude"], -122.3959)

    def test_valid_documents_parse_to_their_value(self):
        for text, expected in VALID:
            with self.subTest(text=text):
                self.assertTrue(is_json(text))
                self.assertEqual(parse_json(text), expected)

    def test_bools_stay_bools_and_numbers_keep_their_kind(self):
        self.assertIs(parse_json("true"), True)
        self.assertIs(parse_json("false"), False)
        self.assertIsInstance(parse_json("1"), int)
        self.assertIsInstance(parse_json("1.0"), float)
        self.assertIsInstance(parse_json("1e2"), float)

    def test_invalid_documents_are_none_never_an_exception(self):
        for text in INVALID:
            with self.subTest(text=text):
                self.assertFalse(is_json(text))
                self.assertIsNone(parse_json(text))
                self.assertIsNone(json_object(text))

    def test_what_micropython_json_loads_would_take_is_refused(self):
        # The reason for the grammar: these parse with json.loads on MicroPython.
        for text in ("[1 2]", '{"a":1,}', "01", "1.", '{"a" 1}', "[,1]"):
            with self.subTest(text=text):
                self.assertIsNone(parse_json(text))

    def test_only_text_is_read(self):
        for value in (None, b"{}", bytearray(b"{}"), 1, 1.5, True, [], {}, ["{}"]):
            with self.subTest(value=repr(value)):
                self.assertIsNone(parse_json(value))
                self.assertIsNone(json_object(value))

    def test_json_object_answers_objects_only(self):
        self.assertEqual(json_object("{}"), {})
        self.assertEqual(json_object(' {"a": [1]} '), {"a": [1]})
        for text in ("[]", "1", '"{}"', "null", "true", "[{}]"):
            with self.subTest(text=text):
                self.assertIsNone(json_object(text))

    def test_text_round_trips_through_json_dumps(self):
        value = {"name": "Zo\u00eb \u20ac", "list": [1, 2.5, None, True, False, "x"],
                 "nested": {"a": {"b": [[], {}]}}}
        self.assertEqual(parse_json(json.dumps(value)), value)


class Unicode(unittest.TestCase):
    def test_an_escaped_surrogate_pair_is_one_character(self):
        # Python's json.dumps writes any character past U+FFFF this way (ensure_ascii).
        emoji = chr(0x1F600)
        self.assertEqual(parse_json('"\\ud83d\\ude00"'), emoji)
        self.assertEqual(parse_json('"\\uD83D\\uDE00"'), emoji)
        self.assertEqual(parse_json(json.dumps("Ada " + emoji)), "Ada " + emoji)
        self.assertEqual(parse_json('{"\\ud83d\\ude00": ["\\ud83d\\ude00!"]}'),
                         {emoji: [emoji + "!"]})
        self.assertEqual(len(parse_json('"a\\ud83d\\ude00b\\ud83d\\ude00"')), 4)

    def test_a_raw_character_past_the_basic_plane_is_read_as_is(self):
        self.assertEqual(parse_json('"' + chr(0x1F600) + '"'), chr(0x1F600))

    def test_lone_and_reversed_surrogates_stay_as_they_were_written(self):
        self.assertEqual([ord(c) for c in parse_json('"\\ud800"')], [0xD800])
        self.assertEqual([ord(c) for c in parse_json('"\\ude00\\ud83d"')], [0xDE00, 0xD83D])
        self.assertEqual([ord(c) for c in parse_json('"\\ud83dx\\ude00"')],
                         [0xD83D, ord("x"), 0xDE00])

    def test_an_escaped_backslash_before_u_is_not_an_escape(self):
        self.assertEqual(parse_json('"\\\\ud83d\\\\ude00"'), "\\ud83d\\ude00")

    def test_decode_utf8_is_strict(self):
        self.assertEqual(decode_utf8(b"plain"), "plain")
        self.assertEqual(decode_utf8("Zo\u00eb \u20ac".encode("utf-8")), "Zo\u00eb \u20ac")
        self.assertEqual(decode_utf8(b"\xf0\x9f\x98\x80"), chr(0x1F600))
        self.assertEqual(decode_utf8(bytearray(b"ok")), "ok")
        bad = [
            b"\xff", b"a\xffb", b"\x80", b"\xfe", b"\xc2", b"\xe2\x82",
            b"\xc0\xaf", b"\xc0\xa2", b"\xc1\xa3", b"\xe0\x80\xaf",  # overlong
            b"\xed\xa0\x80", b"\xed\xb0\x80",  # surrogates
            b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80",  # past U+10FFFF
        ]
        for data in bad:
            with self.subTest(data=repr(data)):
                self.assertIsNone(decode_utf8(data))


class Bounds(unittest.TestCase):
    def test_nesting_up_to_the_limit_parses(self):
        deepest = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
        self.assertTrue(is_json(deepest))
        self.assertIsNotNone(parse_json(deepest))
        objects = '{"a":' * MAX_JSON_DEPTH + "1" + "}" * MAX_JSON_DEPTH
        self.assertIsNotNone(json_object(objects))

    def test_one_level_more_is_refused(self):
        self.assertIsNone(parse_json("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)))
        mixed = '[{"a":' * 17 + "1" + "}]" * 17  # 34 levels
        self.assertIsNone(parse_json(mixed))

    def test_very_deep_documents_are_refused_without_recursing(self):
        for depth in (1000, 100_000):
            with self.subTest(depth=depth):
                self.assertIsNone(parse_json("[" * depth + "]" * depth))
                self.assertIsNone(parse_json('{"a":' * depth + "1" + "}" * depth))
                self.assertIsNone(parse_json("[" * depth))

    def test_brackets_in_strings_do_not_count(self):
        text = '["' + "[" * 1000 + '"]'
        self.assertEqual(parse_json(text), ["[" * 1000])

    def test_size_limit_counts_characters(self):
        self.assertIsNone(parse_json("[" + " " * MAX_JSON_CHARS + "]"))
        self.assertIsNone(parse_json('"' + "a" * MAX_JSON_CHARS + '"'))

    def test_a_document_of_exactly_the_limit_parses(self):
        text = '"' + "a" * (MAX_JSON_CHARS - 2) + '"'
        self.assertEqual(len(text), MAX_JSON_CHARS)
        self.assertEqual(len(parse_json(text)), MAX_JSON_CHARS - 2)

    def test_a_wide_document_parses(self):
        text = "[" + ",".join(["[]"] * 20_000) + "]"
        self.assertEqual(len(parse_json(text)), 20_000)
        text = "{" + ",".join(f'"k{i}":{i}' for i in range(5_000)) + "}"
        self.assertEqual(parse_json(text)["k4999"], 4999)

    def test_long_non_ascii_text_is_read(self):
        text = '"' + "\u00e9" * 10_000 + '"'
        self.assertEqual(parse_json(text), "\u00e9" * 10_000)


class Numbers(unittest.TestCase):
    def test_sane_numbers(self):
        for value in (0, 1, -1, 1.5, -0.0, MAX_SAFE_NUMBER, -MAX_SAFE_NUMBER, 1e15, 1700000000,
                      1700000000.123):
            with self.subTest(value=value):
                self.assertTrue(is_number(value))

    def test_what_is_not_a_sane_number(self):
        for value in (True, False, None, "1", b"1", [1], {"a": 1}, MAX_SAFE_NUMBER + 1,
                      -MAX_SAFE_NUMBER - 1, 10**400, -(10**400), float("inf"), float("-inf"),
                      float("nan"), 1e300, -1e300, 2.0**53 + 2):
            with self.subTest(value=repr(value)):
                self.assertFalse(is_number(value))

    def test_huge_numbers_in_json_parse_but_are_not_sane(self):
        self.assertEqual(parse_json("1e999"), float("inf"))
        self.assertEqual(parse_json("-1e999"), float("-inf"))
        for text in ("1e999", "-1e999", "1" + "0" * 400, "-" + "9" * 30, "9007199254740993",
                     "1e16"):
            with self.subTest(text=text):
                self.assertIsNotNone(parse_json(text))
                self.assertFalse(is_number(parse_json(text)))

    def test_exact_integers_and_tiny_floats(self):
        self.assertEqual(parse_json("9007199254740993"), 9007199254740993)
        self.assertEqual(parse_json("1e-400"), 0.0)
        self.assertEqual(parse_json("-0.0"), 0.0)
        self.assertTrue(is_number(parse_json("9007199254740992")))

    def test_common_timestamps_read_the_same(self):
        for text, value in (("1700000000.123", 1700000000.123), ("0.1", 0.1),
                            ("1796013106.395", 1796013106.395), ("4.35", 4.35),
                            ("1.0000000000000002", 1.0000000000000002)):
            with self.subTest(text=text):
                self.assertEqual(parse_json(text), value)


class Scanner(unittest.TestCase):
    def test_the_scanner_reports_the_end_of_each_value(self):
        # is_json is the whole-document check; the internals must not wrap around
        # (text[-1]) on a failed string inside an object.
        for text in ('{"a\\x": 1} ', ' {"a\\x": 1}', '{"a', '{"a"', '{"a":', '{"a":1'):
            with self.subTest(text=text):
                self.assertFalse(is_json(text))

    def test_module_constants(self):
        self.assertEqual(strict_json.MAX_JSON_DEPTH, 32)
        self.assertEqual(strict_json.MAX_JSON_CHARS, 1_000_000)
        self.assertEqual(strict_json.MAX_SAFE_NUMBER, 2**53)


def _mutations(seeds, count):
    """`count` deterministic edits (delete, insert, replace one byte) of the seeds: a
    linear congruential generator, the same on both interpreters."""
    alphabet = b'{}[]:,"\\ \t\n-+.eE0123456789truefalsnSVx\x01\x00'
    state = 12345
    out = []
    for n in range(count):
        state = (state * 1103515245 + 12345) % 2**31
        seed = seeds[n % len(seeds)]
        at = state % (len(seed) + 1)
        char = alphabet[(state >> 8) % len(alphabet):][:1]
        kind = (state >> 16) % 3
        if kind == 0:
            out.append(seed[:at] + seed[at + 1:])
        elif kind == 1:
            out.append(seed[:at] + char + seed[at:])
        else:
            out.append(seed[:at] + char + seed[at + 1:])
    return out


FAST_SEEDS = [
    b'{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "d", "e": []}, "f": {}}',
    b'[{"x": 0}, [[], [[]]], "s", 10, -0.0E+1]',
    b'{"id_token": "eyJ.eyJ.sig", "expires_at": 1764500000.25, "profile": {"name": "A"}}',
]


class FastCheck(unittest.TestCase):
    """is_json first tries a check made of native calls (_surely_json), and scans token
    by token only when that is unsure: the check may say "unsure" of anything, but "yes"
    only to what the scan takes."""

    def test_the_documents_a_page_reads_are_decided_at_once(self):
        record = json.dumps({"id_token": "a.b.c", "access_token": "t", "expires_at": 1.5,
                             "profile": {"sub": "s", "email_verified": True, "n": None},
                             "identity": {"aud": ["x", "y"]}, "generation": 2})
        for text in (RFC_OBJECT, RFC_ARRAY, record, '{"alg":"RS256","typ":"JWT"}', "[]",
                     '"x"', "0", " {\n} ", "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH):
            with self.subTest(text=text[:40]):
                self.assertTrue(strict_json._surely_json(text.encode()))

    def test_it_is_unsure_of_everything_the_scan_refuses(self):
        for text in INVALID:
            for framed in (text, "[" + text + "]", '{"k": ' + text + "}", text + ",1"):
                data = framed.encode("utf-8")
                with self.subTest(text=framed):
                    if not strict_json._scanned_json(data):
                        self.assertFalse(strict_json._surely_json(data))

    def test_past_its_bounds_it_leaves_the_answer_to_the_scan(self):
        deeper = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
        mixed = '[{"a":' * 17 + "1" + "}]" * 17  # 34 levels, two of them a pass if it erred
        wide = "[" + ",".join(["1"] * 3000) + "]"
        escaped = '{"a": "\\u00e9"}'
        for text in (deeper, mixed, wide, escaped):
            with self.subTest(text=text[:20]):
                self.assertFalse(strict_json._surely_json(text.encode()))
        self.assertFalse(is_json(deeper))
        self.assertFalse(is_json(mixed))
        self.assertTrue(strict_json._surely_json(('[{"a":' * 16 + "1" + "}]" * 16).encode()))
        self.assertTrue(is_json(wide))
        self.assertTrue(is_json(escaped))

    def test_edited_documents_get_the_scans_answer(self):
        decided = 0
        for data in _mutations(FAST_SEEDS, 1500):
            if strict_json._surely_json(data):
                decided += 1
                self.assertTrue(strict_json._scanned_json(data), data)
        self.assertTrue(decided > 100, decided)  # the check did decide some of them
