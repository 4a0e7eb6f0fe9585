"""URLs without urllib (MicroPython has none): split, origin, loopback, query strings.

Stricter than urllib where it matters for security: a URL with whitespace, control
characters or a backslash is not split at all (browsers and urllib read such URLs
differently), and any userinfo (`user@`) makes a URL unfit to talk to.
"""

from .strict_json import decode_utf8

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_SCHEME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."
# Never percent-encoded in a form value (what urllib.parse.quote_plus keeps).
_FORM_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-~"
_HEX = b"0123456789abcdefABCDEF"


def split_url(url: str) -> tuple:
    """(scheme, netloc, path, query, fragment) like urllib.parse.urlsplit for the URLs
    this package accepts; all empty for a URL it refuses to read."""
    # min(), `in` and strip() run natively: a loop over the characters is slow on
    # MicroPython, and every start reads a few URLs.
    if not isinstance(url, str) or (url and min(url) <= " ") or "\\" in url or "\x7f" in url:
        return ("", "", "", "", "")
    scheme = ""
    colon = url.find(":")
    if colon > 0 and url[0].isalpha() and not url[:colon].strip(_SCHEME_CHARS):
        scheme, url = url[:colon].lower(), url[colon + 1:]
    netloc = ""
    if url.startswith("//"):
        end = len(url)
        for stop in "/?#":
            found = url.find(stop, 2)
            if 0 <= found < end:
                end = found
        netloc, url = url[2:end], url[end:]
    fragment = query = ""
    if "#" in url:
        url, fragment = url.split("#", 1)
    if "?" in url:
        url, query = url.split("?", 1)
    return (scheme, netloc, url, query, fragment)


def hostname(url: str) -> str:
    """The host, lowercased, without port or brackets; "" when there is none."""
    return _host(split_url(url)[1])


def _host(netloc: str) -> str:
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        return lower_ascii(host[1:host.find("]")]) if "]" in host else ""
    return lower_ascii(host.partition(":")[0])


def is_loopback(url: str) -> bool:
    return hostname(url) in LOOPBACK_HOSTS


def is_secure_url(url: str) -> bool:
    """https anywhere, or plain http on this machine only (a local provider or server)."""
    scheme, netloc = split_url(url)[:2]
    host = _host(netloc)
    if not netloc or "@" in netloc or not host:
        return False
    return scheme == "https" or (scheme == "http" and host in LOOPBACK_HOSTS)


def origin(url: str) -> str:
    scheme, netloc = split_url(url)[:2]
    return lower_ascii(scheme + "://" + netloc)


def lower_ascii(text: str) -> str:
    """A-Z lowered, nothing else, as MicroPython's str.lower() does: CPython's also
    lowers other letters (the Kelvin sign to "k"), and the lanes would compare apart."""
    if not text or max(text) < "\x80":  # ASCII: both interpreters' lower() agree
        return text.lower()
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def without_query_and_fragment(url: str) -> str:
    scheme, netloc, path = split_url(url)[:3]
    return scheme + "://" + netloc + path if netloc else path


def default_redirect_uri(page_url: str) -> str:
    """The page's own address, with a trailing index.html dropped.

    /app/ and /app/index.html are the same page; providers compare redirect URIs
    exactly, so one spelling is used whichever the visitor typed.
    """
    base = without_query_and_fragment(page_url)
    if base.endswith("/index.html"):
        base = base[: -len("index.html")]
    return base


def form_encode(pairs: list) -> str:
    """application/x-www-form-urlencoded, byte for byte what urllib.parse.urlencode gives."""
    return "&".join(_form_quote(name) + "=" + _form_quote(value) for name, value in pairs)


def _form_quote(text: str) -> str:
    out = []
    for byte in str(text).encode("utf-8"):
        char = chr(byte)
        if char in _FORM_SAFE:
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def query_names(query: str) -> list:
    """Each `name=value` part of a query with its decoded name (None when the name is
    not UTF-8), in order: enough to find or drop parameters without re-encoding the rest."""
    return [(_form_unquote(part.split("=", 1)[0]), part) for part in query.split("&") if part]


def query_value(query: str, wanted: str) -> list:
    """The decoded values of every `wanted` parameter in `query` (undecodable: skipped)."""
    values = []
    for name, part in query_names(query):
        if name == wanted and "=" in part:
            value = _form_unquote(part.split("=", 1)[1])
            if value is not None:
                values.append(value)
        elif name == wanted:
            values.append("")
    return values


def with_query(url: str, pairs: list) -> str:
    """`url` with `pairs` appended to its query (what it had is kept as it was)."""
    base, _, fragment = url.partition("#")
    added = form_encode(pairs)
    if not added:
        return url
    separator = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        separator = ""
    return base + separator + added + ("#" + fragment if fragment else "")


def without_parameters(url: str, names: tuple) -> str:
    """`url` without the query parameters named in `names` (decoded names compared)."""
    base, hash_sign, fragment = url.partition("#")
    path, question, query = base.partition("?")
    if not question:
        return url
    kept = [part for name, part in query_names(query) if name not in names]
    return path + ("?" + "&".join(kept) if kept else "") + hash_sign + fragment


def _form_unquote(text: str) -> str | None:
    # Read as bytes: MicroPython's str has no index (text[i] walks from the start).
    try:
        source = text.encode("utf-8")
    except UnicodeError:  # a lone surrogate (CPython)
        return None
    data = bytearray()
    i = 0
    while i < len(source):
        byte = source[i]
        if (byte == ord("%") and i + 2 < len(source) and source[i + 1] in _HEX
                and source[i + 2] in _HEX):
            data.append(int(source[i + 1:i + 3], 16))
            i += 3
            continue
        data.append(ord(" ") if byte == ord("+") else byte)
        i += 1
    # Strictly: MicroPython's own decoder reads the overlong %C1%A3 as "c".
    return decode_utf8(data)
