"""deferred_init on CPython, with the real PyJWT: each case in a fresh interpreter,
since this one may have imported jwt already."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devtools.paths import child_env

# The child finds boot/ through its PYTHONPATH (child_env: py/ first).
SETUP = ("import sys\n"
         "from boot import deferred_init\n"
         "deferred_init.install()\n")
JWKS_CHAIN = ("jwt.jwks_client", "urllib.request", "http.client", "email.parser")


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", SETUP + code], capture_output=True,
                            text=True, timeout=60, env=child_env())
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_submodules_does_not_run_the_package_init():
    out = run("from jwt.api_jwt import decode\n"
              "from jwt.api_jws import get_unverified_header\n"
              "import jwt\n"
              f"print([name for name in {JWKS_CHAIN!r} if name in sys.modules])\n"
              "print('PyJWKClient' in vars(jwt), jwt.api_jwt.decode is decode)")
    assert out.splitlines() == ["[]", "False True"]


def test_oidc_spa_reads_tokens_without_the_jwks_client():
    out = run("import oidc_spa.tokens\n"
              f"print([name for name in {JWKS_CHAIN!r} if name in sys.modules])")
    assert out == "[]"


def test_the_first_use_of_a_package_name_runs_the_init():
    out = run("from jwt.api_jwt import decode\n"
              "import jwt\n"
              "print(jwt.decode is decode, jwt.__version__ != '')\n"
              f"print(all(name in sys.modules for name in {JWKS_CHAIN!r}))\n"
              "from jwt import PyJWKClient, InvalidTokenError\n"
              "print(PyJWKClient.__module__, type(jwt.__loader__).__name__)\n"
              "print('__getattr__' in vars(jwt))")
    assert out.splitlines() == ["True True", "True", "jwt.jwks_client SourceFileLoader",
                                "False"]


def test_the_package_works_as_usual_after_the_init():
    out = run("import jwt\n"
              "token = jwt.encode({'sub': 'a'}, 'k' * 32, algorithm='HS256')\n"
              "print(jwt.decode(token, 'k' * 32, algorithms=['HS256']))\n"
              "print('PyJWKClient' in dir(jwt), 'PyJWKClient' in jwt.__all__)")
    assert out.splitlines() == ["{'sub': 'a'}", "True True"]


def test_dir_runs_the_init_too():
    assert run("import jwt.utils\nimport jwt\nprint('encode' in dir(jwt))") == "True"


def test_a_name_the_package_lacks_is_an_attribute_error():
    out = run("import jwt\n"
              "try:\n    jwt.no_such_name\n"
              "except AttributeError as error:\n    print(error)\n"
              "print(jwt.encode.__module__)")
    assert out.splitlines() == ["module 'jwt' has no attribute 'no_such_name'",
                                "jwt.api_jwt"]


def test_other_packages_and_plain_modules_are_left_alone():
    out = run("import json, email\n"
              "from boot.deferred_init import DeferredInitFinder\n"
              "sys.meta_path.insert(0, DeferredInitFinder(['json.decoder', 'calendar']))\n"
              "import calendar\n"
              "print('__getattr__' in vars(email), hasattr(calendar, 'month_name'),"
              " type(calendar.__loader__).__name__)")
    assert out == "False True SourceFileLoader"


# A package shaped like PyScript's: its __init__ re-exports a function named like its
# submodule, and registers a module of its own in sys.modules.
FAKE_PACKAGE = {
    "__init__.py": "import sys, types\n"
                   "from fakepkg.fetch import fetch\n"
                   "registered = types.ModuleType('fakepkg.registered')\n"
                   "registered.VALUE = 42\n"
                   "sys.modules['fakepkg.registered'] = registered\n"
                   "INIT_RAN = True\n",
    "fetch.py": "def fetch():\n    return 'fetched'\n",
    "plain.py": "PLAIN = True\n",
}


def run_with_fake_package(tmp_path: Path, code: str, init: str | None = None) -> str:
    package = tmp_path / "fakepkg"
    package.mkdir()
    for name, source in FAKE_PACKAGE.items():
        (package / name).write_text(init if init and name == "__init__.py" else source)
    return run(f"sys.path.insert(0, {str(tmp_path)!r})\n"
               "sys.meta_path.insert(0, deferred_init.DeferredInitFinder(['fakepkg']))\n"
               + code)


def test_a_submodule_import_leaves_the_init_for_later(tmp_path: Path):
    out = run_with_fake_package(tmp_path, "import fakepkg.plain\nimport fakepkg\n"
                                "print('INIT_RAN' in vars(fakepkg), fakepkg.plain.PLAIN)")
    assert out == "False True"


def test_a_name_shadowing_a_submodule_is_what_the_init_binds(tmp_path: Path):
    out = run_with_fake_package(tmp_path, "import fakepkg\nfrom fakepkg import fetch\n"
                                "print(fetch(), fakepkg.INIT_RAN)")
    assert out == "fetched True"


def test_a_module_the_init_registers_still_imports(tmp_path: Path):
    out = run_with_fake_package(tmp_path, "import fakepkg\n"
                                "from fakepkg.registered import VALUE\n"
                                "print(VALUE, sys.modules['fakepkg.registered'].VALUE)")
    assert out == "42 42"


def test_a_submodule_that_exists_nowhere_is_still_an_import_error(tmp_path: Path):
    out = run_with_fake_package(tmp_path, "import fakepkg\n"
                                "try:\n    import fakepkg.missing\n"
                                "except ModuleNotFoundError as error:\n    print(error.name)\n"
                                "print(fakepkg.INIT_RAN)")
    assert out.splitlines() == ["fakepkg.missing", "True"]


def test_an_init_that_fails_fails_at_first_use_like_an_import(tmp_path: Path):
    out = run_with_fake_package(tmp_path, "import fakepkg\n"
                                "try:\n    fakepkg.anything\n"
                                "except ZeroDivisionError:\n    print('raised')\n"
                                "print('fakepkg' in sys.modules)",
                                init="1 / 0\n")
    assert out.splitlines() == ["raised", "False"]
