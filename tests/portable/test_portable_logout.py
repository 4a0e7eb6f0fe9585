"""logout: the provider's end-session URL (RP-Initiated Logout 1.0, or Auth0's
/v2/logout) and the refresh token's revocation form (RFC 7009)."""

import unittest

from oidc_spa.portable import provider
from oidc_spa.portable.logout import provider_logout_url, revocation_form
from oidc_spa.portable.urls import form_encode, query_value, split_url

REDIRECT = "https://app.example/app/"
END_SESSION = {"end_session_endpoint": "https://issuer.example/logout",
               "auth0_logout_endpoint": None}


class ProviderLogoutUrl(unittest.TestCase):
    def test_rp_initiated_logout_with_the_id_token(self):
        url = provider_logout_url(END_SESSION, "client 1", REDIRECT, "h.c.s")
        self.assertEqual(url, "https://issuer.example/logout?id_token_hint=h.c.s"
                              "&client_id=client+1&post_logout_redirect_uri="
                              "https%3A%2F%2Fapp.example%2Fapp%2F")

    def test_without_an_id_token_there_is_no_hint(self):
        for id_token in (None, ""):
            with self.subTest(id_token=repr(id_token)):
                url = provider_logout_url(END_SESSION, "c", REDIRECT, id_token)
                query = split_url(url)[3]
                self.assertEqual(query_value(query, "id_token_hint"), [])
                self.assertEqual(query_value(query, "post_logout_redirect_uri"), [REDIRECT])
                self.assertEqual(query_value(query, "client_id"), ["c"])

    def test_the_endpoints_own_query_and_fragment_are_kept(self):
        endpoints = {"end_session_endpoint": "https://issuer.example/logout?tenant=a#x"}
        url = provider_logout_url(endpoints, "c", REDIRECT, None)
        self.assertEqual(url, "https://issuer.example/logout?tenant=a&client_id=c"
                              "&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fapp%2F#x")

    def test_auth0(self):
        endpoints = provider.auth0_endpoints("tenant.auth0.com")
        url = provider_logout_url(endpoints, "c", REDIRECT, "h.c.s")
        self.assertEqual(url, "https://tenant.auth0.com/v2/logout?client_id=c"
                              "&returnTo=https%3A%2F%2Fapp.example%2Fapp%2F")

    def test_auth0_wins_over_an_end_session_endpoint(self):
        endpoints = {"auth0_logout_endpoint": "https://t.example/v2/logout",
                     "end_session_endpoint": "https://t.example/oidc/logout"}
        url = provider_logout_url(endpoints, "c", REDIRECT, None)
        self.assertEqual(split_url(url)[2], "/v2/logout")

    def test_no_endpoint_no_url(self):
        for endpoints in ({}, {"end_session_endpoint": None}, {"end_session_endpoint": ""},
                          {"end_session_endpoint": None, "auth0_logout_endpoint": None}):
            with self.subTest(endpoints=repr(endpoints)):
                self.assertIsNone(provider_logout_url(endpoints, "c", REDIRECT, "h.c.s"))

    def test_a_discovered_provider(self):
        endpoints = provider.read_discovery(
            '{"issuer": "https://i.example", "authorization_endpoint": "https://i.example/a",'
            ' "token_endpoint": "https://i.example/t", "jwks_uri": "https://i.example/k",'
            ' "end_session_endpoint": "https://i.example/end"}', "https://i.example")
        url = provider_logout_url(endpoints, "c", REDIRECT, None)
        self.assertEqual(split_url(url)[:3], ("https", "i.example", "/end"))


class Revocation(unittest.TestCase):
    def test_the_form_for_a_public_client(self):
        form = revocation_form("client 1", "refresh/token+1")
        self.assertEqual(form, [("token", "refresh/token+1"),
                                ("token_type_hint", "refresh_token"),
                                ("client_id", "client 1")])
        self.assertEqual(form_encode(form), "token=refresh%2Ftoken%2B1"
                                            "&token_type_hint=refresh_token&client_id=client+1")
