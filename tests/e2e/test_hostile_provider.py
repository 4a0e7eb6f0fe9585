"""A provider that misbehaves, told to by the tests through its /_test/misbehave control.

Each case: the page refuses what came back, says so in the alert area, shows the
logged-out page with a clean address bar, and keeps no session. Case names follow the
OpenID Foundation RP conformance tests where one exists.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import REQUEST_TIMEOUT
from helpers import (
    alert_text,
    has_session,
    open_app,
    sign_in_at_provider,
    stored_items,
    wait_for_state,
)

pytestmark = pytest.mark.e2e


REFUSED_AT_CALLBACK = {
    "rp-id_token-aud": ("id_token_wrong_aud", "issued to a different app"),
    "rp-id_token-issuer-mismatch": ("id_token_wrong_iss", "different provider"),
    "rp-id_token-bad-sig-rs256": ("id_token_bad_signature", "signature is not valid"),
    "rp-id_token-sig-none": ("id_token_alg_none", "does not accept"),
    "hs256-signed-with-the-public-key": ("id_token_hs256_public_key", "does not accept"),
    "id_token-expired": ("id_token_expired", "expired"),
    "rp-id_token-iat": ("id_token_iat_future", "future"),
    "rp-nonce-invalid": ("id_token_wrong_nonce", "nonce"),
    "rp-id_token-sub": ("id_token_no_sub", "no sub"),
    "aud-list-without-azp": ("id_token_aud_list_no_azp", "authorized party"),
    "id_token-kid-unknown": ("id_token_unknown_kid", "does not publish"),
    "rfc9207-iss-mismatch": ("callback_wrong_iss", "different provider"),
    "rfc9207-iss-missing": ("callback_no_iss", "missing the provider's name"),
    "state-unknown": ("callback_wrong_state", "does not belong"),
    "rp-userinfo-bad-sub-claim": ("userinfo_wrong_sub", "someone else"),
    "userinfo-401": ("userinfo_401", "did not accept"),
    "token-endpoint-500": ("token_500", "failed to complete"),
    "token-endpoint-bad-json": ("token_bad_json", "unreadable"),
    "token-endpoint-invalid_grant": ("token_400_invalid_grant", "invalid_grant"),
    "jwks-unavailable": ("jwks_500", "signing keys could not be loaded"),
}


@pytest.fixture
def hostile(provider):
    yield provider
    provider.reset()


@pytest.mark.parametrize("case", REFUSED_AT_CALLBACK, ids=list(REFUSED_AT_CALLBACK))
def test_bad_provider_answer_is_refused_with_a_message(page, site, hostile, case):
    mode, message = REFUSED_AT_CALLBACK[case]
    open_app(page, site.url)
    hostile.misbehave(mode)
    page.click(".btn-login")
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "anonymous")
    assert message in alert_text(page)
    assert not has_session(stored_items(page))
    assert urlsplit(page.url).query == ""
    assert "Traceback" not in page.content()


def test_slow_token_endpoint_times_out_with_a_message(page, site, hostile):
    open_app(page, site.url)
    hostile.misbehave("token_slow", seconds=REQUEST_TIMEOUT + 2)
    page.click(".btn-login")
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "anonymous")
    assert "took too long" in alert_text(page)
    assert not has_session(stored_items(page))


@pytest.mark.parametrize(("mode", "message"), [
    ("discovery_500", "could not be loaded"),
    ("discovery_wrong_issuer", "another issuer"),
])
def test_unusable_provider_settings_stop_the_login_and_login_retries(page, site, hostile, mode,
                                                                     message):
    open_app(page, site.url)
    hostile.misbehave(mode)
    page.click(".btn-login")
    page.wait_for_selector("#auth-error:not([hidden])")
    assert message in alert_text(page)
    assert page.url == site.url
    assert not any(key.endswith(":pending_logins") for key in stored_items(page))
    hostile.reset()
    page.click(".btn-login")  # the same button is the retry
    page.wait_for_selector("#username")


@pytest.mark.parametrize(("mode", "seconds"), [("userinfo_500", 0),
                                               ("userinfo_slow", REQUEST_TIMEOUT + 2)])
def test_userinfo_outage_keeps_the_login_with_a_warning(page, site, hostile, mode, seconds):
    open_app(page, site.url)
    hostile.misbehave(mode, **({"seconds": seconds} if seconds else {}))
    page.click(".btn-login")
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    assert "could not be loaded right now" in alert_text(page)
    assert page.text_content(".nickname") == "ali"  # from the validated ID token


def test_rp_key_rotation_op_sign_key(page, site, hostile):
    open_app(page, site.url)
    hostile.misbehave("id_token_signed_by_rotated_key")
    page.click(".btn-login")
    sign_in_at_provider(page, "alice", "alice-demo")
    wait_for_state(page, "authenticated")
    assert alert_text(page) == ""
