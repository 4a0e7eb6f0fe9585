"""Base64url without padding (RFC 4648 section 5), as JOSE and PKCE use it.

Written out rather than taken from base64/binascii: MicroPython's binascii differs
(and has no url-safe alphabet), and both lanes must accept exactly the same input.
Decoding accepts only the url-safe alphabet, without padding or anything else.
"""

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUES = {char: index for index, char in enumerate(ALPHABET)}


def encode(data: bytes) -> str:
    out = []
    for start in range(0, len(data), 3):
        chunk = data[start:start + 3]
        bits = int.from_bytes(chunk + b"\0" * (3 - len(chunk)), "big")
        chars = len(chunk) + 1
        for shift in (18, 12, 6, 0)[:chars]:
            out.append(ALPHABET[(bits >> shift) & 63])
    return "".join(out)


def decode(text: str) -> bytes:
    """The bytes `text` encodes; ValueError for anything but base64url."""
    if not isinstance(text, str) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    # One pass over the characters, no slicing: MicroPython's str has no index, so
    # text[start:start + 4] walks from the start and a long token took quadratic time.
    out = bytearray()
    bits = count = 0
    for char in text:
        value = _VALUES.get(char)
        if value is None:
            raise ValueError("not base64url")
        bits = (bits << 6) | value
        count += 1
        if count == 4:
            out.extend(bits.to_bytes(3, "big"))
            bits = count = 0
    if count:
        out.extend((bits << 6 * (4 - count)).to_bytes(3, "big")[:count - 1])
    return bytes(out)
