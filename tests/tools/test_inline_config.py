"""PyScript's configs written into the page as JSON (devtools/build/inline_config.py)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from devtools.build.inline_config import InlineConfigError, inline_configs


def test_a_py_config_element_gets_its_file_as_json_and_keeps_hidden(tmp_path: Path) -> None:
    (tmp_path / "pyscript.toml").write_text('interpreter = "./x.mjs"\n[files]\n"./a" = "./b"\n')
    page = '<body><py-config hidden src="./pyscript.toml"></py-config></body>'
    written = inline_configs(page, tmp_path)
    text = re.fullmatch(r"<body><py-config hidden>(.*)</py-config></body>", written).group(1)
    assert json.loads(html.unescape(text)) == {"interpreter": "./x.mjs",
                                               "files": {"./a": "./b"}}


def test_a_config_attribute_is_escaped_for_the_attribute(tmp_path: Path) -> None:
    (tmp_path / "lane.toml").write_text('name = "a \\"quoted\\" <b> & c"\n')
    page = '<script type="mpy" src="./x.py" config="./lane.toml"></script>'
    written = inline_configs(page, tmp_path)
    value = re.fullmatch(r'<script type="mpy" src="\./x\.py" config="([^"]*)"></script>',
                         written).group(1)
    assert json.loads(html.unescape(value)) == {"name": 'a "quoted" <b> & c'}


def test_markup_in_a_config_cannot_close_the_element(tmp_path: Path) -> None:
    (tmp_path / "pyscript.toml").write_text('x = "</py-config><script>"\n')
    written = inline_configs('<py-config src="./pyscript.toml"></py-config>', tmp_path)
    assert written.count("</py-config>") == 1 and "<script>" not in written


def test_a_missing_or_broken_config_is_named(tmp_path: Path) -> None:
    with pytest.raises(InlineConfigError, match=r"pyscript\.toml"):
        inline_configs('<py-config src="./pyscript.toml"></py-config>', tmp_path)
    (tmp_path / "pyscript.toml").write_text("not toml [\n")
    with pytest.raises(InlineConfigError, match=r"pyscript\.toml"):
        inline_configs('<py-config src="./pyscript.toml"></py-config>', tmp_path)


def test_a_page_without_config_files_is_kept(tmp_path: Path) -> None:
    page = '<py-config>{"interpreter": "./x.mjs"}</py-config>'
    assert inline_configs(page, tmp_path) == page
