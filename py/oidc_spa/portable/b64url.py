"""Base64url without padding (RFC 4648 section 5), as JOSE and PKCE use it.

Written out rather than taken from base64/binascii: MicroPython's binascii differs
(and has no url-safe alphabet), and both lanes must accept exactly the same input.
Decoding accepts only the url-safe alphabet, without padding or anything else.
"""

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _byte_values() -> bytes:
    """Each ASCII code's value in the alphabet (0 for the others: decode() checks first)."""
    values = bytearray(128)
    for index, char in enumerate(ALPHABET):
        values[ord(char)] = index
    return bytes(values)


_BYTE_VALUES = _byte_values()


def encode(data: bytes) -> str:
    out = []
    for start in range(0, len(data), 3):
        chunk = data[start:start + 3]
        bits = int.from_bytes(chunk + b"\0" * (3 - len(chunk)), "big")
        chars = len(chunk) + 1
        for shift in (18, 12, 6, 0)[:chars]:
            out.append(ALPHABET[(bits >> shift) & 63])
    return "".join(out)


def is_b64url(text: object) -> bool:
    """Whether `text` is base64url (what decode() accepts), without decoding it.
    str.strip(ALPHABET) runs natively: an empty rest means every character is in it."""
    return isinstance(text, str) and len(text) % 4 != 1 and not text.strip(ALPHABET)


def decode(text: str) -> bytes:
    """The bytes `text` encodes; ValueError for anything but base64url."""
    if not is_b64url(text):
        raise ValueError("not base64url")
    # Four characters a step, read as bytes: MicroPython's str has no index (text[i]
    # walks from the start), its bytes do; a token's claims decode about 2.5 times
    # faster than one character a step. Bits past the last whole byte are ignored, as
    # Python's base64 module ignores them.
    data = text.encode()
    values = _BYTE_VALUES
    out = bytearray()
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        bits = ((values[data[i]] << 18) | (values[data[i + 1]] << 12)
                | (values[data[i + 2]] << 6) | values[data[i + 3]])
        out.extend(bits.to_bytes(3, "big"))
    rest = len(data) - whole
    if rest:
        bits = 0
        for i in range(whole, len(data)):
            bits = (bits << 6) | values[data[i]]
        out.extend((bits << 6 * (4 - rest)).to_bytes(3, "big")[:rest - 1])
    return bytes(out)
