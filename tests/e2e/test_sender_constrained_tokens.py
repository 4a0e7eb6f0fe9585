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

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from helpers import has_session, log_in, open_app, session_record, stored_items, wait_for_state
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
