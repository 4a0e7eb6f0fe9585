"""JSON from outside (provider answers, stored records), read the same way everywhere.

`json.loads` alone differs between interpreters and lets hostile input escape as the
wrong exception: MicroPython's accepts `[1 2]` and trailing commas, a document nested
ten thousand levels deep raises RecursionError (in the browser it may exhaust
WebAssembly's stack first), and 1e999999 becomes a number `is_number` must refuse.
So the text is first checked against RFC 8259's grammar here, with size and depth
bounds, and only then parsed; everything answers None or False instead of raising.
"""

import json
import math
import re

# Nothing this package reads comes near these: an ID token's claims, a discovery
# document, a JWKS, a token answer, a profile.
MAX_JSON_CHARS = 1_000_000
MAX_JSON_DEPTH = 32
# Seconds and timestamps beyond this (year 2^53 / 86400 / 365, far past any real
# expiry) are refused: float() of a larger integer loses precision or overflows.
MAX_SAFE_NUMBER = 2**53

# The scan reads the text's UTF-8 bytes (see is_json): the grammar's characters as bytes.
_WHITESPACE = b" \t\n\r"
_DIGITS = b"0123456789"
_HEX = b"0123456789abcdefABCDEF"
_ESCAPES = b'"\\/bfnrtu'
_LITERALS = (b"true", b"false", b"null")
_QUOTE, _BACKSLASH, _MINUS, _ZERO, _DOT, _COLON, _COMMA = b'"\\-0.:,'

# The fast check (see _surely_json): what may stand outside strings, the control
# characters a string may not hold (NUL is looked for apart: it would end a pattern),
# a number or literal token, and an innermost object or array once strings are S and
# other values V. Patterns of the few features both interpreters' `re` share.
_FAST_LIMIT = 4096
_OUTSIDE_STRINGS = b"{}[]:,0123456789-+.eEtruefalsn \t\n\r"
_CONTROL = re.compile(b"[\x01-\x1f]")
_TOKEN = re.compile(b"-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false|null")
_INNER_OBJECT = re.compile(b"\\{(S:[SV](,S:[SV])*)?\\}")
_INNER_ARRAY = re.compile(b"\\[([SV](,[SV])*)?\\]")


def parse_json(text: object) -> object:
    """The JSON value in `text`; None when it is not JSON, too large or too deep."""
    if not isinstance(text, str) or len(text) > MAX_JSON_CHARS or not is_json(text):
        return None
    try:
        value = json.loads(text)
    except Exception:  # the grammar said yes; an interpreter limit said no
        return None
    # An escaped surrogate pair (\ud83d\ude00, as Python's json.dumps writes an emoji)
    # is one character in CPython's json and two surrogates in MicroPython's.
    return _join_surrogates(value) if "\\ud" in text or "\\uD" in text else value


def json_object(text: object) -> dict | None:
    """The JSON object in `text`, or None for anything else."""
    value = parse_json(text)
    return value if isinstance(value, dict) else None


def is_number(value: object) -> bool:
    """A real, finite JSON number of sane size (not a bool, not NaN, not 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return -MAX_SAFE_NUMBER <= value <= MAX_SAFE_NUMBER
    return math.isfinite(value) and -MAX_SAFE_NUMBER <= value <= MAX_SAFE_NUMBER


def decode_utf8(data: bytes) -> str | None:
    """`data` as UTF-8 text, or None when it is not UTF-8. MicroPython's decoder alone
    also takes overlong forms (C0 AF for "/"), surrogates and code points past U+10FFFF."""
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeError:
        return None
    if len(text) == len(data):  # ASCII
        return text
    size = 0
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            return None
        size += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    # MicroPython keeps the bytes as they came: an overlong form is longer than needed.
    return text if size == len(data) else None


def is_json(text: str) -> bool:
    """True when `text` is one JSON value (RFC 8259) nested at most MAX_JSON_DEPTH deep."""
    # Scanned as UTF-8 bytes: MicroPython's str has no index (text[i] walks from the
    # start), so a scan by character would take quadratic time there.
    try:
        data = text.encode("utf-8")
    except UnicodeError:  # a lone surrogate (CPython)
        return False
    return _surely_json(data) or _scanned_json(data)


def _scanned_json(data: bytes) -> bool:
    """is_json's answer for UTF-8 bytes, token by token (the grammar below)."""
    end = _value(data, _skip_space(data, 0), 0)
    return end >= 0 and _skip_space(data, end) == len(data)


def _surely_json(data: bytes) -> bool:
    """True when `data` is certainly one JSON value at most MAX_JSON_DEPTH deep; False
    when unsure (the scan below decides then). Runs in a few native calls where the scan
    steps through every token in Python: a stored record is read at every start.

    The strings go first (split at the quotes; none may hold a backslash or a control
    character, else unsure), then the rest must be JSON's grammar with each string as S
    and each number or literal as V: the innermost objects and arrays are folded to V,
    one nesting level a pass (at most MAX_JSON_DEPTH passes), until one value is left."""
    if len(data) > _FAST_LIMIT or b"\\" in data:
        return False
    parts = data.split(b'"')
    if len(parts) % 2 == 0:
        return False
    inside = b"".join(parts[1::2])
    if b"\0" in inside or _CONTROL.search(inside):
        return False
    outside = parts[0::2]
    if b"".join(outside).strip(_OUTSIDE_STRINGS):
        return False
    shape = _TOKEN.sub(b"V", b"S".join(outside))
    for space in (b" ", b"\t", b"\n", b"\r"):  # after the tokens: "1 2" stays two
        shape = shape.replace(space, b"")
    if shape.strip(b"{}[]:,SV"):
        return False
    for _ in range(MAX_JSON_DEPTH):
        if shape == b"V" or shape == b"S":
            return True
        # W, which neither pattern takes, until the pass is over: an object around an
        # array folded in this pass is one level more, folded in the next.
        folded = _INNER_OBJECT.sub(b"W", _INNER_ARRAY.sub(b"W", shape)).replace(b"W", b"V")
        if folded == shape:
            return False
        shape = folded
    return shape == b"V" or shape == b"S"


def _join_surrogates(value: object) -> object:
    if isinstance(value, str):
        return _joined(value)
    if isinstance(value, list):
        return [_join_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_joined(key): _join_surrogates(item) for key, item in value.items()}
    return value


def _joined(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if 0xDC00 <= code <= 0xDFFF and out and 0xD800 <= ord(out[-1]) <= 0xDBFF:
            out[-1] = chr(0x10000 + ((ord(out[-1]) - 0xD800) << 10) + code - 0xDC00)
        else:
            out.append(char)
    return "".join(out)


def _skip_space(text: bytes, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _value(text: bytes, i: int, depth: int) -> int:
    """The index after the value starting at i, or -1 when there is none."""
    if i >= len(text):
        return -1
    char = text[i]
    if char in b"{[":
        return -1 if depth >= MAX_JSON_DEPTH else _container(text, i, depth + 1)
    if char == _QUOTE:
        return _string(text, i)
    if char == _MINUS or char in _DIGITS:
        return _number(text, i)
    for literal in _LITERALS:
        if text.startswith(literal, i):
            return i + len(literal)
    return -1


def _container(text: bytes, i: int, depth: int) -> int:
    is_object = text[i] == ord("{")
    closing = ord("}") if is_object else ord("]")
    i = _skip_space(text, i + 1)
    if i < len(text) and text[i] == closing:
        return i + 1
    while True:
        if is_object:
            if i >= len(text) or text[i] != _QUOTE:
                return -1
            i = _skip_space(text, _string(text, i))
            if i <= 0 or i >= len(text) or text[i] != _COLON:
                return -1
            i = _skip_space(text, i + 1)
        i = _value(text, i, depth)
        if i < 0:
            return -1
        i = _skip_space(text, i)
        if i >= len(text):
            return -1
        if text[i] == closing:
            return i + 1
        if text[i] != _COMMA:
            return -1
        i = _skip_space(text, i + 1)


def _string(text: bytes, i: int) -> int:
    """The index after the string opening at i, or -1. Plain runs between escapes are
    checked with find() and min(), which run natively: a record is mostly long token
    strings, and a byte-by-byte loop is slow in MicroPython (about 4 µs a byte)."""
    i += 1
    while True:
        quote = text.find(b'"', i)
        if quote < 0:
            return -1
        slash = text.find(b"\\", i, quote)
        plain_end = quote if slash < 0 else slash
        if plain_end > i and min(text[i:plain_end]) < 0x20:
            return -1  # a control character must be escaped
        if slash < 0:
            return quote + 1
        i = slash
        if i + 1 >= len(text) or text[i + 1] not in _ESCAPES:
            return -1
        if text[i + 1] == ord("u"):
            digits = text[i + 2:i + 6]
            if len(digits) != 4 or not all(c in _HEX for c in digits):
                return -1
            i += 6
        else:
            i += 2


def _number(text: bytes, i: int) -> int:
    if text[i] == _MINUS:
        i += 1
    if i < len(text) and text[i] == _ZERO:
        i += 1
    else:
        start = i
        i = _digits(text, i)
        if i == start:
            return -1
    if i < len(text) and text[i] == _DOT:
        start = i + 1
        i = _digits(text, start)
        if i == start:
            return -1
    if i < len(text) and text[i] in b"eE":
        i += 1
        if i < len(text) and text[i] in b"+-":
            i += 1
        start = i
        i = _digits(text, i)
        if i == start:
            return -1
    return i


def _digits(text: bytes, i: int) -> int:
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    return i
