// The fast build's interpreter module (copied by py/devtools/build/build.py as
// vendor/pyodide/pyodide-fast.mjs). PyScript loads it as its `interpreter`; it
// boots the vendored Pyodide with the precompiled standard library.
//
// index.html also runs it as a module script before PyScript's own, so Pyodide
// downloads and boots while PyScript's JavaScript loads and reads its config.
// PyScript's loadPyodide() call then gets that same interpreter.
//
// Two zips of bytecode. The boot zip (what Pyodide imports to start) stands in for
// the standard library: Pyodide's own slot gets an empty zip, and the boot zip is
// mounted ahead of it on sys.path (PYTHONPATH) once the WebAssembly module is in.
// The app zip (PyScript's package, PyJWT, oidc_spa, the page) is requested then, so
// that on a slow link it downloads while Pyodide boots, and is mounted before
// PyScript runs any Python. Both ship gzipped whole (see devtools/build/bytecode.py).
//
// Pyodide comes through pyodide-no-jspi.mjs: booted without WebAssembly stack
// switching, which crashes Chromium 156 tabs now and then (see that file).
export * from "./pyodide-no-jspi.mjs";
import { loadPyodide as loadStockPyodide } from "./pyodide-no-jspi.mjs";

const BOOT_ZIP = "python_stdlib_bytecode.zip.gz";
const APP_ZIP = "python_app_bytecode.zip.gz";
const EMPTY_STDLIB_ZIP = "python_stdlib_empty.zip";
// As compiled into the modules' file names (devtools/build/bytecode.py).
const BOOT_ZIP_PATH = "/lib/python_boot.zip";
const APP_ZIP_PATH = "/lib/python_app.zip";
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
  const url = siteURL("python_stdlib.zip");
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

function siteURL(name) {
  return new URL(`./${name}`, import.meta.url).href;
}

// A gzipped zip, inflated by the browser. Static hosts send .gz files as they are;
// one that decoded it on the way (Content-Encoding) hands over the zip itself.
async function fetchZip(name) {
  const response = await fetch(siteURL(name));
  if (!response.ok) throw new Error(`${response.url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}

async function boot() {
  const bootZip = fetchZip(BOOT_ZIP);
  bootZip.catch(() => {}); // awaited below
  let appZip;
  const pyodide = await loadStockPyodide({
    stdLibURL: siteURL(EMPTY_STDLIB_ZIP),
    env: { PYTHONPATH: BOOT_ZIP_PATH },
    stdout: (text) => output.stdout(text),
    stderr: (text) => output.stderr(text),
    // Called once the WebAssembly module is instantiated, before Python starts.
    fsInit: async (FS) => {
      appZip = fetchZip(APP_ZIP);
      appZip.catch(() => {}); // awaited below
      FS.writeFile(BOOT_ZIP_PATH, await bootZip);
    },
  });
  pyodide.FS.writeFile(APP_ZIP_PATH, await appZip);
  // The app zip right after the boot zip, and both before the working directory:
  // PyScript writes its Python package there as sources, and the precompiled copy
  // is the same. Pyodide's empty standard-library zip leaves the path.
  pyodide.runPython(`import sys
sys.path.remove('')
sys.path.remove(f'/lib/python{sys.version_info.major}{sys.version_info.minor}.zip')
sys.path.insert(1, ${JSON.stringify(APP_ZIP_PATH)})
sys.path.append('')`);
  const install = pyodide.runPython("import stdlib_fallback; stdlib_fallback.install");
  install.callKwargs(readFullStdlib, APP_ZIP_PATH, { trimmed_zip: BOOT_ZIP_PATH });
  install.destroy();
  // PyJWT's and PyScript's package __init__ only on first use (see deferred_init.py).
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
