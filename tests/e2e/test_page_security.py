"""The page under its Content-Security-Policy: everything works, nothing is refused."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

import pytest
from helpers import log_in, open_app

pytestmark = pytest.mark.e2e


def test_page_has_a_strict_content_security_policy(page, site, provider):
    open_app(page, site.url)
    policy = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    api_origin = "{0.scheme}://{0.netloc}".format(urlsplit(site.api_url))
    assert directives["connect-src"] == f"'self' {provider.issuer} {api_origin}"
    assert directives["object-src"] == "'none'"
    assert "'unsafe-inline'" not in policy


def test_login_works_under_the_policy_without_a_single_violation(page, site):
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    page.reload()
    open_app(page, site.url, state="authenticated")
    violations = [m for m in messages if "Content Security Policy" in m]
    assert violations == []


def test_the_stylesheet_is_in_the_page_and_allowed_by_its_hash_alone(page, site):
    """The build writes style.css into the page (no request before the first paint); the
    policy allows exactly that text, and the browser applies it."""
    open_app(page, site.url)
    sheets = page.evaluate(
        "[...document.styleSheets].map(s => [s.ownerNode.tagName, s.cssRules.length])")
    assert len(sheets) == 1 and sheets[0][0] == "STYLE" and sheets[0][1] > 10, sheets
    css = page.evaluate("document.querySelector('style').textContent")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["style-src"] == f"'self' 'sha256-{digest}'"
    # Applied: signed out, the Log out button is hidden by the stylesheet's rules.
    assert page.evaluate("getComputedStyle(document.querySelector('.btn-logout')).display") \
        == "none"


def test_the_policy_blocks_what_it_should(page, site):
    """A request to a third-party origin is refused by the browser itself."""
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    open_app(page, site.url)
    outcome = page.evaluate("""async () => {
        try { await fetch('https://example.com/'); return 'fetched'; }
        catch (error) { return 'blocked'; }
    }""")
    assert outcome == "blocked"
    assert any("Content Security Policy" in m for m in messages)
