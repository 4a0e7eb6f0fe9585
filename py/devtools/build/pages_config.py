"""auth_config.json for a GitHub Pages deployment, from the repository's variables.

    python -m devtools.build.pages_config OUT.json   (reads AUTH0_DOMAIN or OIDC_ISSUER,
                                                       CLIENT_ID, AUTH0_AUDIENCE, SCOPE,
                                                       API_URL, AUTHORIZATION_PARAMS)

AUTHORIZATION_PARAMS is a JSON object, auth_config.json's "authorizationParams"
(e.g. {"prompt": "consent", "ui_locales": "de"}).

The result is checked by the library's own parser (oidc_spa.config), so a value the
page would refuse fails the deployment with the page's own sentence, as a GitHub
Actions error annotation, instead of deploying a page that cannot sign anyone in.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oidc_spa.config import parse_settings
from oidc_spa.errors import ConfigError

WHERE = "Settings > Secrets and variables > Actions > Variables"
# Any page address will do: the Pages settings name no redirectUri of their own.
SOME_PAGE = "https://user.github.io/repo/"


class SettingsProblem(ValueError):
    """The repository variables do not make usable settings; args are the reasons."""


def config_from(env: Mapping[str, str]) -> dict[str, Any]:
    """The auth_config.json object for these variables; SettingsProblem if unusable."""

    def var(name: str) -> str:
        return env.get(name, "").strip()

    # Accept "https://tenant.auth0.com/" too: the setting wants the bare host name.
    domain = var("AUTH0_DOMAIN").removeprefix("https://").rstrip("/")
    issuer, client_id = var("OIDC_ISSUER"), var("CLIENT_ID")
    problems = []
    if not client_id:
        problems.append("the repository variable CLIENT_ID is not set")
    if not domain and not issuer:
        problems.append("set the repository variable AUTH0_DOMAIN (Auth0) or OIDC_ISSUER")
    if domain and issuer:
        problems.append("set only one of AUTH0_DOMAIN and OIDC_ISSUER, not both")
    if problems:
        raise SettingsProblem(*problems)
    config: dict[str, Any] = {"clientId": client_id}
    config |= {"domain": domain} if domain else {"issuer": issuer}
    for key, name in (("audience", "AUTH0_AUDIENCE"), ("scope", "SCOPE"), ("apiUrl", "API_URL")):
        if var(name):
            config[key] = var(name)
    if var("AUTHORIZATION_PARAMS"):
        try:
            config["authorizationParams"] = json.loads(var("AUTHORIZATION_PARAMS"))
        except ValueError:
            raise SettingsProblem('the repository variable AUTHORIZATION_PARAMS must be a JSON '
                                  'object, e.g. {"prompt": "consent"}') from None
    try:
        parse_settings(json.dumps(config), SOME_PAGE)
    except ConfigError as error:
        raise SettingsProblem(error.user_message) from None
    return config


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m devtools.build.pages_config OUT.json", file=sys.stderr)
        return 2
    try:
        config = config_from(os.environ)
    except SettingsProblem as problem:
        for reason in problem.args:
            print(f"::error title=Sign-in settings::{reason} ({WHERE})")
        return 1
    Path(argv[0]).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(config, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
