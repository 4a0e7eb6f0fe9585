"""JSON from outside (the provider's answers, stored records), read without surprises.

`json.loads` alone lets hostile input escape as the wrong exception: a document
nested ten thousand levels deep raises RecursionError (and in the browser may
exhaust WebAssembly's stack first), and a number like 1e999999 becomes an integer
that `math.isfinite` refuses with OverflowError. Everything here answers None or
False instead, so callers turn it into a typed error with a user message.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Nothing this package reads comes near these: an ID token's claims, a discovery
# document, a JWKS, a token answer, a profile.
MAX_JSON_CHARS = 1_000_000
MAX_JSON_DEPTH = 32
# Seconds and timestamps beyond this (year 2^53 / 86400 / 365, far past any real
# expiry) are refused: float() of a larger integer loses precision or overflows.
MAX_SAFE_NUMBER = 2**53


def parse_json(text: object) -> Any:
    """The JSON value in `text`; None when it is not JSON, too large or too deep."""
    if not isinstance(text, str) or len(text) > MAX_JSON_CHARS:
        return None
    # Cheap bound first: a document with few brackets cannot be deep.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _depth(text) > MAX_JSON_DEPTH:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def json_object(text: object) -> dict[str, Any] | None:
    """The JSON object in `text`, or None for anything else."""
    value = parse_json(text)
    return value if isinstance(value, dict) else None


def is_number(value: object) -> bool:
    """A real, finite JSON number of sane size (not a bool, not NaN, not 10**400)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return -MAX_SAFE_NUMBER <= value <= MAX_SAFE_NUMBER
    return math.isfinite(value) and -MAX_SAFE_NUMBER <= value <= MAX_SAFE_NUMBER


def _depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
