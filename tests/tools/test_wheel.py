"""The library's wheel, as the documented command builds it (devtools.build.build.WHEEL_COMMAND):
only the oidc_spa package, PyJWT its one dependency, and the public API in __all__."""

from __future__ import annotations

import ast
import email.parser
import hashlib
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import oidc_spa
from devtools.build.build import (
    PYJWT_VERSION,
    BuildError,
    build_app,
    build_library_wheel,
    library_wheel_name,
    pyjwt_wheel,
)
from devtools.paths import ROOT

PACKAGE = ROOT / "py" / "oidc_spa"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
DIST_INFO = f"oidc_spa-{VERSION}.dist-info/"
SECOND_APP = ROOT / "tests" / "e2e" / "second_app"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_library_wheel(tmp_path_factory.mktemp("dist"))


def members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(DIST_INFO + "METADATA").decode()
    return email.parser.Parser().parsestr(text)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_command_builds_the_named_pure_python_wheel(wheel: Path) -> None:
    assert wheel.name == f"oidc_spa-{VERSION}-py3-none-any.whl" == library_wheel_name()
    assert VERSION == "0.1.0"


def test_the_wheel_holds_the_library_and_nothing_else(wheel: Path) -> None:
    names = members(wheel)
    package = sorted(name for name in names if not name.startswith(DIST_INFO))
    sources = sorted(f"oidc_spa/{path.relative_to(PACKAGE).as_posix()}"
                     for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)
    assert package == sources  # every module, no stale or extra file, no bytecode
    assert {name for name in names if name.startswith(DIST_INFO)} >= {
        DIST_INFO + "METADATA", DIST_INFO + "WHEEL", DIST_INFO + "RECORD"}
    for name in names:
        assert not name.startswith(("devtools/", "app/", "boot/", "py/", "tests/", "public/",
                                    "jwt/")), name
        assert Path(name).name not in {"sample_page.py", "main.py", "pyscript.toml",
                                       "stdlib_fallback.py", "deferred_init.py"}, name
        assert not name.endswith((".pyc", ".mjs", ".json", ".toml")), name


def test_the_wheel_names_the_project_its_version_and_pyjwt(wheel: Path) -> None:
    meta = metadata(wheel)
    assert canonical(meta["Name"]) == "oidc-spa"
    assert meta["Version"] == VERSION
    assert meta["Requires-Python"] == ">=3.12"
    runtime = [req for req in meta.get_all("Requires-Dist") or [] if "extra ==" not in req]
    assert [req.replace(" ", "").lower() for req in runtime] == [f"pyjwt=={PYJWT_VERSION}"]


def test_two_builds_give_the_same_bytes(wheel: Path, tmp_path: Path) -> None:
    again = build_library_wheel(tmp_path)
    assert hashlib.sha256(again.read_bytes()).digest() == (
        hashlib.sha256(wheel.read_bytes()).digest())


def test_the_unpacked_wheel_is_the_package_python_imports(wheel: Path, tmp_path: Path) -> None:
    """What PyScript's [files] "./x.whl" = "./*" does: unzip into a folder on sys.path."""
    home = tmp_path / "home"
    for archive in (wheel, pyjwt_wheel(ROOT / ".cache" / "wheels")):
        with zipfile.ZipFile(archive) as source:
            source.extractall(home)
    script = (
        "import sys, importlib.metadata as m, oidc_spa\n"
        "assert 'oidc_spa.browser' not in sys.modules\n"
        "print(oidc_spa.__file__, m.version('oidc-spa'), m.requires('oidc-spa'))\n"
        "settings = oidc_spa.parse_settings("
        "'{\"issuer\": \"https://login.example\", \"clientId\": \"c\"}', 'https://a.example/')\n"
        "print(settings.redirect_uri)\n"
    )
    # -I: no site-packages, no PYTHONPATH, no current folder; only the unpacked wheels.
    command = [sys.executable, "-I", "-c", f"import sys; sys.path[:0] = [{str(home)!r}]\n"
               + script]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    location, version, requires = output.splitlines()[0].split(" ", 2)
    assert Path(location).is_relative_to(home)
    assert version == VERSION
    assert "2.15.1" in requires
    assert output.splitlines()[1] == "https://a.example/"


def test_importing_the_package_leaves_the_browser_shell_alone() -> None:
    """`oidc_spa.browser` imports `js`, which CPython does not have."""
    script = "import sys, oidc_spa; print('oidc_spa.browser' in sys.modules, 'js' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=ROOT / "py").stdout
    assert output.split() == ["False", "False"]


def test_all_is_the_whole_public_api() -> None:
    assert len(set(oidc_spa.__all__)) == len(oidc_spa.__all__)
    for name in oidc_spa.__all__:
        assert getattr(oidc_spa, name) is not None, name
    needed = {"Session", "StartResult", "SessionChange", "Settings", "parse_settings",
              "AuthError", "ConfigError", "SessionEndedError", "NotAuthenticatedError",
              "MESSAGES", "Storage", "MemoryStorage", "HttpResponse", "Http",
              "SignatureVerifier", "Lock", "LocalLock", "is_secure_url"}
    assert needed <= set(oidc_spa.__all__)
    errors = {name for name in dir(oidc_spa.errors) if name.endswith("Error")}
    assert errors <= set(oidc_spa.__all__)  # every failure an app may catch


def top_level_names(path: Path) -> tuple[list[str], set[str]]:
    """The module's __all__ and the names it defines or imports at the top level."""
    tree = ast.parse(path.read_text())
    exported: list[str] = []
    defined: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif (isinstance(node, ast.ImportFrom) and node.level == 1
              and node.module in ("browser_page", "browser_popup")):
            # The shell's other modules: what browser.py re-exports counts as its own.
            defined.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        defined.add(leaf.id)
                        if leaf.id == "__all__":
                            exported = ast.literal_eval(node.value)
    return exported, defined


def test_the_browser_shell_lists_its_public_names() -> None:
    exported, defined = top_level_names(PACKAGE / "browser.py")
    assert set(exported) <= defined
    assert {"create_session", "start_on_page", "keep_in_step", "page_storage", "WebLock",
            "BrowserHttp", "WebCryptoVerifier", "current_url", "navigate",
            "replace_url"} <= set(exported)
    public = {name for name in defined if not name.startswith("_") and name != "__all__"}
    internal = {"PROVIDER_UNREACHABLE", "SITE_FILE_UNREACHABLE", "TICK_SECONDS"}
    assert public - internal == set(exported)


def test_build_app_needs_both_wheels_in_the_apps_files(wheel: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "index.html").write_text("<!doctype html><title>x</title>")
    (app / "pyscript.toml").write_text(f'[files]\n"./{wheel.name}" = "./*"\n')
    out = tmp_path / "out"
    with pytest.raises(BuildError, match=r"does not unpack pyjwt-2\.15\.1-py3-none-any\.whl"):
        build_app(app, out, wheel)
    assert not out.exists()


def test_build_app_writes_a_servable_offline_app(wheel: Path, tmp_path: Path) -> None:
    config = {"issuer": "https://login.example", "clientId": "second"}
    out = build_app(SECOND_APP, tmp_path / "out", wheel, config)
    assert (out / wheel.name).read_bytes() == wheel.read_bytes()
    assert (out / f"pyjwt-{PYJWT_VERSION}-py3-none-any.whl").is_file()
    for name in ("vendor/pyscript/core.js", "vendor/pyodide/pyodide.mjs",
                 "vendor/pyodide/pyodide.asm.wasm", "main.py", "pyscript.toml"):
        assert (out / name).is_file(), name
    assert not (out / "python.zip").exists()
    assert not (out / "oidc_spa").exists()  # the library comes from the wheel only
    index = (out / "index.html").read_text()
    assert 'http-equiv="Content-Security-Policy"' in index
    assert "connect-src 'self' https://login.example" in index
