"""On CPython only (MicroPython has no urllib): portable.urls agrees with
urllib.parse where its docstrings say it does."""

import unittest
from urllib.parse import urlencode, urlsplit

from test_portable_urls import SPLITS

from oidc_spa.portable.urls import form_encode, hostname, query_value, split_url

TEXTS = ["", "a b", "&=+/?#%", "\u00e9\u20ac", chr(0x1F600), "AZaz09-._~", "*'()!",
         "https://app.example/cb?x=1", "\x00\n\x7f", "\"<>\\^`{|}", "1.5"]


class LikeUrllib(unittest.TestCase):
    def test_split_url_is_urlsplit(self):
        for url, _ in SPLITS:
            with self.subTest(url=url):
                self.assertEqual(split_url(url), tuple(urlsplit(url)))

    def test_hostname_is_urlsplit_hostname(self):
        for url in ("https://User@Host.EXAMPLE:443/p", "http://[::1]:80", "https://h:1/",
                    "http://LOCALHOST"):
            with self.subTest(url=url):
                self.assertEqual(hostname(url), urlsplit(url).hostname)

    def test_form_encode_is_urlencode(self):
        pairs = [("k" + str(i), text) for i, text in enumerate(TEXTS)] + [("a b", "c")]
        self.assertEqual(form_encode(pairs), urlencode(pairs))
        for text in TEXTS:
            with self.subTest(text=text):
                self.assertEqual(form_encode([("v", text)]), urlencode([("v", text)]))

    def test_query_value_reads_what_urlencode_wrote(self):
        for text in TEXTS:
            with self.subTest(text=text):
                self.assertEqual(query_value(urlencode([("v", text)]), "v"), [text])
