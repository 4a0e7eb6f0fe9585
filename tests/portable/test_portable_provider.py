"""provider: Auth0's fixed endpoints, and the checks on a discovery document
(OpenID Connect Discovery 1.0, section 4.3)."""

import json
import unittest

from oidc_spa.portable import provider
from oidc_spa.portable.problem import Problem

ISSUER = "https://issuer.example/realms/app"
DOCUMENT = {
    "issuer": ISSUER,
    "authorization_endpoint": ISSUER + "/auth",
    "token_endpoint": ISSUER + "/token",
    "jwks_uri": ISSUER + "/certs",
    "userinfo_endpoint": ISSUER + "/userinfo",
    "end_session_endpoint": ISSUER + "/logout",
    "revocation_endpoint": ISSUER + "/revoke",
    "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    "authorization_response_iss_parameter_supported": True,
    "response_types_supported": ["code"],
}


def document(**changes):
    doc = dict(DOCUMENT)
    for key, value in changes.items():
        if value is DROP:
            doc.pop(key)
        else:
            doc[key] = value
    return json.dumps(doc)


DROP = object()


class Discovery(unittest.TestCase):
    def problem(self, text, issuer=ISSUER):
        with self.assertRaises(Problem) as caught:
            provider.read_discovery(text, issuer)
        return caught.exception

    def test_discovery_url(self):
        self.assertEqual(provider.discovery_url("https://i.example"),
                         "https://i.example/.well-known/openid-configuration")
        self.assertEqual(provider.discovery_url("https://i.example/"),
                         "https://i.example/.well-known/openid-configuration")
        self.assertEqual(provider.discovery_url("https://i.example/realms/a//"),
                         "https://i.example/realms/a/.well-known/openid-configuration")

    def test_a_full_document(self):
        found = provider.read_discovery(document(), ISSUER)
        self.assertEqual(found, {
            "issuer": ISSUER,
            "authorization_endpoint": ISSUER + "/auth",
            "token_endpoint": ISSUER + "/token",
            "jwks_uri": ISSUER + "/certs",
            "userinfo_endpoint": ISSUER + "/userinfo",
            "end_session_endpoint": ISSUER + "/logout",
            "revocation_endpoint": ISSUER + "/revoke",
            "auth0_logout_endpoint": None,
            "iss_parameter_supported": True,
            "signing_algorithms": ("RS256", "ES256"),
            "dpop_algorithms": (),
        })

    def test_the_smallest_document(self):
        found = provider.read_discovery(document(
            userinfo_endpoint=DROP, end_session_endpoint=DROP, revocation_endpoint=DROP,
            id_token_signing_alg_values_supported=DROP,
            authorization_response_iss_parameter_supported=DROP), ISSUER)
        self.assertIsNone(found["userinfo_endpoint"])
        self.assertIsNone(found["end_session_endpoint"])
        self.assertIsNone(found["revocation_endpoint"])
        self.assertIs(found["iss_parameter_supported"], False)
        self.assertEqual(found["signing_algorithms"], ("RS256",))

    def test_optional_endpoints_may_be_null(self):
        found = provider.read_discovery(document(userinfo_endpoint=None,
                                                 end_session_endpoint=None), ISSUER)
        self.assertIsNone(found["userinfo_endpoint"])
        self.assertIsNone(found["end_session_endpoint"])

    def test_loopback_http_endpoints_are_allowed(self):
        issuer = "http://localhost:9000"
        found = provider.read_discovery(json.dumps({
            "issuer": issuer, "authorization_endpoint": issuer + "/auth",
            "token_endpoint": issuer + "/token", "jwks_uri": "http://127.0.0.1:9000/jwks"}),
            issuer)
        self.assertEqual(found["jwks_uri"], "http://127.0.0.1:9000/jwks")

    def test_not_json(self):
        for text in ("", "[]", "null", '"x"', "{", '{"issuer":"x",}', "[1 2]", None, b"{}",
                     "[" * 50 + "]" * 50):
            with self.subTest(text=repr(text)):
                self.assertEqual(self.problem(text).code, "discovery.not_json")

    def test_the_issuer_must_be_exactly_the_expected_one(self):
        for issuer in (ISSUER + "/", "https://ISSUER.example/realms/app", "https://evil.example",
                       None, 1, [ISSUER], DROP):
            with self.subTest(issuer=repr(issuer)):
                problem = self.problem(document(issuer=issuer))
                self.assertEqual(problem.code, "discovery.issuer")
                self.assertIn("expected", problem.detail)

    def test_required_endpoints(self):
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            for value in (DROP, None, "", "http://issuer.example/x", "/relative", 1, ["https://x"],
                          "https://user@issuer.example/x", "https://issuer.example\\x"):
                with self.subTest(name=name, value=repr(value)):
                    problem = self.problem(document(**{name: value}))
                    self.assertEqual(problem.code, "discovery.endpoint")
                    self.assertEqual(problem.detail.split("=")[0], name)

    def test_optional_endpoints_must_be_secure_when_given(self):
        for name in ("userinfo_endpoint", "end_session_endpoint", "revocation_endpoint"):
            for value in ("http://issuer.example/x", "", 0, False, {"url": "https://x"}):
                with self.subTest(name=name, value=repr(value)):
                    self.assertEqual(self.problem(document(**{name: value})).code,
                                     "discovery.endpoint")

    def test_signing_algorithms_that_are_not_a_list_of_text_mean_rs256(self):
        for value in ("RS256", None, [1], ["RS256", None], {"alg": "ES256"}):
            with self.subTest(value=repr(value)):
                found = provider.read_discovery(
                    document(id_token_signing_alg_values_supported=value), ISSUER)
                self.assertEqual(found["signing_algorithms"], ("RS256",))

    def test_an_empty_algorithm_list_is_kept_empty(self):
        found = provider.read_discovery(document(id_token_signing_alg_values_supported=[]),
                                        ISSUER)
        self.assertEqual(found["signing_algorithms"], ())

    def test_the_iss_parameter_is_supported_only_when_exactly_true(self):
        for value in (1, "true", [True], None, False):
            with self.subTest(value=repr(value)):
                found = provider.read_discovery(
                    document(authorization_response_iss_parameter_supported=value), ISSUER)
                self.assertIs(found["iss_parameter_supported"], False)

    def test_unknown_members_are_ignored(self):
        found = provider.read_discovery(document(x_custom={"deep": [1, 2]}, grant_types=1),
                                        ISSUER)
        self.assertEqual(found["token_endpoint"], ISSUER + "/token")


class Auth0Endpoints(unittest.TestCase):
    def test_fixed_paths(self):
        found = provider.auth0_endpoints("tenant.auth0.com")
        self.assertEqual(found, {
            "issuer": "https://tenant.auth0.com/",
            "authorization_endpoint": "https://tenant.auth0.com/authorize",
            "token_endpoint": "https://tenant.auth0.com/oauth/token",
            "userinfo_endpoint": "https://tenant.auth0.com/userinfo",
            "jwks_uri": "https://tenant.auth0.com/.well-known/jwks.json",
            "end_session_endpoint": None,
            "auth0_logout_endpoint": "https://tenant.auth0.com/v2/logout",
            "revocation_endpoint": "https://tenant.auth0.com/oauth/revoke",
            "iss_parameter_supported": False,
            "signing_algorithms": ("RS256",),
            "dpop_algorithms": (),
        })

    def test_same_fields_as_discovery(self):
        found = provider.read_discovery(document(), ISSUER)
        self.assertEqual(sorted(provider.auth0_endpoints("t.example")), sorted(found))
