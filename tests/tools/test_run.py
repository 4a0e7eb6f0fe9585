"""The run command as a real process: serves the site, provider and API, stops cleanly."""

from __future__ import annotations

import json
import signal
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from run_process import RunProcess, free_ports

from devtools.build.build import BuildError
from devtools.servers import run as run_module


def port_is_free(port: int) -> bool:
    """Nothing listens and a new server could bind it (as the servers do, SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def get_error(url: str, headers: dict[str, str]) -> tuple[int, Message, bytes]:
    """The error answer a request must get: status, headers, body."""
    request = urllib.request.Request(url, headers=headers)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10).close()
    with caught.value as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def run_process(tmp_path: Path) -> Iterator[Any]:
    started: list[RunProcess] = []

    def start(*args: str) -> RunProcess:
        started.append(RunProcess([*args, "--out", str(tmp_path / "_site")]))
        return started[-1]

    yield start
    for process in started:  # only after a failed test: a passing one stopped it
        process.kill()


def check_site_provider_and_api(url: str, site_port: int, provider_port: int,
                                api_port: int) -> None:
    assert url == f"http://127.0.0.1:{site_port}/pyscript-login/"
    status, body = get(url)
    assert status == 200
    assert b"<html" in body.lower()
    status, body = get(url + "auth_config.json")
    config = json.loads(body)
    assert config == {"issuer": f"http://127.0.0.1:{provider_port}", "clientId": "demo-spa",
                      "scope": "openid profile email offline_access",
                      "apiUrl": f"http://127.0.0.1:{api_port}/api/private"}
    status, body = get(config["issuer"] + "/.well-known/openid-configuration")
    assert status == 200
    assert json.loads(body)["issuer"] == config["issuer"]
    # The API knows the provider (a made-up token is checked there) and the site's origin.
    site_origin = f"http://127.0.0.1:{site_port}"
    status, headers, body = get_error(config["apiUrl"], {"Authorization": "Bearer made-up",
                                                         "Origin": site_origin})
    assert status == 401 and headers["Access-Control-Allow-Origin"] == site_origin
    assert json.loads(body) == {"error": "invalid_token"}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serves_site_provider_and_api_then_stops_cleanly(run_process: Any, signum: int) -> None:
    ports = free_ports(3)
    site_port, provider_port, api_port = ports
    run = run_process("--site-port", str(site_port), "--provider-port", str(provider_port),
                      "--api-port", str(api_port))
    url = run.wait_for_url()
    banner = "".join(run.stdout)
    assert "alice-demo" in banner and "bob-demo" in banner and "Ctrl-C" in banner
    assert f"http://127.0.0.1:{api_port}/api/private" in banner

    check_site_provider_and_api(url, site_port, provider_port, api_port)

    run.process.send_signal(signum)
    stderr = run.finish()
    assert run.process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert all(port_is_free(port) for port in ports)


@pytest.mark.parametrize("busy_flag", ["--site-port", "--provider-port", "--api-port"])
def test_busy_port_fails_naming_the_flag(run_process: Any, busy_flag: str) -> None:
    ports = dict(zip(["--site-port", "--provider-port", "--api-port"], free_ports(3),
                     strict=True))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", ports[busy_flag]))
        listener.listen()
        run = run_process(*[item for flag, port in ports.items() for item in (flag, str(port))])
        stderr = run.finish(timeout=30)
    assert run.process.returncode != 0
    assert f"port {ports[busy_flag]}" in stderr and "in use" in stderr and busy_flag in stderr
    assert "Traceback" not in stderr
    assert all(port_is_free(port) for flag, port in ports.items() if flag != busy_flag)


def test_same_port_twice_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site_port, provider_port = free_ports(2)
    code = run_module.main(["--site-port", str(site_port), "--provider-port",
                            str(provider_port), "--api-port", str(provider_port),
                            "--out", str(tmp_path / "_site")])
    assert code == 1
    err = capsys.readouterr().err
    assert f"--provider-port and --api-port are both {provider_port}" in err
    assert port_is_free(site_port) and port_is_free(provider_port)


def test_auth_config_serves_that_file_and_names_the_urls_to_allow(
    run_process: Any, tmp_path: Path
) -> None:
    site_port, api_port = free_ports(2)
    settings = {"domain": "example-tenant.eu.auth0.com", "clientId": "spa-123"}
    config_file = tmp_path / "auth0.json"
    config_file.write_text(json.dumps(settings))
    run = run_process("--site-port", str(site_port), "--api-port", str(api_port),
                      "--auth-config", str(config_file))
    url = run.wait_for_url()
    banner = "".join(run.stdout)
    assert f"Allowed Callback URLs:  {url}" in banner
    assert f"Allowed Web Origins:    http://127.0.0.1:{site_port}\n" in banner
    assert "/api/private" not in banner
    assert json.loads(get(url + "auth_config.json")[1]) == settings  # no apiUrl added
    assert port_is_free(api_port)  # no local API with the user's own provider
    run.process.send_signal(signal.SIGINT)
    assert run.finish() == "" and run.process.returncode == 0


def test_build_error_prints_the_message_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def no_node_modules(out: Path, config: dict[str, Any]) -> Path:
        raise BuildError("node_modules/pyodide/package.json not found: run scripts/setup")

    monkeypatch.setattr(run_module, "build_site", no_node_modules)
    ports = free_ports(3)
    site_port, provider_port, api_port = ports
    code = run_module.main(["--site-port", str(site_port), "--provider-port",
                            str(provider_port), "--api-port", str(api_port),
                            "--out", str(tmp_path / "_site")])
    assert code == 1
    assert "not found: run scripts/setup" in capsys.readouterr().err
    assert all(port_is_free(port) for port in ports)
