"""settings: auth_config.json read by the rules both lanes share; each thing wrong is a
Problem with its message code and fields."""

import json
import unittest

from oidc_spa.portable import settings
from oidc_spa.portable.problem import Problem
from oidc_spa.portable.settings import read_settings

PAGE = "https://app.example/app/index.html?code=1#top"
BASE = {"clientId": "client-1", "issuer": "https://issuer.example/"}


def config(**changes):
    raw = dict(BASE)
    for key, value in changes.items():
        if value is DROP:
            raw.pop(key, None)
        else:
            raw[key] = value
    return json.dumps(raw)


DROP = object()


class SettingsTestCase(unittest.TestCase):
    def problem(self, text, page=PAGE):
        with self.assertRaises(Problem) as caught:
            read_settings(text, page)
        return caught.exception

    def assertProblem(self, text, code, page=PAGE, **params):
        problem = self.problem(text, page)
        self.assertEqual(problem.code, code)
        for key, value in params.items():
            self.assertEqual(problem.params.get(key), value)
        return problem


class Defaults(SettingsTestCase):
    def test_the_smallest_config(self):
        read = read_settings(config(), PAGE)
        self.assertEqual(read, {
            "client_id": "client-1",
            "issuer": "https://issuer.example/",
            "auth0_domain": None,
            "redirect_uri": "https://app.example/app/",
            "scope": "openid profile email",
            "audience": None,
            "leeway": 60,
            "timeout": 15.0,
            "renew": True,
            "renew_margin": 60.0,
            "api_url": None,
            "api_origins": (),
            "full_lane": "idle",
            "dpop": "auto",
            "authorization_params": (),
            "csp_origins": (),
        })

    def test_types_of_the_defaults(self):
        read = read_settings(config(), PAGE)
        self.assertIsInstance(read["leeway"], int)
        self.assertIsInstance(read["timeout"], float)
        self.assertIsInstance(read["renew_margin"], float)
        self.assertIs(read["renew"], True)

    def test_every_setting_given(self):
        read = read_settings(config(
            redirectUri="https://app.example/callback", scope="openid  email openid offline_access",
            audience="https://api.example/", leeway=0, timeout=120, renew=False, renewMargin=3600,
            apiUrl="https://api.example/v1/things", fullLane="on-demand",
            apiOrigins=["https://other.example", "https://api.example/", "http://localhost:9000"],
        ), PAGE)
        self.assertEqual(read["redirect_uri"], "https://app.example/callback")
        self.assertEqual(read["scope"], "openid email offline_access")
        self.assertEqual(read["audience"], "https://api.example/")
        self.assertEqual((read["leeway"], read["timeout"], read["renew_margin"]),
                         (0, 120.0, 3600.0))
        self.assertIs(read["renew"], False)
        self.assertEqual(read["api_url"], "https://api.example/v1/things")
        self.assertEqual(read["api_origins"], ("https://api.example", "https://other.example",
                                               "http://localhost:9000"))
        self.assertEqual(read["full_lane"], "on-demand")

    def test_numbers_at_the_bounds(self):
        for key, value, field in (("leeway", 600, "leeway"), ("leeway", 1.9, "leeway"),
                                  ("timeout", 1, "timeout"), ("timeout", 2.5, "timeout"),
                                  ("renewMargin", 1, "renew_margin")):
            with self.subTest(key=key, value=value):
                expected = int(value) if key == "leeway" else float(value)
                self.assertEqual(read_settings(config(**{key: value}), PAGE)[field], expected)

    def test_a_loopback_page_and_issuer(self):
        read = read_settings(config(issuer="http://localhost:9000/realms/dev"),
                             "http://localhost:8000/")
        self.assertEqual(read["issuer"], "http://localhost:9000/realms/dev")
        self.assertEqual(read["redirect_uri"], "http://localhost:8000/")

    def test_every_full_lane_policy(self):
        for policy in settings.FULL_LANE_POLICIES:
            with self.subTest(policy=policy):
                self.assertEqual(read_settings(config(fullLane=policy), PAGE)["full_lane"], policy)


class Auth0(SettingsTestCase):
    def test_the_domain_form(self):
        read = read_settings(json.dumps({"domain": "Tenant.EU.auth0.com", "clientId": "c"}), PAGE)
        self.assertEqual(read["issuer"], "https://tenant.eu.auth0.com/")
        self.assertEqual(read["auth0_domain"], "tenant.eu.auth0.com")

    def test_a_domain_with_a_port(self):
        read = read_settings(json.dumps({"domain": "login.example:8443", "clientId": "c"}), PAGE)
        self.assertEqual(read["issuer"], "https://login.example:8443/")

    def test_bad_domains(self):
        for domain in ("https://tenant.auth0.com", "tenant.auth0.com/", "-tenant.auth0.com",
                       "tenant-.auth0.com", "ten_ant.auth0.com", "tenant..auth0.com",
                       "tenant.auth0.com:", "tenant.auth0.com:123456", "tenant.auth0.com:8a",
                       "user@tenant.auth0.com", "a" * 64 + ".com", ("a" * 63 + ".") * 4 + "com",
                       "t\u00e9nant.com", "[::1]", ".", "\u212a.example", "T\u212aNANT.example"):
            with self.subTest(domain=domain):
                self.assertProblem(json.dumps({"domain": domain, "clientId": "c"}),
                                   "config.domain")

    def test_is_host_name(self):
        self.assertTrue(settings.is_host_name("a.b-c.d"))
        self.assertTrue(settings.is_host_name("a" * 63))
        self.assertTrue(settings.is_host_name("localhost:1"))
        self.assertFalse(settings.is_host_name(""))
        self.assertFalse(settings.is_host_name("a" * 64))
        self.assertFalse(settings.is_host_name("A.example"))  # read_settings lowercases first


class Problems(SettingsTestCase):
    def test_missing_and_not_json(self):
        self.assertProblem(None, "config.missing")
        for text in ("", "{", "{'clientId': 'c'}", '{"clientId":"c",}', "[1 2]", "01",
                     '{"clientId":"c" "issuer":"https://i"}', "[" * 100 + "]" * 100,
                     "null"):  # null reads as nothing at all
            with self.subTest(text=text):
                self.assertProblem(text, "config.not_json")

    def test_not_an_object(self):
        for text in ("[]", "1", '"x"', "true", '[{"clientId":"c"}]'):
            with self.subTest(text=text):
                self.assertProblem(text, "config.not_object")

    def test_unknown_settings_are_named_sorted(self):
        problem = self.assertProblem(config(zeta=1, alpha=2, client_id="x"),
                                     "config.unknown_settings")
        self.assertEqual(problem.params["unknown"], "alpha, client_id, zeta")
        self.assertEqual(problem.params["known"], ", ".join(settings.KNOWN_KEYS))

    def test_client_id(self):
        for value in (DROP, "", "   ", None, 1, True, ["c"], {"id": "c"}, "\u00a0", "\u3000"):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(clientId=value), "config.not_text", key="clientId")
        for value in (" c", "c ", "c\n", "\tc", "c\x00d", "c\x1fd", "c\u00a0", "\u2003c",
                      "c\u3000", "c\x85"):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(clientId=value), "config.untrimmed", key="clientId")
        self.assertEqual(read_settings(config(clientId="a b\u00a0c"), PAGE)["client_id"],
                         "a b\u00a0c")

    def test_a_lone_control_character(self):
        # Whitespace in CPython's eyes, so "no text", in both lanes.
        for value in ("\x1c", "\x1f", "\x0b", "\x85"):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(clientId=value), "config.not_text", key="clientId")

    def test_provider_choice(self):
        self.assertProblem(config(issuer=DROP), "config.provider_choice")
        self.assertProblem(config(domain="tenant.auth0.com"), "config.provider_choice")

    def test_issuer(self):
        for issuer in ("http://issuer.example/", "https://issuer.example/?x=1",
                       "https://issuer.example/#f", "https://user@issuer.example/",
                       "issuer.example", "https://", "https://issuer.example\\realm",
                       "ftp://issuer.example"):
            with self.subTest(issuer=issuer):
                self.assertProblem(config(issuer=issuer), "config.issuer")
        self.assertProblem(config(issuer=""), "config.not_text", key="issuer")
        self.assertProblem(config(issuer=" https://issuer.example/"), "config.untrimmed",
                           key="issuer")

    def test_redirect_uri(self):
        for uri in ("http://app.example/cb", "https://app.example/cb#f", "/cb",
                    "https://user@app.example/cb"):
            with self.subTest(uri=uri):
                self.assertProblem(config(redirectUri=uri), "config.redirect_uri")
        for uri in ("https://other.example/cb", "https://app.example:8443/cb",
                    "https://app.example.evil.com/"):
            with self.subTest(uri=uri):
                self.assertProblem(config(redirectUri=uri), "config.redirect_uri_site",
                                   origin="https://app.example")
        self.assertProblem(config(redirectUri=5), "config.not_text", key="redirectUri")
        # The Kelvin sign is "k" to CPython's lower() alone: not the page's site in either lane.
        self.assertProblem(config(redirectUri="https://\u212aapp.example/cb"),
                           "config.redirect_uri_site", page="https://kapp.example/",
                           origin="https://kapp.example")

    def test_scope(self):
        for scope in ("profile email", "openidprofile", "OPENID", "open\u00a0id"):
            with self.subTest(scope=scope):
                self.assertProblem(config(scope=scope), "config.scope_openid")
        self.assertProblem(config(scope=""), "config.not_text", key="scope")
        self.assertProblem(config(scope=["openid"]), "config.not_text", key="scope")

    def test_scope_words_are_split_on_any_whitespace(self):
        # CPython's str.split() splits on a no-break space; MicroPython's alone would not.
        for scope in ("openid\u00a0profile", "openid\u3000profile", "openid\u2003profile",
                      "openid  profile"):
            with self.subTest(scope=repr(scope)):
                self.assertEqual(read_settings(config(scope=scope), PAGE)["scope"],
                                 "openid profile")

    def test_audience(self):
        self.assertProblem(config(audience=""), "config.not_text", key="audience")
        self.assertProblem(config(audience=None), "config.not_text", key="audience")
        self.assertProblem(config(audience="api "), "config.untrimmed", key="audience")

    def test_numbers_out_of_range(self):
        for key, low, high, bad in (
            ("leeway", 0, 600, (-1, 601, -0.5, 1e999, True, "60", None, [60])),
            ("timeout", 1, 120, (0, 0.5, 121, False, "15")),
            ("renewMargin", 1, 3600, (0, 3601, 1e300)),
        ):
            for value in bad:
                with self.subTest(key=key, value=repr(value)):
                    text = config(**{key: value}) if value != 1e999 else config().replace(
                        "}", ', "' + key + '": 1e999}')
                    problem = self.assertProblem(text, "config.out_of_range", key=key)
                    self.assertEqual((problem.params["low"], problem.params["high"]), (low, high))

    def test_huge_integers_are_out_of_range(self):
        text = config().replace("}", ', "leeway": 1' + "0" * 400 + "}")
        self.assertProblem(text, "config.out_of_range", key="leeway")

    def test_renew_must_be_a_boolean(self):
        for value in (1, 0, "true", None, [True]):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(renew=value), "config.not_boolean", key="renew")

    def test_api_url(self):
        for url in ("http://api.example/", "ftp://api.example", "https://u@api.example/"):
            with self.subTest(url=url):
                self.assertProblem(config(apiUrl=url), "config.api_url")
        self.assertProblem(config(apiUrl=""), "config.not_text", key="apiUrl")
        self.assertEqual(read_settings(config(apiUrl="http://127.0.0.1:9000/api"), PAGE)
                         ["api_origins"], ("http://127.0.0.1:9000",))

    def test_api_origins_must_be_a_list_of_text(self):
        for value in ("https://api.example", {"a": "https://api.example"}, [1], [None],
                      ["https://api.example", 2], None):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(apiOrigins=value), "config.api_origins")

    def test_each_api_origin_must_be_a_bare_origin(self):
        for entry in ("https://api.example/v1", "https://api.example?x", "https://api.example#f",
                      "http://api.example", "https://API.example", "https://user@api.example",
                      "api.example", "https://api.example:99999x", "https://api.example:123456",
                      "https://[::1]x", "https://[zz::1]", "https://api_x.example",
                      "https://api.example:", "wss://api.example", "https://"):
            with self.subTest(entry=entry):
                self.assertProblem(config(apiOrigins=[entry]), "config.api_origin", entry=entry)

    def test_bare_origins_that_pass(self):
        origins = ["https://api.example", "https://api.example/", "https://api.example:8443",
                   "https://[2001:db8::1]:8443", "http://[::1]:9000", "http://localhost:3000"]
        read = read_settings(config(apiOrigins=origins), PAGE)
        self.assertEqual(read["api_origins"], (
            "https://api.example", "https://api.example:8443", "https://[2001:db8::1]:8443",
            "http://[::1]:9000", "http://localhost:3000"))

    def test_full_lane(self):
        for value in ("later", "", None, 1, ["idle"], "IDLE"):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(fullLane=value), "config.full_lane")

    def test_the_first_thing_wrong_is_named(self):
        # clientId before the provider, the provider before redirectUri, and so on down.
        text = config(clientId="", issuer="http://x", redirectUri="http://x", leeway=-1)
        self.assertProblem(text, "config.not_text", key="clientId")
        text = config(issuer="http://x", redirectUri="http://x", leeway=-1)
        self.assertProblem(text, "config.issuer")
        text = config(redirectUri="http://x", scope="email", leeway=-1)
        self.assertProblem(text, "config.redirect_uri")
        text = config(scope="email", leeway=-1, renew=1)
        self.assertProblem(text, "config.scope_openid")
        text = config(leeway=-1, timeout=0, renew=1)
        self.assertProblem(text, "config.out_of_range", key="leeway")
        text = config(renew=1, apiUrl="http://x", fullLane="x")
        self.assertProblem(text, "config.not_boolean", key="renew")
        text = config(apiUrl="http://x", apiOrigins=[1], fullLane="x")
        self.assertProblem(text, "config.api_url")
        text = config(apiOrigins=[1], fullLane="x")
        self.assertProblem(text, "config.api_origins")

    def test_problem_carries_code_detail_and_fields(self):
        problem = Problem("config.x", "more", key="k")
        self.assertEqual((problem.code, problem.detail, problem.params), ("config.x", "more",
                                                                          {"key": "k"}))
        self.assertEqual(problem.args, ("config.x",))
        self.assertIsInstance(problem, Exception)


class AuthorizationParams(SettingsTestCase):
    """authorizationParams: more authorization request parameters, never those the library
    sends itself; (name, value) pairs sorted by name, values as the URL carries them."""

    def params(self, given):
        return read_settings(config(authorizationParams=given), PAGE)["authorization_params"]

    def test_none_given(self):
        self.assertEqual(self.params({}), ())

    def test_the_usual_knobs_and_a_providers_own(self):
        self.assertEqual(self.params({
            "prompt": "login", "max_age": 300, "login_hint": "alice@example.com",
            "ui_locales": "de-CH fr", "acr_values": "urn:mace:incommon:iap:silver",
            "organization": "org_123", "connection": "google-oauth2", "screen_hint": "signup",
            "kc_idp_hint": "github", "ext-flag": "1", "x.y": "z",
        }), (
            ("acr_values", "urn:mace:incommon:iap:silver"), ("connection", "google-oauth2"),
            ("ext-flag", "1"), ("kc_idp_hint", "github"), ("login_hint", "alice@example.com"),
            ("max_age", "300"), ("organization", "org_123"), ("prompt", "login"),
            ("screen_hint", "signup"), ("ui_locales", "de-CH fr"), ("x.y", "z")))

    def test_max_age_is_a_whole_number_of_seconds_sent_as_text(self):
        for value, sent in ((0, "0"), (1, "1"), (86400, "86400"),
                            (settings.MAX_AGE_LIMIT, "2147483647")):
            with self.subTest(value=value):
                self.assertEqual(self.params({"max_age": value}), (("max_age", sent),))
        self.assertEqual(settings.max_age_of((("max_age", "300"), ("prompt", "login"))), 300)
        self.assertIsNone(settings.max_age_of((("prompt", "login"),)))

    def test_a_max_age_that_is_not_one(self):
        for value in (-1, 1.5, 300.0, "300", True, False, None, [300], {"s": 1},
                      settings.MAX_AGE_LIMIT + 1):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(authorizationParams={"max_age": value}),
                                   "config.max_age", high=settings.MAX_AGE_LIMIT)
        for number in ("1e999", "1" + "0" * 400, "3e2"):
            with self.subTest(number=number):
                text = config().replace("}", ', "authorizationParams": {"max_age": '
                                        + number + "}}")
                self.assertProblem(text, "config.max_age")

    def test_what_the_library_sends_itself_is_refused(self):
        for name in ("response_type", "state", "nonce", "code_challenge",
                     "code_challenge_method", "response_mode", "request", "request_uri",
                     "code_verifier", "client_secret", "client_assertion",
                     "client_assertion_type", "dpop_jkt", "STATE", "Nonce", "Response_Type"):
            with self.subTest(name=name):
                self.assertProblem(config(authorizationParams={name: "x"}),
                                   "config.authorization_param_reserved", name=name)

    def test_what_has_a_setting_of_its_own_is_refused(self):
        for name, setting in (("scope", "scope"), ("client_id", "clientId"),
                              ("redirect_uri", "redirectUri"), ("audience", "audience"),
                              ("SCOPE", "scope"), ("Redirect_URI", "redirectUri")):
            with self.subTest(name=name):
                self.assertProblem(config(authorizationParams={name: "x"}),
                                   "config.authorization_param_setting", name=name,
                                   setting=setting)

    def test_values_must_be_text(self):
        for value in (1, 1.5, True, None, ["a"], {"a": "b"}, "", " ", "a ", " a", "a\nb",
                      "a\x00", "a\x7f", "\u00a0a", "a\u3000", "x" * 2001):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(authorizationParams={"login_hint": value}),
                                   "config.authorization_param_value", name="login_hint")
        self.assertEqual(self.params({"login_hint": "x" * 2000, "ui_locales": "\u00e9 a"}),
                         (("login_hint", "x" * 2000), ("ui_locales", "\u00e9 a")))

    def test_names_must_be_parameter_names(self):
        for name in ("", "a b", "a=b", "a&b", "a#", "\u00e9", "x" * 65, "a/b", "a\x00"):
            with self.subTest(name=repr(name)):
                self.assertProblem(config(authorizationParams={name: "x"}),
                                   "config.authorization_param_name", name=name)

    def test_it_must_be_an_object(self):
        for value in ([], ["prompt", "login"], "prompt=login", None, 1, True):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(authorizationParams=value),
                                   "config.authorization_params")

    def test_prompt_values(self):
        for prompt in ("none", "login", "consent", "select_account", "create", "login consent",
                       "consent select_account login"):
            with self.subTest(prompt=prompt):
                self.assertEqual(self.params({"prompt": prompt}), (("prompt", prompt),))
        # OpenID Connect Core 3.1.2.1: none with any other value is an error.
        for prompt in ("none login", "consent none", "Login", "login  consent",
                       "login login", "signup", "login,consent"):
            with self.subTest(prompt=prompt):
                self.assertProblem(config(authorizationParams={"prompt": prompt}),
                                   "config.prompt",
                                   choices="login, consent, select_account, create")

    def test_the_first_wrong_name_in_sorted_order_is_named(self):
        self.assertProblem(config(authorizationParams={"z": 1, "state": "x", "b": 2}),
                           "config.authorization_param_value", name="b")


class CspOrigins(SettingsTestCase):
    def test_none_by_default_and_bare_origins_kept_once(self):
        self.assertEqual(read_settings(config(), PAGE)["csp_origins"], ())
        read = read_settings(config(cspOrigins=[
            "https://login.example", "https://login.example/", "https://cdn.example:8443",
            "http://127.0.0.1:9000"]), PAGE)
        self.assertEqual(read["csp_origins"], ("https://login.example",
                                               "https://cdn.example:8443",
                                               "http://127.0.0.1:9000"))

    def test_a_list_of_bare_origins_only(self):
        for value in ("https://login.example", {"a": "https://x.example"}, [1], None):
            with self.subTest(value=repr(value)):
                self.assertProblem(config(cspOrigins=value), "config.csp_origins")
        for entry in ("https://login.example/path", "http://login.example", "login.example",
                      "https://login.example?x", "'unsafe-inline'", "https:", "*"):
            with self.subTest(entry=entry):
                self.assertProblem(config(cspOrigins=[entry]), "config.csp_origin", entry=entry)

    def test_api_origins_are_not_csp_origins(self):
        read = read_settings(config(cspOrigins=["https://login.example"],
                                    apiOrigins=["https://api.example"]), PAGE)
        self.assertEqual(read["api_origins"], ("https://api.example",))
        self.assertEqual(read["csp_origins"], ("https://login.example",))
