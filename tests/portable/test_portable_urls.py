"""urls: splitting as urllib.parse.urlsplit does for the URLs this package accepts,
refusing the ones browsers and urllib read differently, and query strings in and out."""

import unittest

from oidc_spa.portable.urls import (
    default_redirect_uri,
    form_encode,
    hostname,
    is_loopback,
    is_secure_url,
    lower_ascii,
    origin,
    query_names,
    query_value,
    split_url,
    with_query,
    without_parameters,
    without_query_and_fragment,
)

NOTHING = ("", "", "", "", "")

# What urllib.parse.urlsplit answers for each (test_urls_like_urllib checks that on CPython).
SPLITS = [
    ("https://example.com/path?q=1#frag", ("https", "example.com", "/path", "q=1", "frag")),
    ("HTTPS://Example.COM", ("https", "Example.COM", "", "", "")),
    ("http://localhost:8080", ("http", "localhost:8080", "", "", "")),
    ("https://user:pw@host/p", ("https", "user:pw@host", "/p", "", "")),
    ("/relative?x#y", ("", "", "/relative", "x", "y")),
    ("//host/p", ("", "host", "/p", "", "")),
    ("localhost:8080", ("localhost", "", "8080", "", "")),
    ("mailto:a@b", ("mailto", "", "a@b", "", "")),
    ("https://h?#", ("https", "h", "", "", "")),
    ("https://h#a?b", ("https", "h", "", "", "a?b")),
    ("https://h/p?a=1?b=2", ("https", "h", "/p", "a=1?b=2", "")),
    ("https://[::1]:8443/x", ("https", "[::1]:8443", "/x", "", "")),
    ("https://h/a#b#c", ("https", "h", "/a", "", "b#c")),
    ("https://h?q/x", ("https", "h", "", "q/x", "")),
    ("https://h#f/x", ("https", "h", "", "", "f/x")),
    ("1http://x", ("", "", "1http://x", "", "")),
    (":foo", ("", "", ":foo", "", "")),
    ("a+b-c.d://h", ("a+b-c.d", "h", "", "", "")),
    ("https://ex\u00e4mple.com/\u00e9", ("https", "ex\u00e4mple.com", "/\u00e9", "", "")),
    ("", NOTHING),
]

# Refused outright: whitespace, control characters, a backslash (browsers read it as "/").
UNREADABLE = [
    "https://a b", "https://a\tb", "https://a\nb", "https://a\rb", "https://h\\@evil.com",
    "https:\\\\evil.com", "https://h\x00", "https://h\x7f", "https://h\x1f", " https://h",
    "https://h ", "https://h/\x0bp",
]

SECURE = [
    "https://example.com", "https://example.com/", "https://example.com:8443/p?q#f",
    "HTTPS://EXAMPLE.COM", "https://[2001:db8::1]/", "http://localhost", "http://localhost:3000/cb",
    "HTTP://LOCALHOST/", "http://127.0.0.1:8080", "http://[::1]:8080/", "http://[::1]",
    "https://ex\u00e4mple.com/",
]

NOT_SECURE = [
    # plain http anywhere but this machine
    "http://example.com", "http://localhost.example.com", "http://localhost.", "http://127.0.0.2",
    "http://127.1", "http://[::2]", "http://0.0.0.0", "http://[::ffff:127.0.0.1]",
    "http://[0:0:0:0:0:0:0:1]/", "http://%6cocalhost/",
    # userinfo: who is talked to is not what it looks like
    "https://user@example.com", "https://user:pw@example.com", "https://@example.com",
    "http://user@localhost", "https://example.com@evil.com", "https://a@b@c",
    # no host
    "https:example.com", "https:/example.com", "https:///path", "https://", "https://:443",
    "https://[::1", "//example.com", "/path", "", "example.com",
    # other schemes
    "ftp://example.com", "javascript:alert(1)", "data:text/html,x", "file:///etc/passwd",
    "wss://example.com",
    # unreadable
    "https://exa mple.com", "https://example.com\\@evil.com", "https://example.com\t",
    "https://example.com\n", "\x00https://example.com", "https://example.com\x7f",
    "http://localhost\\", "\thttps://example.com",
]


class SplitUrl(unittest.TestCase):
    def test_splits_like_urlsplit(self):
        for url, expected in SPLITS:
            with self.subTest(url=url):
                self.assertEqual(split_url(url), expected)

    def test_refuses_what_browsers_and_urllib_read_differently(self):
        for url in UNREADABLE:
            with self.subTest(url=url):
                self.assertEqual(split_url(url), NOTHING)

    def test_refuses_what_is_not_text(self):
        for value in (None, b"https://h", 1, ["https://h"]):
            with self.subTest(value=repr(value)):
                self.assertEqual(split_url(value), NOTHING)

    def test_a_long_url_is_split(self):
        url = "https://h/" + "p" * 100_000 + "?" + "q" * 100_000 + "#f"
        scheme, netloc, path, query, fragment = split_url(url)
        self.assertEqual((scheme, netloc, len(path), len(query), fragment),
                         ("https", "h", 100_001, 100_000, "f"))


class Hosts(unittest.TestCase):
    def test_hostname(self):
        for url, expected in (
            ("https://User@Host.EXAMPLE:443/p", "host.example"),
            ("http://[::1]:80", "::1"),
            ("http://[::1]", "::1"),
            ("http://[ABCD::1]", "abcd::1"),
            ("http://[::1", ""),
            ("https://h:1/", "h"),
            ("https://:1/", ""),
            ("/path", ""),
            ("https://a b/", ""),
        ):
            with self.subTest(url=url):
                self.assertEqual(hostname(url), expected)

    def test_loopback(self):
        for url in ("http://localhost", "http://LocalHost:1", "http://127.0.0.1/",
                    "http://[::1]:8080", "https://localhost"):
            with self.subTest(url=url):
                self.assertTrue(is_loopback(url))
        for url in ("http://localhost.example", "http://127.0.0.1.nip.io", "http://[::2]",
                    "http://127.000.000.001", "http://2130706433", "http://example.com"):
            with self.subTest(url=url):
                self.assertFalse(is_loopback(url))

    def test_secure_urls(self):
        for url in SECURE:
            with self.subTest(url=url):
                self.assertTrue(is_secure_url(url))

    def test_insecure_or_unreadable_urls(self):
        for url in NOT_SECURE:
            with self.subTest(url=url):
                self.assertFalse(is_secure_url(url))

    def test_not_text_is_not_secure(self):
        for value in (None, 1, b"https://example.com"):
            with self.subTest(value=repr(value)):
                self.assertFalse(is_secure_url(value))


class Parts(unittest.TestCase):
    def test_origin(self):
        for url, expected in (
            ("https://Example.com:8443/p?q#f", "https://example.com:8443"),
            ("HTTP://LOCALHOST:3000/x", "http://localhost:3000"),
            ("https://app.example", "https://app.example"),
            ("https://[::1]:8080/", "https://[::1]:8080"),
        ):
            with self.subTest(url=url):
                self.assertEqual(origin(url), expected)

    def test_only_ascii_letters_are_lowered(self):
        # CPython's str.lower() makes the Kelvin sign "k" and "\u00c9" "\u00e9";
        # MicroPython's lowers A-Z only. Both lanes must compare hosts alike.
        self.assertEqual(origin("https://\u212aAPP.example/x"), "https://\u212aapp.example")
        self.assertEqual(origin("https://\u00c9X.example"), "https://\u00c9x.example")
        self.assertEqual(hostname("https://\u212a.EXAMPLE/"), "\u212a.example")
        self.assertNotEqual(origin("https://\u212aapp.example/"), origin("https://kapp.example/"))
        self.assertEqual(lower_ascii("AZaz09-\u212a\u00c9"), "azaz09-\u212a\u00c9")

    def test_origins_of_different_ports_and_schemes_differ(self):
        self.assertNotEqual(origin("https://app.example/"), origin("https://app.example:443/"))
        self.assertNotEqual(origin("https://app.example/"), origin("http://app.example/"))
        self.assertEqual(origin("https://APP.example/a"), origin("https://app.EXAMPLE/b"))

    def test_without_query_and_fragment(self):
        self.assertEqual(without_query_and_fragment("https://h/p?q#f"), "https://h/p")
        self.assertEqual(without_query_and_fragment("https://h?q"), "https://h")
        self.assertEqual(without_query_and_fragment("/p?q#f"), "/p")

    def test_default_redirect_uri(self):
        for page, expected in (
            ("https://app.example/index.html?x#y", "https://app.example/"),
            ("https://app.example/app/index.html", "https://app.example/app/"),
            ("https://app.example/app/", "https://app.example/app/"),
            ("https://app.example/app/?code=1&state=2", "https://app.example/app/"),
            ("https://app.example/app/myindex.html", "https://app.example/app/myindex.html"),
            ("https://app.example/app", "https://app.example/app"),
            ("http://localhost:8000/", "http://localhost:8000/"),
        ):
            with self.subTest(page=page):
                self.assertEqual(default_redirect_uri(page), expected)


class FormEncoding(unittest.TestCase):
    def test_form_encode_like_urlencode(self):
        for pairs, expected in (
            ([("a", "b c")], "a=b+c"),
            ([("x", "&=+/?#%")], "x=%26%3D%2B%2F%3F%23%25"),
            ([("e", "\u00e9\u20ac")], "e=%C3%A9%E2%82%AC"),
            ([("e", chr(0x1F600))], "e=%F0%9F%98%80"),
            ([("safe", "AZaz09-._~")], "safe=AZaz09-._~"),
            ([("star", "*'()!")], "star=%2A%27%28%29%21"),
            ([("redirect_uri", "https://app.example/cb?x=1")],
             "redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1"),
            ([("n", 1), ("f", 1.5)], "n=1&f=1.5"),
            ([("a b", "c")], "a+b=c"),
            ([("empty", "")], "empty="),
            ([("ctl", "\x00\n\x7f")], "ctl=%00%0A%7F"),
            ([], ""),
            ([("a", "1"), ("a", "2")], "a=1&a=2"),
        ):
            with self.subTest(pairs=pairs):
                self.assertEqual(form_encode(pairs), expected)

    def test_query_values_are_decoded(self):
        for query, name, expected in (
            ("code=abc&state=x%20y&state=z", "state", ["x y", "z"]),
            ("code", "code", [""]),
            ("code=", "code", [""]),
            ("code=a+b", "code", ["a b"]),
            ("code=a%2Bb", "code", ["a+b"]),
            ("code=a=b", "code", ["a=b"]),
            ("%63ode=1", "code", ["1"]),
            ("c%6Fde=1", "code", ["1"]),
            ("code=%e2%82%ac", "code", ["\u20ac"]),
            ("code=%", "code", ["%"]),
            ("code=%4", "code", ["%4"]),
            ("code=%zz", "code", ["%zz"]),
            ("code=%%41", "code", ["%A"]),
            ("code=\u00e9", "code", ["\u00e9"]),
            ("code=%FF", "code", []),  # not UTF-8: skipped
            ("code=%C0%AF", "code", []),  # overlong "/": not UTF-8 either
            ("code=%ED%A0%80", "code", []),  # a surrogate
            ("CODE=1", "code", []),
            ("+code=1", "code", []),
            ("", "code", []),
            ("&&code=1&&", "code", ["1"]),
        ):
            with self.subTest(query=query):
                self.assertEqual(query_value(query, name), expected)

    def test_query_names(self):
        self.assertEqual(query_names("a=1&b&%FF=2&%C1%A3ode=3&&"),
                         [("a", "a=1"), ("b", "b"), (None, "%FF=2"), (None, "%C1%A3ode=3")])

    def test_a_long_query_value(self):
        value = "a" * 50_000 + "%20" * 10_000
        self.assertEqual(query_value("code=" + value, "code"), ["a" * 50_000 + " " * 10_000])


class EditingQueries(unittest.TestCase):
    def test_with_query(self):
        pairs = [("a", "1")]
        for url, expected in (
            ("https://p/auth", "https://p/auth?a=1"),
            ("https://p/auth?x=1", "https://p/auth?x=1&a=1"),
            ("https://p/auth?", "https://p/auth?a=1"),
            ("https://p/auth?x=1&", "https://p/auth?x=1&a=1"),
            ("https://p/auth#frag", "https://p/auth?a=1#frag"),
            ("https://p/auth?x=1#f", "https://p/auth?x=1&a=1#f"),
        ):
            with self.subTest(url=url):
                self.assertEqual(with_query(url, pairs), expected)
        self.assertEqual(with_query("https://p/auth?x=1#f", [("b", "2"), ("c", "3 4")]),
                         "https://p/auth?x=1&b=2&c=3+4#f")
        self.assertEqual(with_query("https://p/auth?x=1", []), "https://p/auth?x=1")

    def test_without_parameters(self):
        names = ("code", "state")
        for url, expected in (
            ("https://app/cb?code=1&state=2&keep=3#f", "https://app/cb?keep=3#f"),
            ("https://app/cb?%63ode=1&keep=3", "https://app/cb?keep=3"),
            ("https://app/cb?c%6Fde=1&%73tate=2", "https://app/cb"),
            ("https://app/cb?code&keep", "https://app/cb?keep"),
            ("https://app/cb?code=", "https://app/cb"),
            ("https://app/cb?+code=1", "https://app/cb?+code=1"),
            ("https://app/cb?CODE=1", "https://app/cb?CODE=1"),
            ("https://app/cb?%FF=1&code=2", "https://app/cb?%FF=1"),
            ("https://app/cb?%C1%A3ode=1", "https://app/cb?%C1%A3ode=1"),
            ("https://app/cb?code=1#x", "https://app/cb#x"),
            ("https://app/cb?#x", "https://app/cb#x"),
            ("https://app/cb?a=1&&b=2", "https://app/cb?a=1&b=2"),
            ("https://app/cb#?code=1", "https://app/cb#?code=1"),
            ("https://app/cb?b=1&code=2&a=3", "https://app/cb?b=1&a=3"),
            ("https://app/cb?keep=%63ode", "https://app/cb?keep=%63ode"),
            ("https://app/cb", "https://app/cb"),
        ):
            with self.subTest(url=url):
                self.assertEqual(without_parameters(url, names), expected)
