"""The static site build: layout, python.zip, vendored runtime, failure messages."""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import io
import json
import re
import shutil
import subprocess
import tomllib
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from devtools.build import build
from devtools.build.build import BuildError, build_site
from devtools.build.preload import PreloadError, pyscript_chunks
from devtools.paths import ROOT, child_env, module_command

NODE_MODULES = ROOT / "node_modules"
WHEEL_CACHE = ROOT / ".cache" / "wheels"

pytestmark = pytest.mark.skipif(
    not (NODE_MODULES / "pyodide").is_dir(), reason="node_modules missing: run scripts/setup"
)

FAKE_INDEX = """<!doctype html>
<html><head>
<!-- content-security-policy -->
<link rel="stylesheet" href="./vendor/pyscript/core.css">
<link rel="stylesheet" href="./style.css">
<!-- preload -->
<script type="module" src="./vendor/pyscript/core.js"></script>
</head><body>
<script type="py" src="./main.py" config="./pyscript.toml"></script>
</body></html>
"""


def make_project(root: Path) -> Path:
    """A minimal project tree, so these tests do not depend on public/ being written."""
    (root / "public").mkdir(parents=True)
    (root / "public" / "index.html").write_text(FAKE_INDEX)
    (root / "public" / "style.css").write_text("body { margin: 0 }\n")
    (root / "public" / "auth_config.json").write_text('{"placeholder": true}\n')
    package = root / "py" / "oidc_spa"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "deep.py").write_text("X = 1\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "junk.py").write_text("")
    (root / "py" / "app").mkdir()
    (root / "py" / "app" / "main.py").write_text("import sample_page\n")
    (root / "py" / "app" / "sample_page.py").write_text("import oidc_spa\nimport page_text\n")
    (root / "py" / "app" / "page_text.py").write_text("TEXT = 1\n")
    (root / "py" / "app" / "first_lane.py").write_text("import page_text\n")
    (package / "portable").mkdir()
    (package / "portable" / "__init__.py").write_text("")
    (package / "portable" / "rules.py").write_text("RULE = 1\n")
    shutil.copy(ROOT / "pyscript.toml", root / "pyscript.toml")
    shutil.copy(ROOT / "package.json", root / "package.json")
    return root


def build_project(root: Path, out: Path, **kwargs: object) -> Path:
    """The plain build unless asked: the fast one runs Pyodide in Node.js (seconds)."""
    kwargs.setdefault("plain", True)
    kwargs.setdefault("node_modules", NODE_MODULES)
    kwargs.setdefault("wheel_cache", WHEEL_CACHE)
    return build_site(out, root=root, **kwargs)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def site(project: Path) -> Path:
    return build_project(project, project / "_site", auth_config={"client_id": "spa"})


class UrlCollector(HTMLParser):
    """Every src/href attribute value in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def page_urls(html: str) -> list[str]:
    collector = UrlCollector()
    collector.feed(html)
    return collector.urls


def is_relative(url: str) -> bool:
    # Absolute paths or other origins would break the site under /REPO/.
    return not re.match(r"^(/|[a-z][a-z0-9+.-]*:)", url, re.IGNORECASE)


def test_site_has_the_expected_files(site: Path) -> None:
    expected = ["index.html", "style.css", "main.py", "pyscript.toml", "python.zip"]
    expected += ["vendor/pyscript/core.js", "vendor/pyscript/core.css"]
    expected += [f"vendor/pyodide/{name}" for name in build.PYODIDE_FILES]
    assert [name for name in expected if not (site / name).is_file()] == []


def test_pyscript_chunks_are_vendored(site: Path) -> None:
    vendored = site / "vendor" / "pyscript"
    core = (vendored / "core.js").read_text()
    chunks = re.findall(r'"\./([\w.-]+\.js)"', core)
    assert chunks
    assert all((vendored / chunk).is_file() for chunk in chunks)


def test_no_source_maps_shipped(site: Path) -> None:
    assert list(site.rglob("*.map")) == []
    scripts = [*site.rglob("*.js"), *site.rglob("*.mjs")]
    assert not [path for path in scripts if b"sourceMappingURL=" in path.read_bytes()[-300:]]


def test_python_zip_holds_package_and_pyjwt(site: Path) -> None:
    with zipfile.ZipFile(site / "python.zip") as archive:
        names = archive.namelist()
        dates = {info.date_time for info in archive.infolist()}
    assert "oidc_spa/__init__.py" in names
    assert "oidc_spa/inner/deep.py" in names
    assert "jwt/__init__.py" in names and "jwt/api_jwt.py" in names
    assert "sample_page.py" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert dates == {build.ZIP_DATE}


def test_build_is_reproducible(project: Path, site: Path, tmp_path: Path) -> None:
    again = build_project(project, tmp_path / "again", auth_config={"client_id": "spa"})
    assert (again / "python.zip").read_bytes() == (site / "python.zip").read_bytes()


def test_index_and_config_use_relative_urls(site: Path) -> None:
    urls = page_urls((site / "index.html").read_text())
    assert urls and all(is_relative(url) for url in urls)
    config = tomllib.loads((site / "pyscript.toml").read_text())
    assert is_relative(config["interpreter"])
    assert all(is_relative(url) for url in config.get("files", {}))


def test_auth_config_replaces_placeholder(site: Path) -> None:
    assert json.loads((site / "auth_config.json").read_text()) == {"client_id": "spa"}


def test_without_auth_config_public_placeholder_stays(project: Path, tmp_path: Path) -> None:
    out = build_project(project, tmp_path / "out")
    assert json.loads((out / "auth_config.json").read_text()) == {"placeholder": True}


def test_output_is_cleared_first(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    build_project(project, out)
    assert not (out / "stale.txt").exists()


def test_missing_node_modules_fails_clearly(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(BuildError, match="run scripts/setup"):
        build_project(project, out, node_modules=tmp_path / "no_node_modules")
    assert not out.exists()  # nothing is cleared or written before the checks pass


def test_cli_reports_missing_node_modules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--out", str(tmp_path / "out"), "--node-modules", str(tmp_path / "nope")]
    assert build.main(args) == 1
    assert "run scripts/setup" in capsys.readouterr().err


def test_the_documented_command_runs_the_module(tmp_path: Path) -> None:
    """`python -m devtools.build.build ...`, as README and the Pages workflow run it."""
    args = ["--out", str(tmp_path / "out"), "--node-modules", str(tmp_path / "nope")]
    done = subprocess.run(module_command("devtools.build.build", *args), env=child_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "build: error:" in done.stderr, done.stderr
    assert "run scripts/setup" in done.stderr


def test_version_mismatch_fails_clearly(project: Path, tmp_path: Path) -> None:
    fake = tmp_path / "node_modules"
    for name in build.read_npm_pins(project):
        (fake / name).mkdir(parents=True)
        (fake / name / "package.json").write_text('{"version": "0.0.1"}')
    with pytest.raises(BuildError, match=r"0\.0\.1 .* pins"):
        build_project(project, tmp_path / "out", node_modules=fake)


def test_tampered_wheel_fails(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "wheels"
    cache.mkdir()
    (cache / build.PYJWT_WHEEL).write_bytes(b"not the wheel")
    with pytest.raises(BuildError, match="sha256"):
        build_project(project, tmp_path / "out", wheel_cache=cache)


@pytest.mark.parametrize("inside", [".", "..", "public", "py/oidc_spa"])
def test_refuses_to_clear_sources(project: Path, inside: str) -> None:
    with pytest.raises(BuildError, match="refusing"):
        build_project(project, project / inside)


def test_real_pyscript_toml_uses_the_fast_interpreter_and_no_plugins() -> None:
    config = tomllib.loads((ROOT / "pyscript.toml").read_text())
    assert config["interpreter"] == "./vendor/pyodide/" + build.FAST_INTERPRETER
    assert "files" not in config  # the fast build ships no sources to unpack
    assert "!error" in config["plugins"]  # no Python traceback on the page


def test_plain_build_unpacks_sources_with_stock_pyodide(site: Path) -> None:
    config = tomllib.loads((site / "pyscript.toml").read_text())
    assert config["interpreter"] == "./vendor/pyodide/pyodide-no-jspi.mjs"
    assert config["files"] == {"./python.zip": "./*"}
    assert (site / "vendor" / "pyodide" / "python_stdlib.zip").is_file()


def gzipped_zip(path: Path) -> zipfile.ZipFile:
    """The fast build's zips ship as gzip files of stored zips."""
    archive = zipfile.ZipFile(io.BytesIO(gzip.decompress(path.read_bytes())))
    assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    return archive


def test_fast_build_ships_precompiled_python_only(project: Path, tmp_path: Path) -> None:
    site = build_project(project, tmp_path / "fast", plain=False)
    pyodide = site / "vendor" / "pyodide"
    assert not (site / "python.zip").exists()
    # Kept for stdlib_fallback, which fetches it only for a module the trim left out.
    assert (pyodide / "python_stdlib.zip").is_file()
    interpreter = (pyodide / build.FAST_INTERPRETER).read_text()
    assert build.BYTECODE_ZIP in interpreter and build.APP_BYTECODE_ZIP in interpreter
    assert "stdlib_fallback" in interpreter and "deferred_init" in interpreter
    # Pyodide's own standard-library slot gets an empty zip; the boot zip is mounted beside.
    assert zipfile.ZipFile(pyodide / build.EMPTY_STDLIB_ZIP).namelist() == []
    with gzipped_zip(pyodide / build.BYTECODE_ZIP) as archive:
        boot = set(archive.namelist())
        left_out = set(archive.read("stdlib_left_out.txt").decode().split())
    with gzipped_zip(pyodide / build.APP_BYTECODE_ZIP) as archive:
        app = set(archive.namelist())
    # Boot: what Pyodide starts with, whole packages; app: the page's code and its imports.
    assert {"encodings/utf_8.pyc", "encodings/idna.pyc", "asyncio/__init__.pyc",
            "json/__init__.pyc", "_pyodide/__init__.pyc", "stdlib_fallback.pyc"} <= boot
    assert {"oidc_spa/__init__.pyc", "oidc_spa/inner/deep.pyc", "jwt/__init__.pyc",
            "sample_page.pyc", "pyscript/__init__.pyc"} <= app
    assert not boot & app
    assert not [name for name in boot | app if name.endswith(".py")]
    top_levels = {name.split("/")[0] for name in boot if "/" in name}
    assert not [name for name in app if name.split("/")[0] in top_levels]  # no split package
    # Trimmed by module: the page imports neither, and the fallback answers for both.
    names = boot | app
    assert "xmlrpc/client.pyc" not in names and "xmlrpc.client" in left_out
    assert "http/server.pyc" not in names and "http.server" in left_out
    # Frozen into the interpreter: never read from the zip.
    assert "os.pyc" not in names and "importlib/_bootstrap.pyc" not in names
    assert not left_out & {name.removesuffix(".pyc").replace("/", ".")
                           .removesuffix(".__init__") for name in names}


def test_fast_build_names_its_start_up_files_and_boots_pyodide_first(
        project: Path, tmp_path: Path) -> None:
    site = build_project(project, tmp_path / "fast", plain=False,
                         auth_config={"issuer": "https://op.example.test", "clientId": "a"})
    html = (site / "index.html").read_text()
    # Pyodide's chain first, in the order it is needed; PyScript's files and the late
    # fetches at low priority, so that the WebAssembly request gets the next connection.
    hint = r'<(?:script type="module" src|link rel="(?:module)?preload" href)="\./([^"]+)"'
    hinted = re.findall(hint, html)
    assert hinted[:5] == ["vendor/pyodide/pyodide-fast.mjs",
                          "vendor/pyodide/pyodide-no-jspi.mjs", "vendor/pyodide/pyodide.mjs",
                          "vendor/pyodide/pyodide.asm.mjs",
                          "vendor/pyodide/python_stdlib_bytecode.zip.gz"]
    chunks = {Path(m).name.rsplit("-", 1)[0] for m in hinted[5:13]}
    assert chunks == {"core", "toml", "error", "deprecations-manager", "donkey", "py-editor",
                      "py-game", "py-terminal"}
    assert hinted[13:] == ["pyscript.toml", "main.py", "auth_config.json",
                           "vendor/pyscript/core.js"]
    assert html.count('fetchpriority="low"') == 8 + 3
    assert all((site / path).is_file() for path in hinted)
    assert "pyodide.asm.wasm" not in html  # a hinted wasm misses Chromium's code cache
    # V8 compiles them while they stream: Pyodide's, and the first lane's two modules.
    for name in ("vendor/pyodide/pyodide.mjs", "vendor/pyodide/pyodide.asm.mjs",
                 "vendor/micropython/micropython.mjs", "first_lane.mjs"):
        source = (site / name).read_text()
        assert source.startswith("//# allFunctionsCalledOnLoad\n")
        assert source.count("allFunctionsCalledOnLoad") == 1
    # The interpreter module runs before PyScript's, so Pyodide boots while PyScript loads.
    early = html.index('<script type="module" src="./vendor/pyodide/pyodide-fast.mjs">')
    assert early < html.index('<script type="module" src="./vendor/pyscript/core.js">')


def test_two_lane_page_names_the_first_lane_files_and_not_pyodide(
        project: Path, tmp_path: Path) -> None:
    two_lanes = shutil.copytree(project, tmp_path / "project")
    index = two_lanes / "public" / "index.html"
    index.write_text(index.read_text()
                     .replace('<script type="module" src="./vendor/pyscript/core.js"></script>\n',
                              "")
                     .replace('<script type="py" src="./main.py" config="./pyscript.toml">',
                              '<py-config hidden src="./pyscript.toml"></py-config>\n'
                              '<script type="module" src="./first_lane.mjs">'))
    site = build_project(two_lanes, tmp_path / "fast", plain=False,
                         auth_config={"issuer": "https://op.example.test", "clientId": "a"})
    html = (site / "index.html").read_text()
    # What the first lane (MicroPython) needs to paint, asked for at once; nothing of
    # PyScript's or Pyodide's, which the first lane starts only when needed.
    hint = r'<link rel="(?:module)?preload" href="\./([^"]+)"'
    assert re.findall(hint, html) == [
        "first_lane.mjs", "vendor/micropython/micropython.mjs",
        "vendor/micropython/micropython.wasm", "first_lane.json", "auth_config.json"]
    assert "pyodide" not in html.split("<py-config")[0]
    assert "core.js" not in html
    # The full lane's config written in as JSON: PyScript fetches no config file.
    inlined = re.search(r"<py-config hidden>(.*?)</py-config>", html).group(1)
    assert json.loads(inlined) == tomllib.loads((site / "pyscript.toml").read_text())
    # The lane's Python as MicroPython bytecode (.mpy), one file; no sources.
    bundle = json.loads((site / "first_lane.json").read_text())
    assert sorted(bundle["files"]) == [
        "first_lane.mpy", "oidc_spa/__init__.mpy", "oidc_spa/portable/__init__.mpy",
        "oidc_spa/portable/rules.mpy", "page_text.mpy"]
    for compiled in bundle["files"].values():
        assert base64.b64decode(compiled)[:2] == b"M\x06"  # .mpy, bytecode version 6
    # And MicroPython's memory after importing first_lane (first_lane_snapshot.py).
    assert bundle["snapshot"]["imported"] == ["first_lane.mpy", "page_text.mpy"]
    assert bundle["snapshot"]["chunks"]
    assert not (site / "first_lane.py").exists() and not (site / "lane").exists()
    # V8 compiles them while they stream: Pyodide's, and the first lane's two modules.
    for name in ("vendor/pyodide/pyodide.mjs", "vendor/pyodide/pyodide.asm.mjs",
                 "vendor/micropython/micropython.mjs", "first_lane.mjs"):
        source = (site / name).read_text()
        assert source.startswith("//# allFunctionsCalledOnLoad\n")
        assert source.count("allFunctionsCalledOnLoad") == 1


def test_a_module_mpy_cross_refuses_fails_the_build(project: Path, tmp_path: Path) -> None:
    project = shutil.copytree(project, tmp_path / "project")
    (project / "py" / "app" / "first_lane.py").write_text("def broken(:\n")
    index = project / "public" / "index.html"
    index.write_text(index.read_text().replace(
        '<script type="py" src="./main.py" config="./pyscript.toml">',
        '<script type="module" src="./first_lane.mjs">'))
    with pytest.raises(build.BuildError, match=r"mpy-cross refused .*first_lane\.py"):
        build_project(project, tmp_path / "out")


def test_plain_build_has_no_start_up_hints(site: Path) -> None:
    html = (site / "index.html").read_text()
    assert "preload" not in html and "pyodide-fast.mjs" not in html
    source = (site / "vendor" / "pyodide" / "pyodide.asm.mjs").read_text()
    assert "allFunctionsCalledOnLoad" not in source  # the stock runtime, for comparison


def test_pyscript_chunk_names_may_contain_dashes(tmp_path: Path) -> None:
    (tmp_path / "core.js").write_text('export{a}from"./core-AbCd-123.js";')
    names = ["core-AbCd-123.js", "toml-x_y-z123.js", "deprecations-manager-UpAPKqCb.js"]
    body = "".join(f'import("./{name}");' for name in names[1:])
    others = ["error", "donkey", "py-editor", "py-game", "py-terminal"]
    body += "".join(f'import("./{name}-12345678.js");' for name in others)
    (tmp_path / "core-AbCd-123.js").write_text(body + 'import("./codemirror-BDx3jn9j.js")')
    chunks = pyscript_chunks(tmp_path)
    assert set(names) <= set(chunks) and len(chunks) == 8
    assert "codemirror-BDx3jn9j.js" not in chunks


def test_missing_pyscript_chunk_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "core.js").write_text('export{a}from"./core-AbCdEf12.js";')
    (tmp_path / "core-AbCdEf12.js").write_text("")
    with pytest.raises(PreloadError, match="toml"):
        pyscript_chunks(tmp_path)


def test_fast_build_bytecode_has_no_docstrings(project: Path, tmp_path: Path) -> None:
    site = build_project(project, tmp_path / "fast", plain=False)
    with gzipped_zip(site / "vendor" / "pyodide" / build.BYTECODE_ZIP) as archive:
        pyc = archive.read("json/__init__.pyc")
    # Marshalled strings are stored as their bytes: names stay, the docstring is gone.
    assert b"JSONDecodeError" in pyc
    assert b"JSON (JavaScript Object Notation)" not in pyc


def test_real_index_html_uses_relative_urls() -> None:
    urls = page_urls((ROOT / "public" / "index.html").read_text())
    assert [url for url in urls if not is_relative(url)] == []


def test_policy_names_the_provider_from_the_settings(project: Path, tmp_path: Path) -> None:
    config = {"issuer": "https://op.example.test/realms/x", "clientId": "a"}
    site = build_project(project, tmp_path / "out", auth_config=config)
    html = (site / "index.html").read_text()
    assert "connect-src 'self' https://op.example.test;" in html
    assert "<!-- content-security-policy -->" not in html


def test_index_without_policy_marker_fails_the_build(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    (root / "public" / "index.html").write_text("<html><body>no marker</body></html>")
    with pytest.raises(BuildError, match="content-security-policy"):
        build_project(root, tmp_path / "out")


def test_the_policy_names_every_origin_the_discovery_document_points_to(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The build reads the provider's discovery document (a local http.server here), allows
    its endpoints' origins, and says on stderr what it added or why it fell back."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    document: dict[str, str] = {}

    class Discovery(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    document.update(issuer=issuer, authorization_endpoint=issuer + "/authorize",
                    token_endpoint="https://tokens.example.test/token", jwks_uri=issuer + "/jwks")
    out = tmp_path / "site"
    out.mkdir()
    marked = "<html><head><!-- content-security-policy --></head></html>"
    config = {"issuer": issuer, "clientId": "a", "cspOrigins": ["https://cdn.example.test"]}
    try:
        (out / "index.html").write_text(marked)
        build.write_policy(out, config, ["https://extra.example.test"])
        html = (out / "index.html").read_text()
        assert (f"connect-src 'self' {issuer} https://tokens.example.test "
                "https://extra.example.test https://cdn.example.test;") in html
        assert "build: the provider's discovery document puts endpoints on other origins " \
            "than its issuer's; the Content-Security-Policy allows them: " \
            "https://tokens.example.test" in capsys.readouterr().err
        (out / "index.html").write_text(marked)
        build.write_policy(out, config, [], discover=False)
        assert f"connect-src 'self' {issuer} https://cdn.example.test;" in (
            out / "index.html").read_text()
        assert "--no-discovery" in capsys.readouterr().err
    finally:
        server.shutdown()
        server.server_close()
    (out / "index.html").write_text(marked)
    build.write_policy(out, config, [])  # the provider is gone: its issuer's origin, and why
    assert f"connect-src 'self' {issuer} https://cdn.example.test;" in (
        out / "index.html").read_text()
    err = capsys.readouterr().err
    assert err.startswith(f"build: did not read the provider's discovery document {issuer}/")
    assert '"cspOrigins"' in err


def test_no_discovery_is_a_build_option() -> None:
    assert build.parse_args(["--no-discovery"]).no_discovery is True
    assert build.parse_args([]).no_discovery is False


def test_the_stylesheet_is_written_into_the_page_and_allowed_by_its_hash(site: Path) -> None:
    page = (site / "index.html").read_text()
    assert '<link rel="stylesheet" href="./style.css">' not in page
    assert "<style>body { margin: 0 }\n</style>" in page
    # Only the page's own stylesheet: vendored files stay links (a request each).
    assert '<link rel="stylesheet" href="./vendor/pyscript/core.css">' in page
    digest = base64.b64encode(hashlib.sha256(b"body { margin: 0 }\n").digest()).decode()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy is not None
    assert f"style-src 'self' 'sha256-{digest}';" in html.unescape(policy.group(1))
