"""Run node-oidc-provider (oidc_provider/launcher.mjs) as the local OpenID provider.

    with start_node_provider(client_id="demo-spa", redirect_uris=[...],
                             post_logout_redirect_uris=[...],
                             allowed_origins=["http://127.0.0.1:8000"]) as provider:
        print(provider.issuer)

The same ready-line protocol as provider.py, so ServerProcess runs it; only the command
differs (Node.js, with the npm package from the repository's node_modules).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from devtools.provider_process import ProviderProcess, ProviderStartError, provider_args

REPO_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).resolve().with_name("oidc_provider") / "launcher.mjs"
# The launcher's demo users, read from the same file by both.
DEMO_USERS_FILE = LAUNCHER.with_name("demo_users.json")
# Node resolves "oidc-provider" from the launcher's folder upwards: it finds this one.
PACKAGE_MANIFEST = REPO_ROOT / "node_modules" / "oidc-provider" / "package.json"


class NodeProviderStartError(ProviderStartError):
    pass


class NodeProviderProcess(ProviderProcess):
    """A running node-oidc-provider; `issuer` is its base URL (no trailing slash)."""

    script = LAUNCHER
    description = "local OpenID provider (node-oidc-provider)"
    error_class = NodeProviderStartError

    @classmethod
    def command(cls) -> list[str]:
        node = shutil.which("node")
        if node is None:
            raise NodeProviderStartError("Node.js (`node`) is not on PATH: install Node.js 20 "
                                         "or newer, then run scripts/setup")
        if not PACKAGE_MANIFEST.is_file():
            raise NodeProviderStartError(f"{PACKAGE_MANIFEST} not found: run scripts/setup to "
                                         "install the npm packages package.json pins")
        return [node, str(cls.script)]


def demo_users() -> list[tuple[str, str]]:
    """(username, password) of each demo user the local provider signs in."""
    users = json.loads(DEMO_USERS_FILE.read_text(encoding="utf-8"))
    return [(user["sub"], user["password"]) for user in users]


def start_node_provider(*, client_id: str, redirect_uris: Iterable[str],
                        post_logout_redirect_uris: Iterable[str] = (),
                        allowed_origins: Iterable[str] = (), host: str = "127.0.0.1",
                        port: int = 0, test_controls: bool = False,
                        extra_args: Iterable[str] = (),
                        log_to: TextIO | None = None) -> NodeProviderProcess:
    """Start the provider and wait for it to listen. `log_to` receives its request log.

    Only `allowed_origins` get CORS headers; extra_args may add --id-token-ttl S,
    --access-token-ttl S or --no-refresh-token-rotation.
    """
    args = provider_args(client_id=client_id, redirect_uris=redirect_uris,
                         post_logout_redirect_uris=post_logout_redirect_uris, host=host,
                         port=port, test_controls=test_controls)
    args += [item for origin in allowed_origins for item in ("--allowed-origin", origin)]
    return NodeProviderProcess([*args, *extra_args], log_to=log_to)
