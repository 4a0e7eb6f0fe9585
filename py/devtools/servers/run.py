"""Run the demo on this machine: the built site plus a local OpenID provider and API.

    python -m devtools.servers.run [--host 127.0.0.1] [--site-port 8000]
        [--provider-port 9000] [--api-port 9100] [--auth-config FILE] [--out _site]

Without --auth-config the local provider (node-oidc-provider, OpenID Certified,
launched by oidc_provider/launcher.mjs; demo users alice and bob) runs as a
child process with client id "demo-spa", and so does a small protected API
(api.py) that the page calls with the user's access token. With --auth-config
(e.g. an Auth0 tenant's settings) neither starts: the site is built with that
file as given and served, and the URLs to allow at the provider are printed.
Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from devtools.build.build import BuildError, build_site
from devtools.paths import ROOT
from devtools.servers.api_process import ApiStartError, start_api
from devtools.servers.node_provider_process import demo_users, start_node_provider
from devtools.servers.provider_process import ProviderStartError
from devtools.servers.serve import REVALIDATE, serve_in_thread
from oidc_spa.config import parse_settings
from oidc_spa.errors import ConfigError
from oidc_spa.popup import popup_redirect_uri
from oidc_spa.urls import is_loopback, origin

# Like a GitHub Pages project site, so relative URLs are tested as deployed.
BASE_PATH = "/pyscript-login/"
CLIENT_ID = "demo-spa"
# offline_access: the page gets a refresh token, so it can renew silently.
LOCAL_SCOPE = "openid profile email offline_access"


class RunError(Exception):
    """Startup failed; the message says what to change."""


class Shutdown(BaseException):
    """SIGINT or SIGTERM arrived: unwind and stop everything."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--site-port", type=int, default=8000, help="port of the site")
    parser.add_argument("--provider-port", type=int, default=9000,
                        help="port of the local OpenID provider")
    parser.add_argument("--api-port", type=int, default=9100,
                        help="port of the local protected API")
    parser.add_argument("--auth-config", type=Path,
                        help="your provider's settings (JSON); no local provider then")
    parser.add_argument("--out", type=Path, default=ROOT / "_site",
                        help="folder the site is built into (default _site/)")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- signals


def _raise_shutdown(signum: int, frame: FrameType | None) -> NoReturn:
    ignore_signals()  # a second Ctrl-C must not cut the cleanup short
    raise Shutdown(signum)


def install_signal_handlers() -> dict[int, Any]:
    """Route both signals to Shutdown; returns the handlers they replace."""
    return {signum: signal.signal(signum, _raise_shutdown)
            for signum in (signal.SIGINT, signal.SIGTERM)}


def ignore_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


# ----------------------------------------------------------------------------- ports


def port_in_use_error(host: str, port: int, flag: str) -> RunError:
    # The URL is registered at the provider, so another port is the user's choice to make.
    return RunError(f"port {port} on {host} is already in use (another copy running?): "
                    f"stop that program or choose another port with {flag}")


def check_port_free(host: str, port: int, flag: str) -> None:
    """Fail early and clearly instead of with a child process's traceback."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option the HTTP servers set, so a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise listen_error(error, host, port, flag) from None


def listen_error(error: OSError, host: str, port: int, flag: str) -> RunError:
    if error.errno == errno.EADDRINUSE:
        return port_in_use_error(host, port, flag)
    reason = error.strerror or str(error)
    return RunError(f"cannot listen on {host}:{port} ({reason}): check --host and {flag}")


def check_local_ports(args: argparse.Namespace) -> None:
    """Distinct ports, and the children's ports free, before anything starts."""
    flags = {"--site-port": args.site_port, "--provider-port": args.provider_port,
             "--api-port": args.api_port}
    seen: dict[int, str] = {}
    for flag, port in flags.items():
        if port in seen:  # 0 is not "seen": each 0 gets its own free port
            raise RunError(f"{seen[port]} and {flag} are both {port}: choose different ports")
        if port != 0:
            seen[port] = flag
    # Checked before anything starts, so a busy port leaves nothing half running.
    check_port_free(args.host, args.provider_port, "--provider-port")
    check_port_free(args.host, args.api_port, "--api-port")


# ----------------------------------------------------------------------------- stack


def start_site_server(stack: contextlib.ExitStack, args: argparse.Namespace) -> str:
    """Serve args.out under BASE_PATH; returns the site URL."""
    args.out.mkdir(parents=True, exist_ok=True)  # the server needs the folder to exist
    try:
        return stack.enter_context(
            serve_in_thread(args.out, BASE_PATH, args.host, args.site_port, quiet=True,
                            cache_control=REVALIDATE))
    except OSError as error:
        raise listen_error(error, args.host, args.site_port, "--site-port") from None


def start_local_provider(stack: contextlib.ExitStack, args: argparse.Namespace,
                         site_url: str) -> str:
    """The provider process with the site registered; returns its issuer."""
    try:
        provider = stack.enter_context(start_node_provider(
            client_id=CLIENT_ID, redirect_uris=[site_url, popup_redirect_uri(site_url)],
            post_logout_redirect_uris=[site_url],
            allowed_origins=[origin(site_url)], host=args.host, port=args.provider_port))
    except ProviderStartError as error:
        if "Address already in use" in str(error):  # lost a race with another program
            raise port_in_use_error(args.host, args.provider_port, "--provider-port") from None
        raise RunError(str(error)) from None
    return provider.issuer


def start_local_api(stack: contextlib.ExitStack, args: argparse.Namespace, issuer: str,
                    site_url: str) -> str:
    """The API process, checking tokens at `issuer` and open to the site; returns its URL."""
    try:
        api = stack.enter_context(start_api(
            issuer=issuer, allowed_origin=origin(site_url), host=args.host,
            port=args.api_port))
    except ApiStartError as error:
        if "Address already in use" in str(error):  # lost a race with another program
            raise port_in_use_error(args.host, args.api_port, "--api-port") from None
        raise RunError(str(error)) from None
    return api.url


def local_auth_config(issuer: str, api_url: str) -> dict[str, Any]:
    return {"issuer": issuer, "clientId": CLIENT_ID, "scope": LOCAL_SCOPE,
            "apiUrl": f"{api_url}/api/private"}


def read_auth_config(path: Path, site_url: str) -> dict[str, Any]:
    """The JSON file, checked with the page's own rules so mistakes show up now."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RunError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        parse_settings(text, site_url)
    except ConfigError as error:
        raise RunError(f"{path}: {error}") from None
    return json.loads(text)


def build(out: Path, config: dict[str, Any]) -> None:
    print(f"run: building the site into {out} ...", flush=True)
    try:
        build_site(out, config)
    except BuildError as error:
        raise RunError(f"build failed: {error}") from None
    except subprocess.CalledProcessError as error:  # pip could not fetch the PyJWT wheel
        command = " ".join(map(str, error.cmd))
        raise RunError(f"build failed: {command} exited with {error.returncode}") from None


# ----------------------------------------------------------------------------- messages


def local_banner(site_url: str, issuer: str, api_url: str) -> str:
    users = "\n".join(f"    {name:<8} password: {password}" for name, password in demo_users())
    return (
        "\n"
        "  The PyScript login demo is running.\n\n"
        f"  Open:  {site_url}\n\n"
        f"  Sign in at the local provider ({issuer}) as\n{users}\n\n"
        f"  The page calls the protected API at {api_url}/api/private\n\n"
        "  Ctrl-C stops everything.\n"
    )


def auth0_banner(site_url: str, config: dict[str, Any]) -> str:
    callback = config.get("redirectUri", site_url)
    return (
        "\n"
        "  The PyScript login demo is running with your provider's settings.\n\n"
        f"  Open:  {site_url}\n\n"
        "  Allow these in your application's settings (Auth0 dashboard):\n"
        f"    Allowed Callback URLs:  {callback}, {popup_redirect_uri(callback)}\n"
        f"    Allowed Logout URLs:    {site_url}\n"
        f"    Allowed Web Origins:    {origin(site_url)}\n\n"
        "  Ctrl-C stops everything.\n"
    )


# ----------------------------------------------------------------------------- main


def start_everything(stack: contextlib.ExitStack, args: argparse.Namespace) -> str:
    """Start server (and provider and API), build the site; returns the banner to print."""
    # WebCrypto and the page's http rule both need a loopback host for plain http.
    if not is_loopback(f"http://{args.host}/"):
        raise RunError(f"--host {args.host} is not a loopback address: use 127.0.0.1 "
                       "(browsers only allow the login's crypto on https or loopback)")
    if args.auth_config is None:
        check_local_ports(args)
    # The server binds first so its URL can be registered at the provider.
    site_url = start_site_server(stack, args)
    if args.auth_config is not None:
        config = read_auth_config(args.auth_config, site_url)
        build(args.out, config)
        return auth0_banner(site_url, config)
    issuer = start_local_provider(stack, args, site_url)
    api_url = start_local_api(stack, args, issuer, site_url)
    build(args.out, local_auth_config(issuer, api_url))
    return local_banner(site_url, issuer, api_url)


def serve_until_stopped(stack: contextlib.ExitStack, args: argparse.Namespace) -> None:
    try:
        print(start_everything(stack, args), flush=True)
        while True:  # the servers run in threads; the main thread waits for a signal
            time.sleep(3600)
    finally:
        ignore_signals()  # the stack's cleanup below must run to the end


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    previous = install_signal_handlers()
    try:
        with contextlib.ExitStack() as stack:
            serve_until_stopped(stack, args)
    except Shutdown:
        print("run: stopped.", flush=True)
    except RunError as error:
        print(f"run: error: {error}", file=sys.stderr)
        return 1
    finally:
        for signum, handler in previous.items():  # so main() can be called in-process
            signal.signal(signum, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
