"""A provider that misbehaves: the certified provider's answers broken on their way to the
page by the fault proxy (tests/e2e/faults.py).

Each case: the page refuses what came back, says so in the alert area, shows the
logged-out page with a clean address bar, and keeps no session. Case names follow the
OpenID Foundation RP conformance tests where one exists.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import faults
import jwt
import pytest
from faults import TEST_KID
from helpers import (
    REQUEST_TIMEOUT,
    alert_text,
    has_session,
    log_in,
    open_app,
    session_record,
    sign_in_at_provider,
    stored_items,
    wait_for_state,
)

pytestmark = pytest.mark.e2e

DISCOVERY = "/.well-known/openid-configuration"

REFUSED_AT_CALLBACK = {
    "rp-id_token-aud": (
        lambda: faults.id_token_claims(lambda c: c.update(aud="someone-else")),
        "issued to a different app"),
    "rp-id_token-issuer-mismatch": (
        lambda: faults.id_token_claims(lambda c: c.update(iss=c["iss"] + faults.EVIL_SUFFIX)),
        "different provider"),
    "rp-id_token-bad-sig-rs256": (faults.id_token_bad_signature, "signature is not valid"),
    "rp-id_token-sig-none": (faults.id_token_alg_none, "does not accept"),
    "hs256-signed-with-the-public-key": (faults.id_token_hs256_public_key, "does not accept"),
    "id_token-expired": (lambda: faults.id_token_claims(faults.expire), "expired"),
    "rp-id_token-iat": (lambda: faults.id_token_claims(faults.issue_in_the_future), "future"),
    "rp-nonce-invalid": (
        lambda: faults.id_token_claims(lambda c: c.update(nonce="not-the-one-sent")), "nonce"),
    "rp-id_token-sub": (lambda: faults.id_token_claims(lambda c: c.pop("sub")), "no sub"),
    "aud-list-without-azp": (
        lambda: faults.id_token_claims(faults.aud_list_without_azp), "authorized party"),
    "id_token-kid-unknown": (faults.id_token_unknown_kid, "does not publish"),
    "rfc9207-iss-mismatch": (faults.callback_wrong_iss, "different provider"),
    "rfc9207-iss-missing": (faults.callback_no_iss, "missing the provider's name"),
    "state-unknown": (faults.callback_wrong_state, "does not belong"),
    "rp-userinfo-bad-sub-claim": (faults.userinfo_wrong_sub, "someone else"),
    "userinfo-401": (faults.userinfo_401, "did not accept"),
    "token-endpoint-500": (lambda: faults.server_error("/token"), "failed to complete"),
    "token-endpoint-bad-json": (faults.token_bad_json, "unreadable"),
    "token-endpoint-invalid_grant": (faults.token_invalid_grant, "invalid_grant"),
    "jwks-unavailable": (lambda: faults.server_error("/jwks"), "signing keys could not be loaded"),
}


@pytest.mark.parametrize("case", REFUSED_AT_CALLBACK, ids=list(REFUSED_AT_CALLBACK))
def test_bad_provider_answer_is_refused_with_a_message(page, site, proxy, case):
    fault, message = REFUSED_AT_CALLBACK[case]
    open_app(page, site.url)
    proxy.install(fault())
    page.click(".btn-login")
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "anonymous")
    assert message in alert_text(page)
    assert not has_session(stored_items(page))
    assert urlsplit(page.url).query == ""
    assert "Traceback" not in page.content()


def test_a_tampered_claim_is_caught_by_the_claim_checks_not_the_signature(page, site, proxy):
    """The counterpart of the claim cases above: the test key's signature is accepted, so
    there it is the claim check that refuses."""
    open_app(page, site.url)
    proxy.install(faults.id_token_claims(lambda claims: None))  # re-signed, nothing changed
    log_in(page, "alice", "alice-demo")
    assert jwt.get_unverified_header(session_record(page)["id_token"])["kid"] == TEST_KID
    assert alert_text(page) == ""


def test_slow_token_endpoint_times_out_with_a_message(page, site, proxy):
    open_app(page, site.url)
    proxy.install(faults.slow("/token", REQUEST_TIMEOUT + 2))
    page.click(".btn-login")
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "anonymous")
    assert "took too long" in alert_text(page)
    assert not has_session(stored_items(page))


@pytest.mark.parametrize(("fault", "message"), [
    (lambda: faults.server_error(DISCOVERY), "could not be loaded"),
    (faults.discovery_wrong_issuer, "another issuer"),
    (lambda: faults.slow(DISCOVERY, REQUEST_TIMEOUT + 2), "took too long"),
], ids=["discovery_500", "discovery_wrong_issuer", "discovery_slow"])
def test_unusable_provider_settings_stop_the_login_and_login_retries(page, site, proxy, fault,
                                                                     message):
    open_app(page, site.url)
    with proxy.injected(fault()):
        page.click(".btn-login")
        page.wait_for_selector("#auth-error:not([hidden])")
        assert message in alert_text(page)
        assert page.url == site.url
        assert not any(key.endswith(":pending_logins") for key in stored_items(page))
    page.click(".btn-login")  # the same button is the retry
    page.wait_for_selector("#username")


@pytest.mark.parametrize("fault", [lambda: faults.server_error("/userinfo"),
                                   lambda: faults.slow("/userinfo", REQUEST_TIMEOUT + 2)],
                         ids=["userinfo_500", "userinfo_slow"])
def test_userinfo_outage_keeps_the_login_with_a_warning(page, site, proxy, fault):
    open_app(page, site.url)
    proxy.install(fault())
    page.click(".btn-login")
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    assert "could not be loaded right now" in alert_text(page)
    # The profile is the validated ID token's: this provider puts only sub there (profile
    # claims come from userinfo), so the nickname falls back on it.
    id_token = jwt.decode(session_record(page)["id_token"], options={"verify_signature": False})
    assert json.loads(page.text_content(".full-profile")) == {"sub": id_token["sub"]}
    assert page.text_content(".nickname") == "alice"


def test_rp_key_rotation_op_sign_key(page, site, provider, proxy):
    """The keys change between two ID tokens of one page: the renewed one is signed by a key
    the JWKS the page already read does not have, so the page reads the JWKS again."""
    provider.settings(id_token_ttl=6, access_token_ttl=6)  # renewal within a few seconds
    open_app(page, site.renewing_url)
    log_in(page, "alice", "alice-demo")
    first = session_record(page)
    assert jwt.get_unverified_header(first["id_token"])["kid"] != TEST_KID
    provider.reset_log()
    proxy.install(faults.key_rotation())
    deadline = first["expires_at"]
    while session_record(page)["id_token"] == first["id_token"]:
        assert page.evaluate("Date.now() / 1000") < deadline, "no renewal"
        page.wait_for_timeout(200)
    assert page.evaluate("document.body.dataset.session") == "authenticated"
    assert jwt.get_unverified_header(session_record(page)["id_token"])["kid"] == TEST_KID
    renewal = proxy.passed("/token")[0]
    # The keys were read again after the rotated token came (the page had them cached).
    assert [p for p in proxy.passed("/jwks") if p.at >= renewal.at]
    assert alert_text(page) == ""
