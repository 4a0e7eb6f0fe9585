import pytest

from oidc_spa.authorize import (
    CallbackResponse,
    LoginTransaction,
    check_callback,
    read_callback,
    safe_return_to,
    url_without_response,
)
from oidc_spa.config import ProviderMetadata
from oidc_spa.errors import CallbackError, ProviderError

PAGE = "https://me.github.io/repo/"
METADATA = ProviderMetadata(
    issuer="https://op.test", authorization_endpoint="https://op.test/a",
    token_endpoint="https://op.test/t", jwks_uri="https://op.test/k",
)
TX = LoginTransaction("s1", "n1", "v" * 43, PAGE, PAGE, created_at=1000.0)


def response(**values):
    base = {"state": "s1", "code": "c1", "iss": None, "error": None, "error_description": None}
    return CallbackResponse(**{**base, **values})


def test_plain_page_url_is_not_a_callback():
    assert read_callback(PAGE + "?tab=1#x") is None


def test_callback_parameters_are_read_from_the_query():
    assert read_callback(PAGE + "?code=c1&state=s1&iss=https%3A%2F%2Fop.test") == response(
        iss="https://op.test")


def test_repeated_parameter_is_refused():
    with pytest.raises(CallbackError):
        read_callback(PAGE + "?code=a&code=b&state=s1")


def test_matching_response_gives_the_code():
    assert check_callback(response(), TX, METADATA, now=1010) == "c1"


@pytest.mark.parametrize(("resp", "tx", "message"), [
    (response(state=None), TX, "state"),
    (response(), None, "does not belong"),
    (response(iss="https://evil.test"), TX, "different provider"),
    (response(code=None), TX, "no authorization code"),
])
def test_bad_responses_are_refused(resp, tx, message):
    with pytest.raises(CallbackError, match=message):
        check_callback(resp, tx, METADATA, now=1010)


def test_missing_iss_is_refused_when_the_provider_promises_it():
    strict = METADATA._replace(iss_parameter_supported=True)
    with pytest.raises(CallbackError, match="iss"):
        check_callback(response(), TX, strict, now=1010)


def test_provider_error_is_raised_after_state_and_issuer_checks():
    with pytest.raises(ProviderError, match="cancelled"):
        check_callback(response(code=None, error="access_denied"), TX, METADATA, now=1010)
    with pytest.raises(CallbackError):
        check_callback(response(error="access_denied", state="forged"), None, METADATA, now=1010)


def test_response_parameters_are_removed_and_others_kept():
    assert url_without_response(PAGE + "?code=a&state=b&iss=c&tab=2#frag") == PAGE + "?tab=2#frag"


@pytest.mark.parametrize(("candidate", "expected"), [
    (PAGE + "page?x=1#y", PAGE + "page?x=1#y"),
    ("https://evil.test/repo/", PAGE),
    ("javascript:alert(1)", PAGE),
    ("//evil.test/", PAGE),
    ("https://me.github.io.evil.test/", PAGE),
    ("https://me.github.io\\@evil.test/", PAGE),
])
def test_return_to_stays_on_the_page_origin(candidate, expected):
    assert safe_return_to(candidate, PAGE) == expected
