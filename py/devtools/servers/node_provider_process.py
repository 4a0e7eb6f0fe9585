"""Run node-oidc-provider (oidc_provider/launcher.mjs) as the local OpenID provider.

    with start_node_provider(client_id="demo-spa", redirect_uris=[...],
                             post_logout_redirect_uris=[...],
                             allowed_origins=["http://127.0.0.1:8000"]) as provider:
        print(provider.issuer)

ServerProcess runs it (the launcher prints "provider ready at <url>" once it listens); the
command is Node.js, with the npm package from the repository's node_modules. `issuer`
names a public origin in front of it (a proxy), else the issuer is where it listens.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from devtools.paths import ROOT
from devtools.servers.api_secret import share_api_client_secret
from devtools.servers.provider_process import ProviderStartError, ServerProcess

LAUNCHER = Path(__file__).resolve().with_name("oidc_provider") / "launcher.mjs"
# The launcher's demo users, read from the same file by both.
DEMO_USERS_FILE = LAUNCHER.with_name("demo_users.json")
# Node resolves "oidc-provider" from the launcher's folder upwards: it finds this one.
PACKAGE_MANIFEST = ROOT / "node_modules" / "oidc-provider" / "package.json"


class NodeProviderStartError(ProviderStartError):
    pass


class NodeProviderProcess(ServerProcess):
    """A running node-oidc-provider: `url` is where it listens, `issuer` its issuer (no
    trailing slash), the same unless it was started with one."""

    ready_name = "provider"
    description = "local OpenID provider (node-oidc-provider)"
    error_class = NodeProviderStartError

    def __init__(self, args: Sequence[str], log_to: TextIO | None = None,
                 issuer: str | None = None) -> None:
        super().__init__(args, log_to=log_to)
        self._issuer = issuer

    @property
    def issuer(self) -> str:
        return self._issuer or self.url

    @classmethod
    def command(cls) -> list[str]:
        node = shutil.which("node")
        if node is None:
            raise NodeProviderStartError("Node.js (`node`) is not on PATH: install Node.js 20 "
                                         "or newer, then run scripts/setup")
        if not PACKAGE_MANIFEST.is_file():
            raise NodeProviderStartError(f"{PACKAGE_MANIFEST} not found: run scripts/setup to "
                                         "install the npm packages package.json pins")
        return [node, str(LAUNCHER)]


def demo_users() -> list[tuple[str, str]]:
    """(username, password) of each demo user the local provider signs in."""
    users = json.loads(DEMO_USERS_FILE.read_text(encoding="utf-8"))
    return [(user["sub"], user["password"]) for user in users]


def provider_args(*, client_id: str, redirect_uris: Iterable[str],
                  post_logout_redirect_uris: Iterable[str], allowed_origins: Iterable[str],
                  host: str, port: int, issuer: str | None, test_controls: bool,
                  require_dpop_nonce: bool = False) -> list[str]:
    args = ["--host", host, "--port", str(port), "--client-id", client_id]
    if issuer is not None:
        args += ["--issuer", issuer]
    args += [item for uri in redirect_uris for item in ("--redirect-uri", uri)]
    args += [item for uri in post_logout_redirect_uris
             for item in ("--post-logout-redirect-uri", uri)]
    args += [item for origin in allowed_origins for item in ("--allowed-origin", origin)]
    if test_controls:
        args.append("--test-controls")
    if require_dpop_nonce:
        args.append("--require-dpop-nonce")
    return args


def start_node_provider(*, client_id: str, redirect_uris: Iterable[str],
                        post_logout_redirect_uris: Iterable[str] = (),
                        allowed_origins: Iterable[str] = (), host: str = "127.0.0.1",
                        port: int = 0, issuer: str | None = None,
                        test_controls: bool = False, require_dpop_nonce: bool = False,
                        extra_args: Iterable[str] = (),
                        log_to: TextIO | None = None) -> NodeProviderProcess:
    """Start the provider and wait for it to listen. `log_to` receives its request log.

    Only `allowed_origins` get CORS headers. `issuer` (an origin) is the public address of
    a proxy that passes requests on to this one with their Host header.
    `require_dpop_nonce`: every DPoP proof must carry the provider's nonce (RFC 9449 8);
    off, the provider sends no nonces at all. extra_args may add --id-token-ttl S,
    --access-token-ttl S or --no-refresh-token-rotation.
    """
    share_api_client_secret()  # the provider and the API must agree on it
    args = provider_args(client_id=client_id, redirect_uris=redirect_uris,
                         post_logout_redirect_uris=post_logout_redirect_uris,
                         allowed_origins=allowed_origins, host=host, port=port, issuer=issuer,
                         test_controls=test_controls, require_dpop_nonce=require_dpop_nonce)
    return NodeProviderProcess([*args, *extra_args], log_to=log_to, issuer=issuer)
