"""The benchmark's site, served under /bench/ like GitHub Pages (devtools/bench/bench.py):

- the app's own build at the top (`fullLane` left at its default, "idle");
- a build of the app per other `fullLane` policy (policy-eager/, policy-on-demand/),
  its files that are the same as the app's linked to them (one copy each to compress);
- reference/: bare Pyodide, `loadPackage(PyJWT wheel)`, `import jwt`;
- floor/: the app's interpreter module (Pyodide with the app's bytecode zips) alone;
- js/: the JavaScript reference, oidc-client-ts (npm, pinned in package.json, its
  browser bundle vendored into vendor/oidc-client-ts/) making the app's start-up
  decision from the app's auth_config.json.

The pages and scripts are real files in bench_assets/, filled in by name (__NAME__).
"""

from __future__ import annotations

import contextlib
import filecmp
import functools
import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devtools.build.build import (
    BYTECODE_ZIP,
    FAST_INTERPRETER,
    build_site,
    copy_without_source_map,
    pyjwt_wheel,
)
from devtools.paths import ROOT
from devtools.servers import serve
from devtools.servers.serve import GZIP_SUFFIXES

CLIENT_ID = "bench-spa"
# The app's keys in localStorage (oidc_spa.store.SessionStore): the pointer to the
# signed-in login ("current"), and the login's record ("session:<id>").
APP_KEY_PREFIX = f"oidc_spa:{CLIENT_ID}:"
APP_GUARD_KEY = APP_KEY_PREFIX + "current"
# oidc-client-ts's keys: WebStorageStateStore's prefix, then UserManager's user key.
JS_KEY_PREFIX = "oidc."

ASSETS = Path(__file__).with_name("bench_assets")
REFERENCE_DIR = "reference"
FLOOR_DIR = "floor"
JS_DIR = "js"
# The app at the site's top runs the default policy; the others get a build each.
DEFAULT_POLICY = "idle"
POLICY_DIRS = {"eager": "policy-eager", "on-demand": "policy-on-demand"}

OIDC_CLIENT_TS = "oidc-client-ts"
# dist/browser/: one self-contained script (jwt-decode bundled in) defining the global
# `oidc`. The ESM build imports "jwt-decode" by its bare name, which needs an import map.
OIDC_CLIENT_TS_BUNDLE = "oidc-client-ts.min.js"


class BenchError(RuntimeError):
    """A page did not reach the state it should have, or the site cannot be measured;
    the message says which."""


def asset(name: str) -> str:
    return (ASSETS / name).read_text()


def bare_page(title: str, head: str) -> str:
    """bare_page.html: one module script (./boot.mjs) and the checking line; `head`
    goes before the module script."""
    head = head.rstrip() + "\n  " if head.strip() else ""
    return asset("bare_page.html").replace("__TITLE__", title).replace("__HEAD__", head)


def write_reference_page(site: Path, wheel: Path) -> None:
    folder = site / REFERENCE_DIR
    folder.mkdir()
    shutil.copy2(wheel, folder / wheel.name)
    shutil.copy2(ROOT / "node_modules" / "pyodide" / "python_stdlib.zip", folder)
    (folder / "index.html").write_text(bare_page("Reference: bare Pyodide + PyJWT", ""))
    (folder / "boot.mjs").write_text(asset("reference.mjs").replace("__WHEEL__", wheel.name))


def write_floor_page(site: Path) -> None:
    folder = site / FLOOR_DIR
    folder.mkdir()
    head = asset("floor_head.html").replace("__ZIP__", BYTECODE_ZIP)
    (folder / "index.html").write_text(
        bare_page("Runtime floor: the app's Pyodide and bytecode zips", head))
    (folder / "boot.mjs").write_text(
        asset("floor.mjs").replace("__INTERPRETER__", FAST_INTERPRETER))


def oidc_client_ts_version(node_modules: Path = ROOT / "node_modules") -> str:
    return str(json.loads((node_modules / OIDC_CLIENT_TS / "package.json").read_text())
               ["version"])


def write_js_page(site: Path, node_modules: Path = ROOT / "node_modules") -> None:
    """oidc-client-ts vendored (its browser bundle, without the source map comment, and
    its licence), and the page that runs it (js_reference.mjs)."""
    package = node_modules / OIDC_CLIENT_TS
    bundle = package / "dist" / "browser" / OIDC_CLIENT_TS_BUNDLE
    if not bundle.is_file():
        raise BenchError(f"{bundle} not found: run scripts/setup (package.json pins "
                         f"{OIDC_CLIENT_TS})")
    vendor = site / "vendor" / OIDC_CLIENT_TS
    vendor.mkdir(parents=True)
    copy_without_source_map(bundle, vendor / OIDC_CLIENT_TS_BUNDLE)
    shutil.copy2(package / "LICENSE", vendor / "LICENSE")
    folder = site / JS_DIR
    folder.mkdir()
    head = asset("js_head.html").replace("__BUNDLE__", OIDC_CLIENT_TS_BUNDLE)
    title = f"Reference: {OIDC_CLIENT_TS} {oidc_client_ts_version(node_modules)}"
    (folder / "index.html").write_text(bare_page(title, head))
    shutil.copy2(ASSETS / "js_reference.mjs", folder / "boot.mjs")


def share_identical_files(variant: Path, site: Path) -> None:
    """Each file of `variant` that the app's build has byte for byte at the same place
    becomes a link to it: the browser still sees a site of its own (other URLs, other
    cache entries), and the server gzips and keeps one copy of each file."""
    for path in sorted(variant.rglob("*")):
        twin = site / path.relative_to(variant)
        if (path.is_file() and not path.is_symlink() and twin.is_file()
                and filecmp.cmp(path, twin, shallow=False)):
            path.unlink()
            path.symlink_to(os.path.relpath(twin, path.parent))


def build_policy_variant(site: Path, policy: str, auth_config: dict[str, Any]) -> None:
    """The app built again with `"fullLane": policy` in its auth_config.json."""
    folder = site / POLICY_DIRS[policy]
    build_site(folder, auth_config | {"fullLane": policy})
    share_identical_files(folder, site)


def build_bench_site(site: Path, issuer: str) -> None:
    auth_config = {"issuer": issuer, "clientId": CLIENT_ID}
    build_site(site, auth_config)  # clears `site`: first
    for policy in POLICY_DIRS:
        build_policy_variant(site, policy, auth_config)
    write_reference_page(site, pyjwt_wheel(ROOT / ".cache" / "wheels"))
    write_floor_page(site)
    write_js_page(site)


def gzipped_files(site: Path) -> set[Path]:
    """The files the server compresses, each once (links resolved)."""
    return {path.resolve() for path in site.rglob("*")
            if path.is_file() and path.suffix in GZIP_SUFFIXES}


@contextlib.contextmanager
def every_compressed_file_kept() -> Iterator[None]:
    """The server compresses a file on its first request and keeps the last 64
    (serve.gzipped's cache): enough for one site, not for the app, its policy builds'
    settings and three reference pages together. A file compressed again inside a
    measured load (seconds for a .wasm) would be timed, so while the benchmark's own
    server runs, in this process, the cache keeps them all."""
    original = serve.gzipped
    serve.gzipped = functools.lru_cache(maxsize=None)(original.__wrapped__)
    try:
        yield
    finally:
        serve.gzipped = original


def prefill_gzip_cache(site: Path, url: str) -> None:
    """Ask once for every compressible file: the server gzips on first request (seconds
    for the .wasm), which would otherwise land in a measured load."""
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix in GZIP_SUFFIXES:
            request = urllib.request.Request(url + path.relative_to(site).as_posix(),
                                             headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()


def app_session_items(storage: dict[str, str]) -> dict[str, str]:
    """The app's keys out of a localStorage snapshot taken after a login."""
    items = {key: value for key, value in storage.items() if key.startswith(APP_KEY_PREFIX)}
    if APP_GUARD_KEY not in items:
        raise BenchError(f"no {APP_GUARD_KEY} in localStorage after logging in")
    return items


def js_user_key(issuer: str, client_id: str = CLIENT_ID) -> str:
    """Where oidc-client-ts keeps the user: WebStorageStateStore's prefix and
    UserManager's key, `user:<authority>:<client_id>`."""
    return f"{JS_KEY_PREFIX}user:{issuer}:{client_id}"


def js_session_items(app_items: dict[str, str], issuer: str) -> dict[str, str]:
    """The app's signed-in login (the same tokens) as oidc-client-ts stores a user
    (User.toStorageString): its `expires_at` is the access token's, whole seconds."""
    record = json.loads(app_items[f"{APP_KEY_PREFIX}session:{app_items[APP_GUARD_KEY]}"])
    expires_at = record.get("access_token_expires_at") or record["expires_at"]
    user = {
        "id_token": record["id_token"], "session_state": None,
        "access_token": record["access_token"], "refresh_token": record.get("refresh_token"),
        "token_type": "Bearer", "scope": record.get("scope"),
        "profile": record.get("profile", {}), "expires_at": int(expires_at),
    }
    return {js_user_key(issuer): json.dumps(user)}
