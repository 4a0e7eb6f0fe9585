"""The fast build (precompiled Python) and the plain build (sources, stock Pyodide) are
the same page: the same states, profile, reload and logout."""

from __future__ import annotations

import gzip
import re

import pytest
from helpers import close_tab, log_in, open_app, start_login, stored_items, wait_for_state

pytestmark = pytest.mark.e2e


def walk_through(page, url: str) -> dict:
    """Log in, reload, log out: what the page showed at each step."""
    seen = {}
    open_app(page, url)
    seen["anonymous buttons"] = (page.is_visible(".btn-login"), page.is_visible(".btn-logout"))
    log_in(page, "alice", "alice-demo")
    seen["profile"] = page.text_content(".full-profile")
    seen["nickname"] = page.text_content(".nickname")
    page.reload()
    wait_for_state(page, "authenticated")
    seen["after reload"] = page.text_content(".nickname")
    # The page shows "anonymous" before it leaves for the provider's end_session: wait for
    # that navigation, or the next read may land in the page being left.
    with page.expect_navigation():
        page.click(".btn-logout")
    page.wait_for_url(url)
    wait_for_state(page, "anonymous")
    seen["stored after logout"] = [k for k in stored_items(page) if k.startswith("oidc_spa:")]
    return seen


def test_fast_and_plain_builds_behave_the_same(page, site, browser_context):
    fast = walk_through(page, site.url)
    browser_context.clear_cookies()
    other = browser_context.new_page()
    plain = walk_through(other, site.plain_url)
    close_tab(other)
    assert fast == plain
    assert fast["nickname"] == "ali" and fast["stored after logout"] == []


def test_fast_build_ships_bytecode_and_no_sources(page, site):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    open_app(page, site.url)
    assert any(url.endswith("python_stdlib_bytecode.zip.gz") for url in requests)
    assert not any(url.endswith(("python.zip", "python_stdlib.zip")) for url in requests)


def test_every_hinted_file_is_fetched_once(page, site):
    """A preload whose request does not match the page's own (mode, credentials) would
    be fetched twice: the hints would cost bytes instead of saving time."""
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    open_app(page, site.url)
    html = page.content()
    hinted = re.findall(r'<link rel="(?:module)?preload" href="\./([^"]+)"', html)
    # The first lane's boot module, runtime and Python, the settings; nothing of
    # PyScript's or Pyodide's, which start later.
    assert hinted == ["first_lane.mjs", "vendor/micropython/micropython.mjs",
                      "vendor/micropython/micropython.wasm", "first_lane.json",
                      "auth_config.json"]
    for path in hinted:
        # Each lane reads the settings once; the full lane's read is not a hint's.
        expected = 2 if path == "auth_config.json" else 1
        assert requests.count(site.url + path) == expected, (path, requests)
    # PyScript's configs are in the page: no config file is fetched.
    assert not [url for url in requests if url.endswith((".toml", "/toml.js"))]


# Runs Python in the page's own interpreter (PyScript's handle on it).
RUN_PYTHON = """async (code) => {
  const core = await import(new URL("./vendor/pyscript/core.js", location.href).href);
  const py = await core.whenDefined("py");
  return py.interpreter.runPython(code);
}"""


def run_python_after_start(page, url: str, code: str) -> tuple[object, list[str]]:
    """Open the page, then run `code` in its interpreter: the result, and the URLs
    requested meanwhile."""
    open_app(page, url)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    return page.evaluate(RUN_PYTHON, code), requests


@pytest.mark.full_stdlib
def test_a_module_the_trim_left_out_imports_from_the_full_stdlib(page, site):
    written, requests = run_python_after_start(page, site.url, "import csv, io\n"
                                               "out = io.StringIO()\n"
                                               "csv.writer(out).writerow(['a', 'b c'])\n"
                                               "out.getvalue()")
    assert written == "a,b c\r\n"
    assert [url for url in requests if url.endswith("python_stdlib.zip")] == [
        site.url + "vendor/pyodide/python_stdlib.zip"]
    # Compiled without docstrings, like the precompiled modules it meets.
    origin = page.evaluate(RUN_PYTHON, "import csv\nf'{csv.__file__} {csv.__doc__}'")
    assert origin == "/lib/python_stdlib_full.zip/csv.py None"


def test_the_page_never_runs_pyjwts_or_pyscripts_package_init(page, site):
    """PyJWT's JWKS client (urllib/http/email) and PyScript's API were half the page's
    import time; their packages' __init__ runs on first use (boot/deferred_init.py)."""
    open_app(page, site.url)
    loaded = page.evaluate(RUN_PYTHON, "import sys\n"
                           "[name for name in ('jwt.api_jwt', 'jwt.jwks_client', "
                           "'urllib.request', 'http.client', 'email', 'pyscript', "
                           "'pyscript.display', 'pyscript.storage') if name in sys.modules]")
    assert loaded == ["jwt.api_jwt", "pyscript"]


def test_pyscripts_api_works_when_first_used(page, site):
    used, _ = run_python_after_start(
        page, site.url, "import sys, pyscript.js_modules\n"
        "registered = 'pyscript.js_modules' in sys.modules\n"
        "from pyscript import display, document, window, config\n"
        "display('shown by pyscript', target='auth-error', append=False)\n"
        "[registered, callable(display), document.title == window.document.title, "
        "type(config).__name__]")
    assert used == [True, True, True, "dict"]
    assert page.text_content("#auth-error") == "shown by pyscript"


@pytest.mark.full_stdlib
def test_pyjwt_used_the_usual_way_still_works_in_the_page(page, site):
    """The first use of a `jwt` name runs its __init__; what that imports and the trim
    left out comes from the full standard library."""
    out, requests = run_python_after_start(
        page, site.url, "import jwt\n"
        "token = jwt.encode({'sub': 'a'}, 'k' * 32, algorithm='HS256')\n"
        "[jwt.decode(token, 'k' * 32, algorithms=['HS256'])['sub'], jwt.PyJWKClient.__name__]")
    assert out == ["a", "PyJWKClient"]
    assert site.url + "vendor/pyodide/python_stdlib.zip" in requests


def test_a_host_that_decodes_the_gzipped_zips_still_starts_the_page(page, site):
    """Fault injection: a host that sends the .gz files with Content-Encoding: gzip, so
    the browser hands the page the zips themselves."""
    served = []

    def decoded(route):
        response = route.fetch()
        served.append(route.request.url)
        route.fulfill(response=response, body=gzip.decompress(response.body()))

    page.route("**/*.zip.gz", decoded)
    open_app(page, site.url)
    assert sorted(url.rsplit("/", 1)[1] for url in served) == [
        "python_app_bytecode.zip.gz", "python_stdlib_bytecode.zip.gz"]


def test_precompiled_modules_keep_line_numbers_but_not_columns(page, site):
    """Columns only underline source lines, which the fast build does not ship."""
    open_app(page, site.url)
    checked = page.evaluate(RUN_PYTHON, "import json, traceback\n"
                            "code = json.JSONDecoder.raw_decode.__code__\n"
                            "positions = list(code.co_positions())\n"
                            "try:\n    json.loads('{')\n"
                            "except ValueError as error:\n"
                            "    text = ''.join(traceback.format_exception(error))\n"
                            "[all(p[2] is None for p in positions), any(p[0] for p in positions),"
                            " text]")
    no_columns, has_lines, text = checked
    assert no_columns and has_lines
    assert re.search(r'json/decoder\.py", line \d+, in raw_decode', text), text


def test_a_module_that_exists_nowhere_fails_without_a_download(page, site):
    outcome, requests = run_python_after_start(
        page, site.url, "try:\n    import _winapi\n"
        "except ImportError as error:\n    outcome = type(error).__name__\n"
        "outcome")
    assert outcome == "ModuleNotFoundError"
    assert not any(url.endswith("python_stdlib.zip") for url in requests)


def test_two_loads_never_make_the_same_login_secrets(page, site):
    """state, nonce and the PKCE verifier come fresh from the browser's random source."""
    seen = set()
    for _ in range(2):
        open_app(page, site.url)
        query = start_login(page)
        seen.add((query["state"], query["nonce"], query["code_challenge"]))
    assert len(seen) == 2


# Counts the page's calls of WebAssembly.promising (the entry to JSPI's switched stacks)
# and notes whether WebAssembly.Suspending was missing at any point.
WATCH_STACK_SWITCHING = """
window.__promising_calls = 0;
const promising = WebAssembly.promising;
if (promising) {
  WebAssembly.promising = function (...args) {
    window.__promising_calls += 1;
    return promising.apply(this, args);
  };
}
"""


@pytest.mark.parametrize("build", ["fast", "plain"])
def test_pyodide_runs_without_stack_switching(page, site, build):
    """Chromium 156 crashes a tab now and then while Pyodide runs Python on a switched
    stack (JSPI; boot/pyodide_without_jspi.mjs): the page boots Pyodide without it, and
    the browser's WebAssembly.Suspending is back once Pyodide is up."""
    if not page.evaluate("'Suspending' in WebAssembly && 'promising' in WebAssembly"):
        pytest.skip("this browser has no JSPI: nothing to turn off")
    page.add_init_script(WATCH_STACK_SWITCHING)
    url = site.url if build == "fast" else site.plain_url
    open_app(page, url)
    log_in(page, "alice", "alice-demo")  # Python called from JS: clicks, the callback
    assert page.evaluate("window.__promising_calls") == 0
    assert page.evaluate("'Suspending' in WebAssembly")
