"""inline_style: the stylesheet written into index.html, and the hash its policy allows."""

from __future__ import annotations

import base64
import hashlib

import pytest

from devtools.build.inline_style import InlineStyleError, inline_stylesheets, style_hashes

PAGE = ('<head>\n  <link rel="icon" href="./favicon.svg">\n'
        '  <link rel="stylesheet" href="./style.css">\n</head>')


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_a_local_stylesheet_is_written_in(tmp_path):
    (tmp_path / "style.css").write_text("body { margin: 0 }\n")
    page = inline_stylesheets(PAGE, tmp_path)
    assert '<link rel="stylesheet"' not in page
    assert "<style>body { margin: 0 }\n</style>" in page
    assert '<link rel="icon" href="./favicon.svg">' in page


def test_the_hash_is_the_elements_text_as_the_browser_reads_it(tmp_path):
    # The HTML parser turns CRLF into LF before the policy check hashes the text.
    (tmp_path / "style.css").write_bytes(b"a { color: red }\r\nb { color: blue }\r\n")
    page = inline_stylesheets(PAGE, tmp_path)
    assert style_hashes(page) == [sha256_source("a { color: red }\nb { color: blue }\n")]


def test_every_style_element_gets_its_hash_once():
    page = "<style>a{}</style><p>x</p><style>\nb{}\n</style><style>a{}</style>"
    assert style_hashes(page) == [sha256_source("a{}"), sha256_source("\nb{}\n")]
    assert style_hashes("<p>no style</p>") == []


def test_a_stylesheet_that_would_end_the_element_is_refused(tmp_path):
    (tmp_path / "style.css").write_text("a::after { content: '</STYLE><script>x</script>' }")
    with pytest.raises(InlineStyleError, match="</style"):
        inline_stylesheets(PAGE, tmp_path)


def test_a_missing_stylesheet_fails_clearly(tmp_path):
    with pytest.raises(InlineStyleError, match=r"style\.css"):
        inline_stylesheets(PAGE, tmp_path)


def test_other_links_are_left_alone(tmp_path):
    page = ('<link rel="stylesheet" href="https://cdn.example/x.css">'
            '<link rel="stylesheet" href="../up.css">')
    assert inline_stylesheets(page, tmp_path) == page
