"""What is kept in the browser: tampered or foreign records, blocked and full storage."""

from __future__ import annotations

import json

import pytest
from conftest import CLIENT_ID
from helpers import alert_text, log_in, open_app, stored_items

pytestmark = pytest.mark.e2e

SESSION_KEY = f"oidc_spa:{CLIENT_ID}:session"

# A record shaped like ours whose ID token is the given text.
def record(id_token: str, **extra: object) -> str:
    return json.dumps({"id_token": id_token, "access_token": "at", "expires_at": 4102444800,
                       **extra})


TAMPERED = {
    "not-json": "{{{",
    "not-an-object": "[1, 2]",
    "not-a-jwt": record("hello"),
    "bad-base64": record("e!!.e!!.e!!"),
    "no-exp": record("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
    "exp-not-a-number": record("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOiJzb29uIn0.c2ln"),
    "profile-not-json-object": record("a.b.c", profile="<script>"),
}


def block_storage_script(*names: str) -> str:
    """Fault injection: make these storages throw as a browser that blocks site data does."""
    return "".join(
        f"Object.defineProperty(window, '{name}', {{configurable: true, get() {{"
        f" throw new DOMException('The operation is insecure.', 'SecurityError'); }}}});"
        for name in names
    )


@pytest.mark.parametrize("case", TAMPERED, ids=list(TAMPERED))
def test_tampered_stored_session_is_logged_out_and_cleaned(page, site, case):
    open_app(page, site.url)
    page.evaluate("([key, value]) => localStorage.setItem(key, value)",
                  [SESSION_KEY, TAMPERED[case]])
    page.reload()
    open_app(page, site.url)
    assert SESSION_KEY not in stored_items(page)
    assert alert_text(page) == ""


def test_another_apps_session_on_the_same_origin_is_neither_used_nor_touched(page, site):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    items = stored_items(page)
    page.evaluate("""([from, to]) => {
        localStorage.setItem(to, localStorage.getItem(from));
        localStorage.removeItem(from);
    }""", [SESSION_KEY, "oidc_spa:other-app:session"])
    page.reload()
    open_app(page, site.url)
    assert stored_items(page)["oidc_spa:other-app:session"] == items[SESSION_KEY]


def test_blocked_local_storage_still_signs_in_for_this_tab_and_says_so(page, site):
    page.add_init_script(block_storage_script("localStorage"))
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    assert "close this tab" in alert_text(page)
    assert page.text_content(".nickname") == "ali"
    assert page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}')") is not None


def test_blocked_storage_refuses_to_start_a_login_that_could_not_finish(page, site):
    page.add_init_script(block_storage_script("localStorage", "sessionStorage"))
    open_app(page, site.url)
    page.click(".btn-login")
    page.wait_for_selector("#auth-error:not([hidden])")
    assert "blocks storage" in alert_text(page)
    assert page.url == site.url
    assert page.evaluate("document.body.dataset.session") == "anonymous"


def test_full_local_storage_keeps_the_session_for_this_tab_and_says_so(page, site):
    open_app(page, site.url)
    # Fill this origin's real localStorage quota.
    page.evaluate("""() => {
        let chunk = 'x'.repeat(1 << 20), i = 0;
        while (chunk.length > 8) {
            try { localStorage.setItem('filler-' + i++, chunk); }
            catch (error) { chunk = chunk.slice(chunk.length / 2); }
        }
    }""")
    log_in(page, "alice", "alice-demo")
    assert "close this tab" in alert_text(page)
    assert SESSION_KEY not in stored_items(page)
    page.reload()
    open_app(page, site.url, state="authenticated")
