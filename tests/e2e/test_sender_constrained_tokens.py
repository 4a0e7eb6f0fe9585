"""DPoP (RFC 9449) in real Chromium against the local provider, which offers it: the
tokens are bound to a key the page made and cannot export, so a token copied out of
localStorage is refused by the provider and by the API without that key."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import faults
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from helpers import (
    alert_text,
    has_session,
    log_in,
    open_app,
    session_record,
    stored_items,
    wait_for_state,
)
from jwt.algorithms import ECAlgorithm

from oidc_spa.dpop import access_token_hash, htu

pytestmark = pytest.mark.e2e

KEYS_DATABASE = "oidc_spa:e2e-spa:dpop"
# In the page: the login's key pair from IndexedDB, and whether its private half exports.
EXPORT_PRIVATE_KEY = """async (name) => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = no; });
  const pairs = await new Promise((ok, no) => {
    const r = db.transaction('keys').objectStore('keys').getAll();
    r.onsuccess = () => ok(r.result); r.onerror = no; });
  db.close();
  const pair = pairs[0];
  try { await crypto.subtle.exportKey('jwk', pair.privateKey); return ['exported', pairs.length]; }
  catch (error) { return [error.name, pairs.length, pair.privateKey.extractable,
                          pair.privateKey.algorithm.namedCurve]; }
}"""


def another_keys_proof(method: str, url: str, access_token: str | None = None) -> str:
    """A well-made proof, signed by a key that is not the login's (a thief's)."""
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    claims = {"jti": str(uuid.uuid4()), "htm": method, "htu": htu(url), "iat": int(time.time())}
    if access_token:
        claims["ath"] = access_token_hash(access_token)
    return jwt.encode(claims, private, algorithm="ES256",
                      headers={"typ": "dpop+jwt", "jwk": jwk})


def send(method: str, url: str, headers: dict[str, str], body: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_login_binds_the_tokens_to_a_key_the_page_cannot_export(page, site):
    token_requests = []
    page.on("request", lambda r: token_requests.append(r) if r.url.endswith("/token") else None)
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    assert session_record(page)["token_type"] == "DPoP"
    sent = [r for r in token_requests if r.method == "POST"]
    assert sent and all(r.headers.get("dpop", "").count(".") == 2 for r in sent)
    outcome = page.evaluate(EXPORT_PRIVATE_KEY, KEYS_DATABASE)
    assert outcome == ["InvalidAccessError", 1, False, "P-256"]


def test_a_stolen_access_token_is_refused_by_the_api_without_the_key(page, site):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    stolen = session_record(page)["access_token"]
    assert send("GET", site.api_url, {"Authorization": f"Bearer {stolen}"}) == 401
    assert send("GET", site.api_url, {"Authorization": f"DPoP {stolen}"}) == 401
    proof = another_keys_proof("GET", site.api_url, stolen)
    assert send("GET", site.api_url, {"Authorization": f"DPoP {stolen}", "DPoP": proof}) == 401
    # The page, which holds the key, is served.
    page.click(".btn-call-api")
    page.wait_for_selector(".api-result:text('HTTP 200')")


def test_a_stolen_refresh_token_is_refused_by_the_provider_without_the_key(
        page, site, provider):
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    record = session_record(page)
    assert record["token_type"] == "DPoP" and record["refresh_token"]
    token_endpoint = provider.issuer + "/token"
    form = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": "e2e-spa",
                                   "refresh_token": record["refresh_token"]}).encode()
    plain = {"Content-Type": "application/x-www-form-urlencoded"}
    assert send("POST", token_endpoint, plain, form) == 400
    thief = {**plain, "DPoP": another_keys_proof("POST", token_endpoint)}
    assert send("POST", token_endpoint, thief, form) == 400
    # The page, which holds the key, still renews with the same refresh token.
    generation = record["generation"]
    page.evaluate("""([key, record]) => {
        record.access_token_expires_at = Date.now() / 1000 + 2; record.issued_at -= 3600;
        localStorage.setItem(key, JSON.stringify(record)); }""",
                  [f"oidc_spa:e2e-spa:session:{record['session_id']}", record])
    deadline = time.monotonic() + 20
    while session_record(page)["generation"] == generation:
        assert time.monotonic() < deadline, "the page did not renew"
        page.wait_for_timeout(250)
    assert session_record(page)["token_type"] == "DPoP"
    wait_for_state(page, "authenticated")


def test_a_renewal_answered_with_bearer_tokens_ends_the_session(page, site, provider, proxy):
    ttl = 6  # seconds: the page renews a few seconds after the login
    provider.settings(id_token_ttl=ttl, access_token_ttl=ttl)
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    assert session_record(page)["token_type"] == "DPoP"
    provider.reset_log()
    proxy.install(faults.refresh_answer_token_type("Bearer"))
    wait_for_state(page, "anonymous", timeout=(ttl + 5) * 1000)
    # The page says the session ended (one sentence for every ending); the console why.
    assert "ended by the sign-in provider" in alert_text(page)
    assert any("session.renewal_invalid" in w and "token.dpop_downgraded" in w
               for w in warnings), warnings
    assert not has_session(stored_items(page))
    # One renewal, not retried with the spent refresh token; the page revoked the new one.
    [refresh] = provider.refresh_calls()
    assert refresh["outcome"] == "ok"
    issued = refresh["issued_refresh_token_sha256_prefix"]
    deadline = time.monotonic() + 5  # the revocation is sent without waiting
    while provider.refresh_token_state(issued) != "revoked":
        assert time.monotonic() < deadline, provider.log()
        page.wait_for_timeout(200)
    assert issued in [r["token_sha256_prefix"] for r in provider.revocations()]


def test_logout_deletes_the_key(page, site):
    open_app(page, site.url)
    log_in(page, "alice", "alice-demo")
    names = "async () => (await indexedDB.databases()).map(d => d.name)"
    assert KEYS_DATABASE in page.evaluate(names)
    page.click(".btn-logout")
    page.wait_for_url(site.url)
    wait_for_state(page, "anonymous")
    assert not has_session(stored_items(page))
    deadline = time.monotonic() + 5
    while KEYS_DATABASE in page.evaluate(names):
        assert time.monotonic() < deadline, "the key database is still there"
        page.wait_for_timeout(100)
