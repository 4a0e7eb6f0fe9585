"""What the sample page shows, shared by both lanes (MicroPython and Pyodide run it).

Written in the subset both interpreters read (see oidc_spa.portable): the first lane
paints with these functions and the full lane repaints with the same ones, so the
switch from one lane to the other changes nothing on the screen.
"""

import json

from oidc_spa.portable.urls import is_secure_url

PLACEHOLDER_AVATAR = "./avatar-placeholder.svg"
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
CHANGE_MESSAGES = {
    "expired": "Your session has expired. Please log in again.",
    "signed_out": "You logged out in another tab.",
    "ended": "Your session was ended by the sign-in provider. Please log in again.",
    "signed_in": None,
}


def show_state(document: object, state: str) -> None:
    """checking | authenticated | anonymous; style.css shows the elements of each."""
    if document.body.dataset.session != state:  # no DOM write (no mutation) when unchanged
        document.body.dataset.session = state


def show_message(document: object, text: str | None) -> None:
    """The one place for errors and warnings; role=alert makes screen readers say it."""
    alert = document.querySelector("#auth-error")
    alert.textContent = text or ""
    alert.hidden = not text


def show_profile(document: object, profile: dict) -> None:
    """The profile, as text only; an avatar only from a web address."""
    picture = profile.get("picture")
    avatar_ok = isinstance(picture, str) and is_secure_url(picture)
    _set(document, ".avatar", "src", picture if avatar_ok else PLACEHOLDER_AVATAR)
    _set(document, ".nickname", "textContent",
         first_text(profile, ("nickname", "name", "email", "sub")))
    _set(document, ".email", "textContent", first_text(profile, ("email",)))
    _set(document, ".full-profile", "textContent", pretty_json(profile))


def pretty_json(value: object, indent: str = "") -> str:
    """JSON with two-space indents and sorted keys, the same on both interpreters
    (MicroPython's json.dumps has no indent, and its dicts keep no order)."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [inner + _string(str(key)) + ": " + pretty_json(value[key], inner)
                 for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value:
        items = [inner + pretty_json(item, inner) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    if isinstance(value, str):
        return _string(value)
    return json.dumps(value)


def _string(text: str) -> str:
    """A JSON string with non-ASCII characters as they are (readable names and emails)."""
    # Most values need no escape: min() and `in` run natively, the loop below does not.
    if '"' not in text and "\\" not in text and (not text or min(text) >= " "):
        return '"' + text + '"'
    out = []
    for char in text:
        if char == '"' or char == "\\":
            out.append("\\" + char)
        elif char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def expiry_text(seconds: float | None, renews: bool) -> str:
    if seconds is None:
        return ""
    if renews:
        return "Session renews automatically; this one expires in " + duration(seconds) + "."
    return "Session expires in " + duration(seconds) + "."


def show_expiry(document: object, seconds: float | None, renews: bool) -> None:
    _set(document, ".session-expiry", "textContent", expiry_text(seconds, renews))


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return str(seconds) + " s"
    if seconds < 3600:
        return str(seconds // 60) + " min"
    return str(seconds // 3600) + " h " + str(seconds % 3600 // 60) + " min"


def first_text(profile: dict, names: tuple) -> str:
    for name in names:
        value = profile.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _set(document: object, selector: str, name: str, value: str) -> None:
    """Write only a changed value: the lane switch repaints without a visible change."""
    target = document.querySelector(selector)
    if getattr(target, name) != value:
        setattr(target, name, value)
