"""Serve the built site the way GitHub Pages does, under a base path.

    python -m devtools.servers.serve --root _site --base-path /app/ --host 127.0.0.1 --port 0

Only files below the base path are served: no directory listings, no paths
outside the root, `Cache-Control: max-age=600`, and gzip for the types
GitHub Pages compresses (text-like files and .wasm; not .zip or images).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import mimetypes
import sys
import threading
from collections.abc import Iterator
from email.utils import formatdate
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CACHE_CONTROL = "max-age=600"  # what GitHub Pages sends
# For a developer's run: the browser revalidates every file (a 304 when unchanged), so
# a rebuilt page or a changed auth_config.json is what the next load gets.
REVALIDATE = "no-cache"

# Explicit types for what the site ships; Python's mimetypes varies by platform.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".mjs": "application/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".toml": "application/toml; charset=utf-8",
    ".py": "text/x-python; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
    ".xml": "application/xml",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".gz": "application/gzip",  # served as is, like GitHub Pages: no Content-Encoding
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
# Compressed on the fly when the client accepts gzip; archives and images are not.
GZIP_SUFFIXES = frozenset(
    {".html", ".css", ".js", ".mjs", ".json", ".toml", ".py", ".txt", ".md", ".svg", ".xml"}
    | {".wasm"}
)


def normalize_base_path(base_path: str) -> str:
    """'/app', 'app/' and '/app/' all mean '/app/'; '' and '/' mean the site root."""
    inner = base_path.strip("/")
    return f"/{inner}/" if inner else "/"


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def accepts_gzip(header: str | None) -> bool:
    """True when Accept-Encoding lists gzip without q=0."""
    for item in (header or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in {"gzip", "*"}:
            return params.replace(" ", "").lower() not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


@lru_cache(maxsize=64)
def gzipped(path: Path, mtime_ns: int, size: int) -> bytes:
    """Compressed body, cached per file version (the .wasm takes a while)."""
    del mtime_ns, size  # part of the cache key only
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


def resolve_request(root: Path, base: str, url_path: str) -> tuple[str, Path | None]:
    """Map a URL path to ('file', path), ('redirect', None) or ('missing', None)."""
    if url_path + "/" == base:
        return "redirect", None
    if not url_path.startswith(base):
        return "missing", None
    parts = unquote(url_path[len(base) :]).split("/")
    # Refuse traversal and oddities before touching the file system.
    if any(part in {".", ".."} or "\\" in part or "\0" in part for part in parts):
        return "missing", None
    target = root.joinpath(*parts).resolve()
    if not target.is_relative_to(root):
        return "missing", None
    if target.is_dir():
        if not url_path.endswith("/"):
            # Like GitHub Pages: a folder with an index gets a trailing slash.
            return ("redirect", None) if (target / "index.html").is_file() else ("missing", None)
        target = target / "index.html"
    return ("file", target) if target.is_file() else ("missing", None)


class SiteHandler(BaseHTTPRequestHandler):
    """GET/HEAD for one static folder; configured through class attributes."""

    root: Path
    base: str
    quiet = False
    cache_control = CACHE_CONTROL
    server_version = "oidc-spa-devserver"

    def do_GET(self) -> None:
        self.respond(send_body=True)

    def do_HEAD(self) -> None:
        self.respond(send_body=False)

    def respond(self, send_body: bool) -> None:
        url_path = urlsplit(self.path).path
        kind, target = resolve_request(self.root, self.base, url_path)
        if url_path == "/" and self.base != "/":
            # The server's root: the site is one level down. Not permanent, so another
            # program on this port later is not sent here by the browser's cache.
            self.send_redirect(self.base, HTTPStatus.FOUND)
        elif kind == "redirect":
            self.send_redirect(url_path + "/")
        elif target is None:
            self.send_plain(HTTPStatus.NOT_FOUND, b"404 Not Found\n", send_body)
        else:
            self.send_file(target, send_body)

    def send_redirect(self, location: str,
                      status: HTTPStatus = HTTPStatus.MOVED_PERMANENTLY) -> None:
        query = urlsplit(self.path).query
        self.send_response(status)
        self.send_header("Location", f"{location}?{query}" if query else location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_plain(self, status: HTTPStatus, body: bytes, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def send_file(self, target: Path, send_body: bool) -> None:
        stat = target.stat()
        etag = '"' + hashlib.sha1(f"{stat.st_mtime_ns}-{stat.st_size}".encode()).hexdigest()[:16]
        etag += '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Cache-Control", self.cache_control)
            self.end_headers()
            return
        compress = target.suffix.lower() in GZIP_SUFFIXES
        encode = compress and accepts_gzip(self.headers.get("Accept-Encoding"))
        body = gzipped(target, stat.st_mtime_ns, stat.st_size) if encode else target.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type(target))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", self.cache_control)
        self.send_header("Last-Modified", formatdate(stat.st_mtime, usegmt=True))
        self.send_header("ETag", etag)
        if compress:
            self.send_header("Vary", "Accept-Encoding")
        if encode:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(
    root: Path, base_path: str, host: str = "127.0.0.1", port: int = 0, quiet: bool = False,
    cache_control: str = CACHE_CONTROL,
) -> ThreadingHTTPServer:
    """A bound (not yet serving) server for root under base_path."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder: build the site first")
    attributes = {"root": root, "base": normalize_base_path(base_path), "quiet": quiet,
                  "cache_control": cache_control}
    handler = type("BoundSiteHandler", (SiteHandler,), attributes)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def site_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{server.RequestHandlerClass.base}"


@contextlib.contextmanager
def serve_in_thread(
    root: Path, base_path: str, host: str = "127.0.0.1", port: int = 0, quiet: bool = True,
    cache_control: str = CACHE_CONTROL,
) -> Iterator[str]:
    """Serve root in a background thread; yields the site's base URL."""
    server = make_server(root, base_path, host, port, quiet, cache_control)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield site_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("_site"), help="folder to serve")
    parser.add_argument("--base-path", default="/", help="URL prefix, e.g. /REPO/")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = make_server(args.root, args.base_path, args.host, args.port, args.quiet)
    # Scripts wait for this exact line to learn the port (with --port 0).
    print(f"site ready at {site_url(server)}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
