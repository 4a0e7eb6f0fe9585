"""The local static server: base path, MIME types, traversal, caching, gzip."""

from __future__ import annotations

import gzip
import http.client
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devtools.paths import child_env, module_command
from devtools.servers.serve import (
    REVALIDATE,
    accepts_gzip,
    normalize_base_path,
    serve_in_thread,
)

FILES = {
    "index.html": b"<!doctype html><title>home</title>",
    "a.mjs": b"export const a = 1;\n",
    "b.js": b"console.log('b');\n" * 50,
    "c.wasm": b"\0asm\1\0\0\0" + bytes(200),
    "d.json": b'{"d": 1}',
    "e.toml": b'interpreter = "./x.mjs"\n',
    "f.zip": b"PK\5\6" + bytes(18),
    "g.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    "h.css": b"body{}",
    "main.py": b"print('hi')\n",
    "sub/index.html": b"<p>sub</p>",
    "nolisting/file.txt": b"x",
}

EXPECTED_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "a.mjs": "application/javascript; charset=utf-8",
    "b.js": "application/javascript; charset=utf-8",
    "c.wasm": "application/wasm",
    "d.json": "application/json; charset=utf-8",
    "e.toml": "application/toml; charset=utf-8",
    "f.zip": "application/zip",
    "g.svg": "image/svg+xml",
    "h.css": "text/css; charset=utf-8",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("serve")
    (base / "secret.txt").write_text("SECRET")
    root = base / "site"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "escape").symlink_to(base)  # a link pointing outside must not be followed
    return root


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    with serve_in_thread(site, "/app/") as url:
        yield url


def request(
    base_url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    """Send the raw path (no client-side normalization of '..')."""
    netloc = urlsplit(base_url).netloc
    connection = http.client.HTTPConnection(netloc, timeout=5)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_base_url(server: str) -> None:
    assert server.startswith("http://127.0.0.1:") and server.endswith("/app/")


@pytest.mark.parametrize(("name", "expected"), EXPECTED_TYPES.items())
def test_content_types(server: str, name: str, expected: str) -> None:
    response, body = request(server, f"/app/{name}")
    assert response.status == 200
    assert response.getheader("Content-Type") == expected
    assert body == FILES[name]


def test_cache_control_like_github_pages(server: str) -> None:
    response, _ = request(server, "/app/b.js")
    assert response.getheader("Cache-Control") == "max-age=600"


def test_base_path_without_slash_redirects(server: str) -> None:
    response, _ = request(server, "/app")
    assert response.status == 301
    assert response.getheader("Location") == "/app/"


def test_base_path_serves_index_and_ignores_query(server: str) -> None:
    # The OpenID provider redirects back with ?code=...&state=...
    response, body = request(server, "/app/?code=abc&state=xyz")
    assert response.status == 200
    assert body == FILES["index.html"]


def test_folder_redirects_then_serves_its_index(server: str) -> None:
    response, _ = request(server, "/app/sub")
    assert (response.status, response.getheader("Location")) == (301, "/app/sub/")
    response, body = request(server, "/app/sub/")
    assert (response.status, body) == (200, FILES["sub/index.html"])


@pytest.mark.parametrize("path", ["/index.html", "/other/", "/ap/", "/apps/index.html"])
def test_outside_base_path_is_404(server: str, path: str) -> None:
    assert request(server, path)[0].status == 404


def test_the_servers_root_leads_to_the_site(server: str) -> None:
    response, _ = request(server, "/")
    assert (response.status, response.getheader("Location")) == (302, "/app/")


def test_a_developers_server_makes_the_browser_revalidate(site: Path) -> None:
    with serve_in_thread(site, "/app/", cache_control=REVALIDATE) as url:
        response, _ = request(url, "/app/d.json")
        assert response.getheader("Cache-Control") == "no-cache"
        assert response.getheader("ETag")  # so the revalidation is a cheap 304


def test_no_directory_listing(server: str) -> None:
    response, body = request(server, "/app/nolisting/")
    assert response.status == 404 and b"file.txt" not in body


def test_missing_file_is_404(server: str) -> None:
    assert request(server, "/app/nope.js")[0].status == 404


@pytest.mark.parametrize(
    "path",
    [
        "/app/../secret.txt",
        "/app/%2e%2e/secret.txt",
        "/app/sub/..%2f..%2fsecret.txt",
        "/app/..%5csecret.txt",
        "/app/escape/secret.txt",
    ],
)
def test_traversal_refused(server: str, path: str) -> None:
    response, body = request(server, path)
    assert response.status == 404 and b"SECRET" not in body


def test_gzip_for_text_when_accepted(server: str) -> None:
    response, body = request(server, "/app/b.js", headers={"Accept-Encoding": "gzip, br"})
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Vary") == "Accept-Encoding"
    assert gzip.decompress(body) == FILES["b.js"]


def test_gzip_for_wasm(server: str) -> None:
    response, body = request(server, "/app/c.wasm", headers={"Accept-Encoding": "gzip"})
    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == FILES["c.wasm"]


def test_no_gzip_for_zip_or_without_accept(server: str) -> None:
    response, body = request(server, "/app/f.zip", headers={"Accept-Encoding": "gzip"})
    assert response.getheader("Content-Encoding") is None and body == FILES["f.zip"]
    response, body = request(server, "/app/b.js")
    assert response.getheader("Content-Encoding") is None and body == FILES["b.js"]


def test_head_sends_headers_only(server: str) -> None:
    response, body = request(server, "/app/d.json", method="HEAD")
    assert response.status == 200 and body == b""
    assert response.getheader("Content-Length") == str(len(FILES["d.json"]))


def test_etag_revalidation(server: str) -> None:
    etag = request(server, "/app/h.css")[0].getheader("ETag")
    response, body = request(server, "/app/h.css", headers={"If-None-Match": etag})
    assert response.status == 304 and body == b""


@pytest.mark.parametrize(
    ("given", "expected"), [("/app/", "/app/"), ("app", "/app/"), ("/a/b", "/a/b/"), ("", "/")]
)
def test_normalize_base_path(given: str, expected: str) -> None:
    assert normalize_base_path(given) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [("gzip, deflate", True), ("br;q=1, gzip;q=0.5", True), ("gzip;q=0", False), (None, False)],
)
def test_accepts_gzip(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_command_line_prints_ready_line(site: Path) -> None:
    command = module_command("devtools.servers.serve", "--root", str(site),
                             "--base-path", "/app/", "--port", "0", "--quiet")
    env = {**child_env(), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            line = process.stdout.readline() if process.stdout else ""
            assert line.startswith("site ready at http://127.0.0.1:")
            url = line.split()[-1]
            assert url.endswith("/app/")
            assert request(url, "/app/")[0].status == 200
        finally:
            process.terminate()
