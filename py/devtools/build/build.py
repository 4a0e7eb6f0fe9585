"""Build the deployable static site (GitHub Pages) into one folder.

    python -m devtools.build.build [--out _site] [--auth-config FILE.json]

The site needs nothing from a CDN at run time: PyScript and Pyodide are
vendored from node_modules, and the Python code (oidc_spa + PyJWT) ships as
one python.zip that pyscript.toml unpacks into the interpreter's home folder.

An app of your own (a folder with index.html, pyscript.toml and its Python) that
uses the library's wheel, built by `python -m pip wheel . --no-deps -w dist/`:

    python -m devtools.build.build --app DIR --wheel dist/oidc_spa-0.1.0-py3-none-any.whl \
        [--out _app] [--auth-config FILE.json]

copies the folder, vendors the same runtime and puts both wheels (oidc_spa's and
PyJWT's) beside index.html, for the app's pyscript.toml to unpack with [files].
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Sequence
from pathlib import Path

from devtools.build.bytecode import (
    APP_ZIP_MOUNT,
    BOOT_ZIP_MOUNT,
    BytecodeError,
    compile_bytecode_zips,
)
from devtools.build.csp import (
    MARKER,
    PolicyError,
    content_security_policy,
    discovered_origins,
    insert_policy,
)
from devtools.build.first_lane_bundle import BundleError, first_lane_bundle
from devtools.build.first_lane_snapshot import SnapshotError, first_lane_snapshot
from devtools.build.inline_config import InlineConfigError, inline_configs
from devtools.build.inline_style import InlineStyleError, inline_stylesheets, style_hashes
from devtools.build.preload import (
    PreloadError,
    add_compile_hint,
    add_compile_hints,
    fast_page_hints,
    first_lane_hints,
    insert_hints,
)
from devtools.paths import BOOT, ROOT

PYJWT_VERSION = "2.15.1"
PYJWT_WHEEL = f"pyjwt-{PYJWT_VERSION}-py3-none-any.whl"
# Pinned so a tampered or re-uploaded wheel fails the build instead of shipping.
PYJWT_SHA256 = "42d59d631f7768a1028a64c7ff581a9bf7519804daf91fc5b6c56e30eec5e193"

# The files loadPyodide() fetches from its indexURL when no packages are loaded.
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
PYSCRIPT_ENTRY = ("core.js", "core.css")

# The fast path: PyScript loads this module as its interpreter; it starts the vendored
# Pyodide with the precompiled standard library (see devtools/build/bytecode.py).
BYTECODE_ZIP = "python_stdlib_bytecode.zip.gz"
APP_BYTECODE_ZIP = "python_app_bytecode.zip.gz"
# Pyodide's own standard-library slot on the fast build: an empty zip (the boot zip is
# mounted beside it, see fast_interpreter.mjs).
EMPTY_STDLIB_ZIP = "python_stdlib_empty.zip"
FAST_INTERPRETER = "pyodide-fast.mjs"
FAST_INTERPRETER_SOURCE = BOOT / "fast_interpreter.mjs"
# Stock Pyodide without WebAssembly stack switching (see the file): what the plain build,
# apps on the wheel and the fast interpreter load Pyodide through.
NO_JSPI_INTERPRETER = "pyodide-no-jspi.mjs"
NO_JSPI_INTERPRETER_SOURCE = BOOT / "pyodide_without_jspi.mjs"
PLAIN_PYSCRIPT_TOML = """# Written by devtools.build.build --plain: stock Pyodide, Python sources.
interpreter = "./vendor/pyodide/pyodide-no-jspi.mjs"
plugins = ["!codemirror", "!deprecations-manager", "!donkey", "!error", "!py-editor",
           "!py-game", "!py-terminal"]

[files]
# Unpacked into the interpreter's home folder, which is on sys.path.
"./python.zip" = "./*"
"""

# The first lane (MicroPython, see py/app/first_lane.py): its runtime, its boot module and
# its Python in one file ({"main": first_lane.py, "files": {path: source}}).
MICROPYTHON_FILES = ("micropython.mjs", "micropython.wasm")
FIRST_LANE_BOOT = "first_lane.mjs"
FIRST_LANE_BOOT_SOURCE = BOOT / "first_lane_boot.mjs"
FIRST_LANE_BUNDLE = "first_lane.json"
# What the boot imports (first_lane_boot.mjs LANE_MODULE); the snapshot is of its import.
FIRST_LANE_MODULE = "first_lane"

# Zip entries get this date so two builds of the same sources are byte-identical.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# Relative URLs ("./x.js", "./x.css") in the bundled dist files: imports and stylesheets.
_DIST_REFERENCE = re.compile(r"""["'](\./[\w.-]+\.(?:js|css))["']""")
# The trailing source map comment; the .map files are not shipped.
_SOURCE_MAP = re.compile(rb"\n?//# sourceMappingURL=\S+\s*$")


class BuildError(Exception):
    """A build precondition failed; the message says how to fix it."""


def read_npm_pins(root: Path) -> dict[str, str]:
    """The exact versions package.json pins for the vendored runtime."""
    return json.loads((root / "package.json").read_text())["dependencies"]


def check_node_modules(node_modules: Path, pins: dict[str, str]) -> None:
    """Fail clearly when node_modules is missing or holds other versions."""
    for name, wanted in pins.items():
        manifest = node_modules / name / "package.json"
        if not manifest.is_file():
            raise BuildError(f"{manifest} not found: run scripts/setup to install {name}@{wanted}")
        found = json.loads(manifest.read_text()).get("version")
        if found != wanted:
            raise BuildError(
                f"{name} is {found} in {node_modules} but package.json pins {wanted}: "
                "run scripts/setup"
            )


def pyscript_runtime_files(dist: Path) -> list[str]:
    """core.js, core.css and every file core.js can reach: chunks and stylesheets."""
    needed: set[str] = set()
    todo = list(PYSCRIPT_ENTRY)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        path = dist / name
        if not path.is_file():
            raise BuildError(f"{path} not found: run scripts/setup")
        needed.add(name)
        if name.endswith(".js"):
            todo += [spec[2:] for spec in _DIST_REFERENCE.findall(path.read_text())]
    return sorted(needed)


def copy_without_source_map(src: Path, dst: Path) -> None:
    """Copy a JS file minus its sourceMappingURL comment (so devtools asks for no .map)."""
    data = src.read_bytes()
    if src.suffix in {".js", ".mjs"}:
        data = _SOURCE_MAP.sub(b"\n", data)
    dst.write_bytes(data)


def vendor_runtime(node_modules: Path, out: Path) -> None:
    """Copy the PyScript and Pyodide files the page loads into out/vendor/."""
    dist = node_modules / "@pyscript" / "core" / "dist"
    target = out / "vendor" / "pyscript"
    target.mkdir(parents=True)
    for name in pyscript_runtime_files(dist):
        copy_without_source_map(dist / name, target / name)
    target = out / "vendor" / "pyodide"
    target.mkdir(parents=True)
    for name in PYODIDE_FILES:
        source = node_modules / "pyodide" / name
        if not source.is_file():
            raise BuildError(f"{source} not found: run scripts/setup")
        copy_without_source_map(source, target / name)
    shutil.copy2(NO_JSPI_INTERPRETER_SOURCE, target / NO_JSPI_INTERPRETER)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pyjwt_wheel(cache: Path) -> Path:
    """The pinned PyJWT wheel, downloaded once with pip and checked by hash."""
    wheel = cache / PYJWT_WHEEL
    if not wheel.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", f"PyJWT=={PYJWT_VERSION}"]
        command += ["--no-deps", "--only-binary=:all:", "--disable-pip-version-check"]
        subprocess.run([*command, "-d", str(cache)], check=True)
    digest = sha256_of(wheel)
    if digest != PYJWT_SHA256:
        raise BuildError(
            f"{wheel} has sha256 {digest}, expected {PYJWT_SHA256}: "
            "delete it and check where pip downloads from"
        )
    return wheel


def add_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    """Write one file with fixed date and mode, so the zip is reproducible."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data, compresslevel=9)


def wheel_members(wheel: Path) -> dict[str, bytes]:
    """The jwt/ package and the license files from the wheel."""
    with zipfile.ZipFile(wheel) as source:
        return {
            name: source.read(name)
            for name in source.namelist()
            if name.startswith("jwt/") or "/licenses/" in name
        }


def package_members(package: Path) -> dict[str, bytes]:
    """Every .py file of the package, keyed by its path inside the zip."""
    if not package.is_dir():
        raise BuildError(f"{package} not found: the site needs the oidc_spa package")
    base = package.parent
    return {
        path.relative_to(base).as_posix(): path.read_bytes()
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    }


def write_python_zip(target: Path, package: Path, wheel: Path,
                     page_modules: Sequence[Path]) -> None:
    """The full lane's Python as sources: oidc_spa, PyJWT's jwt, the sample page's modules."""
    members = package_members(package) | wheel_members(wheel)
    for page_module in page_modules:
        if not page_module.is_file():
            raise BuildError(f"{page_module} not found")
        members[page_module.name] = page_module.read_bytes()
    with zipfile.ZipFile(target, "w") as archive:
        for name in sorted(members):
            add_entry(archive, name, members[name])


def first_lane_files(root: Path) -> dict[str, Path]:
    """What MicroPython gets in its file system, by path there: the portable rules
    (oidc_spa/__init__.py skips the rest on MicroPython) and the page's shared text."""
    py = root / "py"
    files = {"oidc_spa/__init__.py": py / "oidc_spa" / "__init__.py"}
    for path in sorted((py / "oidc_spa" / "portable").glob("*.py")):
        files[f"oidc_spa/portable/{path.name}"] = path
    files["page_text.py"] = py / "app" / "page_text.py"
    return files


def write_first_lane(out: Path, root: Path, node_modules: Path) -> None:
    """The first lane: MicroPython vendored, its boot module, and first_lane.json, the
    lane's Python (first_lane.py and the modules it imports) compiled and in one file."""
    source = node_modules / "@micropython" / "micropython-webassembly-pyscript"
    target = out / "vendor" / "micropython"
    target.mkdir(parents=True)
    for name in MICROPYTHON_FILES:
        if not (source / name).is_file():
            raise BuildError(f"{source / name} not found: run scripts/setup")
        copy_without_source_map(source / name, target / name)
    add_compile_hint(target / "micropython.mjs")  # compiled while it loads (preload.py)
    boot = FIRST_LANE_BOOT_SOURCE.read_text()
    if f'"./{FIRST_LANE_BUNDLE}"' not in boot:
        raise BuildError(f"{FIRST_LANE_BOOT_SOURCE} does not read {FIRST_LANE_BUNDLE}")
    (out / FIRST_LANE_BOOT).write_text(boot)
    add_compile_hint(out / FIRST_LANE_BOOT)
    modules = {"first_lane.py": root / "py" / "app" / "first_lane.py", **first_lane_files(root)}
    version = read_npm_pins(root)["@micropython/micropython-webassembly-pyscript"]
    try:
        bundle = first_lane_bundle(modules, version)
    except BundleError as error:
        raise BuildError(str(error)) from None
    bundle_path = out / FIRST_LANE_BUNDLE
    bundle_path.write_text(json.dumps(bundle, sort_keys=True) + "\n")
    try:
        bundle["snapshot"] = first_lane_snapshot(target / "micropython.mjs", bundle_path,
                                                 FIRST_LANE_MODULE)
    except SnapshotError as error:
        raise BuildError(str(error)) from None
    bundle_path.write_text(json.dumps(bundle, sort_keys=True) + "\n")


def clear_output(out: Path, root: Path) -> None:
    """Empty out/, refusing paths whose removal would delete sources."""
    sources = [root / name for name in ("public", "py", "node_modules")]
    if root.is_relative_to(out) or any(out.is_relative_to(path) for path in sources):
        raise BuildError(f"refusing to clear {out}: choose a dedicated output folder")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)


def copy_site_sources(root: Path, out: Path) -> None:
    """public/ as is, plus the page's config and entry script (py/app/main.py) at the
    top level."""
    public = root / "public"
    if not (public / "index.html").is_file():
        raise BuildError(f"{public / 'index.html'} not found")
    shutil.copytree(public, out, dirs_exist_ok=True)
    for source in (root / "pyscript.toml", root / "py" / "app" / "main.py"):
        if not source.is_file():
            raise BuildError(f"{source} not found")
        if (public / source.name).exists():
            raise BuildError(f"public/{source.name} would shadow {source}: remove one")
        shutil.copy2(source, out / source.name)


def write_policy(out: Path, auth_config: dict | None, extra_origins: Sequence[str],
                 discover: bool = True) -> None:
    """Put the Content-Security-Policy for these settings into the built index.html.

    With `discover`, the provider's discovery document is read (briefly) for the
    origins of its endpoints; what the build found or could not find goes to stderr."""
    if auth_config is None and (out / "auth_config.json").is_file():
        auth_config = json.loads((out / "auth_config.json").read_text())
    index = out / "index.html"
    try:
        found = discovered_origins(auth_config, read=discover)
        if found.note:
            print(f"build: {found.note}", file=sys.stderr)
        page = index.read_text()
        policy = content_security_policy(auth_config, extra_origins, found.origins,
                                         style_hashes(page))
        index.write_text(insert_policy(page, policy))
    except PolicyError as error:
        raise BuildError(str(error)) from None


def make_fast(out: Path, root: Path, node_modules: Path, cache: Path) -> None:
    """Swap the sources for precompiled zips: one replaces Pyodide's standard library,
    the other (the page's code and what only it imports) is mounted after start-up."""
    pyodide = out / "vendor" / "pyodide"
    try:
        compile_bytecode_zips(
            pyodide_dir=node_modules / "pyodide",
            pyscript_python=node_modules / "@pyscript" / "core" / "src" / "stdlib" / "pyscript",
            app_zip=out / "python.zip",
            boot_out=pyodide / BYTECODE_ZIP,
            app_out=pyodide / APP_BYTECODE_ZIP,
            cache=cache,
        )
    except BytecodeError as error:
        raise BuildError(str(error)) from None
    source = FAST_INTERPRETER_SOURCE.read_text()
    with zipfile.ZipFile(pyodide / EMPTY_STDLIB_ZIP, "w"):
        pass
    for name in (BYTECODE_ZIP, APP_BYTECODE_ZIP, EMPTY_STDLIB_ZIP, BOOT_ZIP_MOUNT,
                 APP_ZIP_MOUNT):
        if f'"{name}"' not in source:
            raise BuildError(f"{FAST_INTERPRETER_SOURCE} does not use {name}")
    (pyodide / FAST_INTERPRETER).write_text(source)
    add_compile_hints(pyodide)
    # Everything it held is in the bytecode zip now. The stock python_stdlib.zip
    # stays: stdlib_fallback fetches it if code imports a module the trim left out.
    (out / "python.zip").unlink()


def write_preload_hints(out: Path, plain: bool, root: Path) -> None:
    """The fast page names its start-up files in index.html (see devtools/build/preload.py)."""
    index = out / "index.html"
    try:
        # The two-lane page (public/index.html running first_lane.mjs) gets the first
        # lane's hints; the Pyodide-only page, Pyodide's chain.
        two_lanes = f'src="./{FIRST_LANE_BOOT}"' in index.read_text()
        if plain:
            hints = ""
        elif two_lanes:
            hints = first_lane_hints(out, FIRST_LANE_BOOT, FIRST_LANE_BUNDLE)
        else:
            hints = fast_page_hints(out, FAST_INTERPRETER, BYTECODE_ZIP)
    except PreloadError as error:
        raise BuildError(str(error)) from None
    index.write_text(insert_hints(index.read_text(), hints))


def make_plain(out: Path) -> None:
    """PyScript config for the plain path: stock Pyodide, sources unpacked from python.zip."""
    (out / "pyscript.toml").write_text(PLAIN_PYSCRIPT_TOML)


def build_site(
    out: Path,
    auth_config: dict | None = None,
    *,
    plain: bool = False,
    extra_origins: Sequence[str] = (),
    discover: bool = True,
    root: Path = ROOT,
    node_modules: Path | None = None,
    wheel_cache: Path | None = None,
) -> Path:
    """Write the static site into out (cleared first) and return out.

    `discover`: read the provider's discovery document for the Content-Security-Policy
    (its endpoints' origins); off, or when it cannot be reached, the issuer's origin."""
    root = root.resolve()
    out = Path(out).resolve()
    node_modules = (node_modules or root / "node_modules").resolve()
    # Check every input before touching out/, so a failed build leaves it alone.
    check_node_modules(node_modules, read_npm_pins(root))
    wheel = pyjwt_wheel(wheel_cache or root / ".cache" / "wheels")
    clear_output(out, root)
    copy_site_sources(root, out)
    app = root / "py" / "app"
    write_python_zip(out / "python.zip", root / "py" / "oidc_spa", wheel,
                     [app / "sample_page.py", app / "page_text.py"])
    vendor_runtime(node_modules, out)
    write_first_lane(out, root, node_modules)
    if plain:
        make_plain(out)
    else:
        make_fast(out, root, node_modules, root / ".cache" / "bytecode")
    if auth_config is not None:
        # Deploy-time settings replace the placeholder that public/ may carry.
        text = json.dumps(auth_config, indent=2, sort_keys=True) + "\n"
        (out / "auth_config.json").write_text(text)
    index = out / "index.html"
    try:
        index.write_text(inline_stylesheets(index.read_text(), out))
    except InlineStyleError as error:
        raise BuildError(str(error)) from None
    write_policy(out, auth_config, extra_origins, discover)
    write_preload_hints(out, plain, root)
    try:
        index.write_text(inline_configs(index.read_text(), out))
    except InlineConfigError as error:
        raise BuildError(str(error)) from None
    return out


# The documented command that builds the library's wheel, run from the repository root.
WHEEL_COMMAND = ("python", "-m", "pip", "wheel", ".", "--no-deps", "-w", "dist/")


def library_wheel_name(root: Path = ROOT) -> str:
    """oidc_spa-<version>-py3-none-any.whl, the version pyproject.toml gives."""
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    return f"oidc_spa-{version}-py3-none-any.whl"


def build_library_wheel(dist: Path, root: Path = ROOT) -> Path:
    """Run WHEEL_COMMAND (with this Python, into `dist`); return the wheel's path."""
    dist = Path(dist).resolve()
    command = [sys.executable, *WHEEL_COMMAND[1:-1], str(dist)]
    subprocess.run([*command, "--quiet", "--disable-pip-version-check"], cwd=root, check=True)
    wheel = dist / library_wheel_name(root)
    if not wheel.is_file():
        raise BuildError(f"{' '.join(WHEEL_COMMAND)} did not write {wheel.name}")
    return wheel


def build_app(
    app_dir: Path,
    out: Path,
    library_wheel: Path,
    auth_config: dict | None = None,
    *,
    extra_origins: Sequence[str] = (),
    discover: bool = True,
    root: Path = ROOT,
    node_modules: Path | None = None,
    wheel_cache: Path | None = None,
) -> Path:
    """Write a PyScript app that uses the oidc_spa wheel into out (cleared first).

    app_dir holds the app as it is served: index.html, pyscript.toml, its Python. Beside
    them go the vendored PyScript and Pyodide (vendor/), `library_wheel` and PyJWT's
    pinned wheel, which the app's pyscript.toml unpacks with [files] ("./NAME.whl" =
    "./*"): it must name both, checked here so that a version bump fails the build, not
    the page. The Content-Security-Policy goes where index.html has the marker, if it has.
    """
    app_dir, out, root = Path(app_dir).resolve(), Path(out).resolve(), root.resolve()
    library_wheel = Path(library_wheel).resolve()
    node_modules = (node_modules or root / "node_modules").resolve()
    check_node_modules(node_modules, read_npm_pins(root))
    wheels = [library_wheel, pyjwt_wheel(wheel_cache or root / ".cache" / "wheels")]
    for needed in (app_dir / "index.html", app_dir / "pyscript.toml", library_wheel):
        if not needed.is_file():
            raise BuildError(f"{needed} not found")
    config = (app_dir / "pyscript.toml").read_text()
    for wheel in wheels:
        if f'"./{wheel.name}"' not in config:
            raise BuildError(f'{app_dir / "pyscript.toml"} does not unpack {wheel.name}: add '
                             f'"./{wheel.name}" = "./*" to its [files]')
    if out.is_relative_to(app_dir) or app_dir.is_relative_to(out):
        raise BuildError(f"refusing to build {app_dir} into {out}: choose another folder")
    clear_output(out, root)
    shutil.copytree(app_dir, out, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for wheel in wheels:
        shutil.copy2(wheel, out / wheel.name)
    vendor_runtime(node_modules, out)
    if auth_config is not None:
        text = json.dumps(auth_config, indent=2, sort_keys=True) + "\n"
        (out / "auth_config.json").write_text(text)
    if MARKER in (out / "index.html").read_text():
        write_policy(out, auth_config, extra_origins, discover)
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        help="output folder (default: _site, with --app: _app)")
    parser.add_argument("--auth-config", type=Path, help="JSON file written as auth_config.json")
    parser.add_argument("--node-modules", type=Path, help="where the npm runtime is installed")
    parser.add_argument(
        "--plain", action="store_true",
        help="ship Python sources and stock Pyodide (slower start; for comparison)",
    )
    parser.add_argument("--app", type=Path,
                        help="build this app folder (index.html, pyscript.toml, Python) "
                        "with the library's wheel instead of the sample site")
    parser.add_argument("--wheel", type=Path,
                        help="with --app: the oidc_spa wheel (python -m pip wheel . "
                        "--no-deps -w dist/)")
    parser.add_argument(
        "--extra-origin", action="append", default=[],
        help="another origin the page may fetch from (a provider whose endpoints live on "
        "hosts other than its issuer's; \"cspOrigins\" in auth_config.json does the same); "
        "repeatable",
    )
    parser.add_argument(
        "--no-discovery", action="store_true",
        help="do not read the provider's discovery document for the Content-Security-Policy "
        "(by default the build reads it, for a few seconds at most, and allows every origin "
        "its endpoints are on)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = json.loads(args.auth_config.read_text()) if args.auth_config else None
    try:
        if args.app is not None:
            if args.wheel is None:
                raise BuildError("--app needs --wheel: build it with "
                                 "python -m pip wheel . --no-deps -w dist/")
            out = build_app(args.app, args.out or ROOT / "_app", args.wheel, config,
                            extra_origins=args.extra_origin, node_modules=args.node_modules,
                            discover=not args.no_discovery)
        else:
            out = build_site(
                args.out or ROOT / "_site", config, plain=args.plain,
                extra_origins=args.extra_origin, node_modules=args.node_modules,
                discover=not args.no_discovery,
            )
    except BuildError as error:
        print(f"build: error: {error}", file=sys.stderr)
        return 1
    print(f"build: {'app' if args.app is not None else 'site'} written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
