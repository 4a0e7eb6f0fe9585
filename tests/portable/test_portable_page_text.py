"""page_text: what the sample page shows, written the same by both lanes (the first
lane paints with it on MicroPython, the full lane repaints with it on Pyodide: any
difference would be a visible change at the switch)."""

import json
import unittest

from app import page_text


class PrettyJson(unittest.TestCase):
    def test_keys_sorted_two_space_indents(self):
        text = page_text.pretty_json({"b": 1, "a": {"d": [1, "x"], "c": True}, "e": None})
        self.assertEqual(text, '{\n  "a": {\n    "c": true,\n    "d": [\n      1,\n'
                               '      "x"\n    ]\n  },\n  "b": 1,\n  "e": null\n}')

    def test_empty_containers_and_scalars(self):
        self.assertEqual(page_text.pretty_json({}), "{}")
        self.assertEqual(page_text.pretty_json([]), "[]")
        self.assertEqual(page_text.pretty_json(""), '""')
        self.assertEqual(page_text.pretty_json(1.5), "1.5")
        self.assertEqual(page_text.pretty_json(False), "false")

    def test_plain_text_is_written_as_it_is(self):
        for text in ("alice@example.test", "Alice Example", "https://example.test/a.png?x=1",
                     "Zoë Ünal", "名前", "emoji \U0001f600", "tab-free ~ text \u007f"):
            with self.subTest(text=text):
                self.assertEqual(page_text.pretty_json(text), '"' + text + '"')

    def test_quotes_backslashes_and_control_characters_are_escaped(self):
        cases = {
            'say "hi"': '"say \\"hi\\""',
            "C:\\path": '"C:\\\\path"',
            "two\nlines": '"two\\nlines"',
            "a\tb\rc\bd\fe": '"a\\tb\\rc\\bd\\fe"',
            "bell\x07": '"bell\\u0007"',
            "\x00": '"\\u0000"',
            "\x1f and Zoë": '"\\u001f and Zoë"',
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                written = page_text.pretty_json(text)
                self.assertEqual(written, expected)
                self.assertEqual(json.loads(written), text)

    def test_keys_are_escaped_like_values(self):
        self.assertEqual(page_text.pretty_json({'a"b': 1}), '{\n  "a\\"b": 1\n}')


class Texts(unittest.TestCase):
    def test_first_text_takes_the_first_non_empty_string(self):
        profile = {"nickname": "", "name": 7, "email": "a@example.test", "sub": "s"}
        self.assertEqual(page_text.first_text(profile, ("nickname", "name", "email")),
                         "a@example.test")
        self.assertEqual(page_text.first_text(profile, ("missing",)), "")

    def test_durations(self):
        self.assertEqual(page_text.duration(59.9), "59 s")
        self.assertEqual(page_text.duration(60), "1 min")
        self.assertEqual(page_text.duration(3599), "59 min")
        self.assertEqual(page_text.duration(3660), "1 h 1 min")

    def test_expiry_text(self):
        self.assertEqual(page_text.expiry_text(None, True), "")
        self.assertEqual(page_text.expiry_text(120, False), "Session expires in 2 min.")
        self.assertTrue(page_text.expiry_text(120, True).startswith("Session renews"))
