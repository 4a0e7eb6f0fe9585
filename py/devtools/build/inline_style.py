"""The page's stylesheet written into index.html, and the hashes its policy allows.

A `<link rel="stylesheet">` blocks the first paint until the file arrives: one more round
trip before "Checking your session…" shows on a real link (about 50 ms on the emulated
20 Mbit/s, 40 ms one; 15-45 ms on a new browser profile here: docs/performance.md). The
sample page's stylesheet is 2 KB, so the build writes it into the page as a `<style>`
element, and the Content-Security-Policy allows exactly that text by its SHA-256
(`style-src 'self' 'sha256-…'`: no 'unsafe-inline'). public/style.css stays the source,
and stays in the site.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

# <link rel="stylesheet" href="./NAME.css"> naming a file beside index.html.
_LINK = re.compile(r'<link rel="stylesheet" href="\./([\w.-]+\.css)">')
# A <style> element's text, as the HTML parser hands it to the policy check.
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


class InlineStyleError(Exception):
    """A stylesheet index.html names is missing, or cannot sit inside <style>."""


def inline_stylesheets(page: str, site: Path) -> str:
    """`page` (index.html's text) with each local stylesheet it links written in."""

    def element(match: re.Match[str]) -> str:
        path = site / match.group(1)
        try:
            css = path.read_text()
        except OSError as error:
            raise InlineStyleError(f"{path}: {error}") from None
        # The HTML parser turns CRLF into LF before the policy hashes the text.
        css = css.replace("\r\n", "\n").replace("\r", "\n")
        if "</style" in css.lower():
            raise InlineStyleError(f"{path} contains '</style': it would end the element")
        return f"<style>{css}</style>"

    return _LINK.sub(element, page)


def style_hashes(page: str) -> list[str]:
    """The CSP source of each <style> element in `page`: 'sha256-…' of its text."""
    hashes = []
    for css in _STYLE.findall(page):
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return list(dict.fromkeys(hashes))
