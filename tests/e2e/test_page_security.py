"""The page under its Content-Security-Policy: everything works, nothing is refused."""

from __future__ import annotations

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
