// The fast build's interpreter module (copied by py/devtools/build.py as
// vendor/pyodide/pyodide-fast.mjs). PyScript loads it as its `interpreter`; it
// boots the vendored Pyodide with the precompiled standard library.
//
// index.html also runs it as a module script before PyScript's own, so Pyodide
// downloads and boots while PyScript's JavaScript loads and reads its config.
// PyScript's loadPyodide() call then gets that same interpreter.
//
// Two zips of bytecode: the boot zip (what Pyodide imports to start) replaces the
// standard library; the app zip (PyScript's package, PyJWT, oidc_spa, the page)
// is requested once the WebAssembly module is in, so that on a slow link it
// downloads while Pyodide boots, and is mounted before PyScript runs any Python.
export * from "./pyodide.mjs";
import { loadPyodide as loadStockPyodide } from "./pyodide.mjs";

const STDLIB_ZIP = "python_stdlib_bytecode.zip";
const APP_ZIP = "python_app_bytecode.zip";
const APP_ZIP_PATH = "/lib/python_app.zip"; // as compiled in (devtools/bytecode.py)
// What PyScript passes; anything else (packages, a lock file) needs a fresh boot.
const ACCEPTED_OPTIONS = new Set(["indexURL", "stdout", "stderr"]);

// Python's output goes to the console until PyScript hands over its own handlers.
const output = {
  stdout: (text) => console.log(text),
  stderr: (text) => console.error(text),
};

// Pyodide's full standard library, for a module the trimmed one left out. An
// import cannot wait for a promise, hence a synchronous request; the page itself
// never needs it (the e2e suite checks that).
function readFullStdlib() {
  const url = new URL("./python_stdlib.zip", import.meta.url).href;
  const request = new XMLHttpRequest();
  request.open("GET", url, false);
  request.overrideMimeType("text/plain; charset=x-user-defined"); // bytes as chars
  request.send();
  if (request.status !== 200) throw new Error(`${url}: HTTP ${request.status}`);
  const text = request.responseText;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function boot() {
  let appZip;
  const pyodide = await loadStockPyodide({
    stdLibURL: new URL(`./${STDLIB_ZIP}`, import.meta.url).href,
    stdout: (text) => output.stdout(text),
    stderr: (text) => output.stderr(text),
    // Called once the WebAssembly module is instantiated, before Python starts.
    fsInit: () => {
      appZip = fetchBytes(new URL(`./${APP_ZIP}`, import.meta.url).href);
      appZip.catch(() => {}); // awaited below
    },
  });
  pyodide.FS.writeFile(APP_ZIP_PATH, await appZip);
  // The app zip right after the boot zip, and both before the working directory:
  // PyScript writes its Python package there as sources, and the precompiled copy
  // is the same.
  pyodide.runPython(`import sys
sys.path.remove('')
sys.path.insert(1, ${JSON.stringify(APP_ZIP_PATH)})
sys.path.append('')`);
  const fallback = pyodide.pyimport("stdlib_fallback");
  fallback.install(readFullStdlib, APP_ZIP_PATH);
  fallback.destroy();
  // PyJWT's package __init__ (and its JWKS client's urllib/http/email) only on first use.
  pyodide.runPython("import deferred_init; deferred_init.install()");
  return pyodide;
}

const booting = boot();
booting.catch(() => {}); // reported to whoever awaits loadPyodide()

export async function loadPyodide(options = {}) {
  const unexpected = Object.keys(options).filter((key) => !ACCEPTED_OPTIONS.has(key));
  if (unexpected.length) {
    throw new Error(`pyodide-fast.mjs boots before PyScript's config is read and takes no ` +
      `${unexpected.join(", ")}: remove them from pyscript.toml, or build with --plain`);
  }
  if (options.stdout) output.stdout = options.stdout;
  if (options.stderr) output.stderr = options.stderr;
  return booting;
}
