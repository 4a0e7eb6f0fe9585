"""PyScript's configs written into index.html, so that PyScript fetches no file first.

PyScript reads every interpreter's config before it starts any interpreter, one after the
other: a `<py-config src="./pyscript.toml">` (or a `config="./NAME.toml"` attribute) is a
request, and then its TOML parser chunk another, before the WebAssembly is even asked for
(about 50 ms warm, two round trips on a real link, when the first lane still ran through
PyScript: docs/performance.md). The same configs inlined as JSON cost nothing: PyScript
parses a config that starts with `{` as JSON, and resolves its relative paths against the
page, which is where the TOML files sit. The TOML files stay the sources (and stay in the
site, for readers).
"""

from __future__ import annotations

import html
import json
import re
import tomllib
from pathlib import Path

# <py-config hidden src="./NAME.toml"></py-config> (bare attributes kept: `hidden`, so the
# JSON is never shown) and config="./NAME.toml" on a <script>.
_ELEMENT = re.compile(r'<py-config((?: [\w-]+)*) src="\./([\w.-]+\.toml)"></py-config>')
_ATTRIBUTE = re.compile(r'(<script [^>]*)config="\./([\w.-]+\.toml)"')


class InlineConfigError(Exception):
    """A config that index.html names is missing or is not valid TOML."""


def config_json(path: Path) -> str:
    """The TOML file as compact JSON, as PyScript would have parsed it."""
    try:
        return json.dumps(tomllib.loads(path.read_text()), separators=(",", ":"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InlineConfigError(f"{path}: {error}") from None


def inline_configs(page: str, site: Path) -> str:
    """`page` (index.html's text) with each config it names by URL written in as JSON."""

    def element(match: re.Match[str]) -> str:
        text = config_json(site / match.group(2))
        return f"<py-config{match.group(1)}>{html.escape(text, quote=False)}</py-config>"

    def attribute(match: re.Match[str]) -> str:
        text = config_json(site / match.group(2))
        return f'{match.group(1)}config="{html.escape(text, quote=True)}"'

    return _ATTRIBUTE.sub(attribute, _ELEMENT.sub(element, page))
