"""What is kept in the browser: tampered or foreign records, blocked and full storage."""

from __future__ import annotations

import json

import pytest
from helpers import (
    APP_PREFIX,
    CURRENT_KEY,
    alert_text,
    has_session,
    log_in,
    open_app,
    plant_record,
    stored_items,
)

pytestmark = pytest.mark.e2e

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
    plant_record(page, TAMPERED[case])
    page.reload()
    open_app(page, site.url)
    assert not has_session(stored_items(page))
    assert alert_text(page) == ""


def test_another_apps_session_on_the_same_origin_is_neither_used_nor_touched(page, site):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    page.evaluate("""(prefix) => {
        for (const key of Object.keys(localStorage).filter(k => k.startsWith(prefix))) {
            localStorage.setItem(key.replace(prefix, 'oidc_spa:other-app:'),
                                 localStorage.getItem(key));
            localStorage.removeItem(key);
        }
    }""", APP_PREFIX)
    moved = {k: v for k, v in stored_items(page).items() if k.startswith("oidc_spa:other-app:")}
    assert "oidc_spa:other-app:current" in moved
    page.reload()
    open_app(page, site.url)
    assert {k: v for k, v in stored_items(page).items()
            if k.startswith("oidc_spa:other-app:")} == moved


def test_blocked_local_storage_still_signs_in_for_this_tab_and_says_so(page, site):
    page.add_init_script(block_storage_script("localStorage"))
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    assert "close this tab" in alert_text(page)
    assert page.text_content(".nickname") == "ali"
    assert page.evaluate(f"sessionStorage.getItem('{CURRENT_KEY}')") is not None


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
    assert not has_session(stored_items(page))
    page.reload()
    open_app(page, site.url, state="authenticated")
