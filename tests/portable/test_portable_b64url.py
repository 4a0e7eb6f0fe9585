"""b64url: base64url without padding (RFC 4648 section 5), exactly the url-safe
alphabet and nothing else, on both interpreters."""

import unittest

from oidc_spa.portable import b64url

# RFC 4648 section 10's vectors, without the padding base64url omits here.
RFC_VECTORS = [
    (b"", ""),
    (b"f", "Zg"),
    (b"fo", "Zm8"),
    (b"foo", "Zm9v"),
    (b"foob", "Zm9vYg"),
    (b"fooba", "Zm9vYmE"),
    (b"foobar", "Zm9vYmFy"),
]


class Encode(unittest.TestCase):
    def test_rfc_4648_vectors(self):
        for data, text in RFC_VECTORS:
            with self.subTest(data=data):
                self.assertEqual(b64url.encode(data), text)
                self.assertEqual(b64url.decode(text), data)

    def test_the_url_safe_alphabet_replaces_plus_and_slash(self):
        self.assertEqual(b64url.encode(b"\xfb\xff"), "-_8")
        self.assertEqual(b64url.encode(b"\xff\xff\xff"), "____")
        self.assertEqual(b64url.encode(b"\xfb\xef\xbe"), "----")
        self.assertEqual(b64url.decode("-_8"), b"\xfb\xff")

    def test_every_byte_and_length_round_trips(self):
        data = bytes(range(256))
        for length in range(0, 70):
            with self.subTest(length=length):
                chunk = data[length:length * 2 + 1]
                text = b64url.encode(chunk)
                self.assertEqual(len(text), (len(chunk) * 4 + 2) // 3)
                self.assertEqual(b64url.decode(text), chunk)
        self.assertEqual(b64url.decode(b64url.encode(data)), data)

    def test_bytearray_input(self):
        self.assertEqual(b64url.encode(bytearray(b"foo")), "Zm9v")

    def test_a_long_value(self):
        data = bytes(i % 251 for i in range(60_000))
        self.assertEqual(b64url.decode(b64url.encode(data)), data)

    def test_a_json_web_token_header(self):
        self.assertEqual(b64url.decode("eyJhbGciOiJSUzI1NiJ9"), b'{"alg":"RS256"}')


class Decode(unittest.TestCase):
    def test_refuses_the_standard_alphabet_padding_and_spaces(self):
        for text in ("+w", "/w", "Zg==", "Zg=", "Zm9v=", "Zm9 v", " Zm9v", "Zm9v ", "Zm9v\n",
                     "Zm\t9v", "Zm9v.", "Zm9v!", "Zm9v*", "Zm9v%3D", "Zm\u00e99v", "\u0660\u0661"):
            with self.subTest(text=text), self.assertRaises(ValueError):
                b64url.decode(text)

    def test_refuses_a_length_no_encoding_has(self):
        for text in ("A", "AAAAA", "AAAAAAAAA", "Zm9vY"):
            with self.subTest(text=text), self.assertRaises(ValueError):
                b64url.decode(text)

    def test_refuses_anything_but_text(self):
        for value in (None, b"Zm9v", bytearray(b"Zm9v"), 1, ["Zm9v"]):
            with self.subTest(value=repr(value)), self.assertRaises(ValueError):
                b64url.decode(value)

    def test_the_empty_text_is_no_bytes(self):
        self.assertEqual(b64url.decode(""), b"")

    def test_unused_trailing_bits_are_ignored_the_same_everywhere(self):
        # RFC 4648 3.5 lets a decoder refuse non-zero pad bits; this one ignores them
        # (both lanes alike): "Zh" and "Zg" are both "f".
        self.assertEqual(b64url.decode("Zh"), b"f")
        self.assertEqual(b64url.decode("Zm9"), b"fo")
        self.assertEqual(b64url.decode("Zm_"), b"fo")
