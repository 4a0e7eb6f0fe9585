"""Run the demo's protected API (api.py, as `python -m devtools.servers.api`) as a child
process.

    with start_api(issuer=provider.issuer, allowed_origin="http://127.0.0.1:8000") as api:
        print(api.url + "/api/private")
"""

from __future__ import annotations

from typing import TextIO

from devtools.servers.api_secret import share_api_client_secret
from devtools.servers.provider_process import ServerProcess, ServerStartError

API_MODULE = "devtools.servers.api"


class ApiStartError(ServerStartError):
    pass


class ApiProcess(ServerProcess):
    """A running API; `url` is its base URL (no trailing slash)."""

    module = API_MODULE
    ready_name = "api"
    description = "protected demo API"
    error_class = ApiStartError


def api_args(*, issuer: str, allowed_origin: str, host: str, port: int,
             require_dpop_nonce: bool = False) -> list[str]:
    args = ["--issuer", issuer, "--allowed-origin", allowed_origin,
            "--host", host, "--port", str(port)]
    return [*args, "--require-dpop-nonce"] if require_dpop_nonce else args


def start_api(*, issuer: str, allowed_origin: str, host: str = "127.0.0.1", port: int = 0,
              require_dpop_nonce: bool = False, log_to: TextIO | None = None) -> ApiProcess:
    """Start the API and wait for it to listen. `log_to` receives its request log.
    `require_dpop_nonce`: DPoP proofs must carry the API's nonce (RFC 9449 9)."""
    share_api_client_secret()  # the provider and the API must agree on it
    args = api_args(issuer=issuer, allowed_origin=allowed_origin, host=host, port=port,
                    require_dpop_nonce=require_dpop_nonce)
    return ApiProcess(args, log_to=log_to)
