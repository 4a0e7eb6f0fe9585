// The first lane's boot (copied by py/devtools/build/build.py as first_lane.mjs):
// MicroPython and the lane's Python, and nothing else, before the page shows the right
// state. It decides nothing: py/app/first_lane.py does, in Python.
//
// Why not PyScript's <script type="mpy">: before it runs a script, PyScript loads its
// core and plugin chunks, reads every interpreter's config, and writes and runs its own
// Python package in MicroPython; that was about 100 ms warm, most of the first lane's
// start (docs/performance.md). The first lane uses only the `js` module, which
// MicroPython has built in. PyScript loads with the full lane (first_lane.py adds it).
//
// The lane's Python comes in one file, first_lane.json ({"files": {path: base64 of a
// .mpy}, "snapshot": …}): one request instead of thirteen, and modules compiled at
// build time by mpy-cross (py/devtools/build/first_lane_bundle.py), not on every load.
// The snapshot is MicroPython's memory after importing the lane, made by the build in
// Node.js (py/devtools/build/first_lane_snapshot.py): the chunks the import changes, each
// as it was before and after. Written over a MicroPython that is in the `before` state,
// it is the import done; in any other state it is not used and the lane is imported.

const MICROPYTHON = "./vendor/micropython/micropython.mjs";
const BUNDLE = "./first_lane.json";
// Read here, while MicroPython starts, and handed to the lane as text (None when it
// could not be read): the lane's Python checks it, as the full lane does.
const SETTINGS = "./auth_config.json";
const LANE_MODULE = "first_lane";
// Used only when MicroPython cannot start; first_lane.py's start_full_lane() does the
// same when the first lane hands over.
const PYSCRIPT = "./vendor/pyscript/core.js";
const FULL_LANE_SCRIPT = "./main.py";

// Each step, as an event on window ("first-lane:progress", the step in `detail`), for
// whoever measures the start (py/devtools/bench listens), like PyScript's own.
function progress(step) {
  window.dispatchEvent(new CustomEvent("first-lane:progress", { detail: step }));
}

async function readSettings() {
  try {
    const response = await fetch(SETTINGS);
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}

async function readBundle() {
  const response = await fetch(BUNDLE);
  if (!response.ok) throw new Error(`${response.url}: HTTP ${response.status}`);
  return response.json();
}

function bytesOf(base64) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(base64);
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

// The bundle's files into MicroPython's file system, each folder made once (a fresh
// file system has none of them).
function writeFiles(fs, files) {
  const folders = new Set();
  for (const path of Object.keys(files)) {
    const parts = path.split("/");
    for (let end = 1; end < parts.length; end++) folders.add(parts.slice(0, end).join("/"));
  }
  for (const folder of [...folders].sort()) fs.mkdir("/" + folder);
  for (const [path, base64] of Object.entries(files)) fs.writeFile("/" + path, bytesOf(base64));
}

// MicroPython's memory: its WebAssembly exports it, Emscripten's JavaScript keeps it to
// itself, so it is caught as the WebAssembly is instantiated. `release()` puts the
// browser's functions back.
function catchMemory() {
  const caught = { memory: null, originals: {} };
  for (const name of ["instantiateStreaming", "instantiate"]) {
    const original = WebAssembly[name];
    caught.originals[name] = original;
    WebAssembly[name] = async (...args) => {
      const result = await original.apply(WebAssembly, args);
      caught.memory ??= (result.instance ?? result).exports.memory ?? null;
      return result;
    };
  }
  caught.release = () => Object.assign(WebAssembly, caught.originals);
  return caught;
}

// Chunks are compared and written as 32-bit words: a chunk's size is a multiple of 4.
function words(bytes) {
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

function sameWords(memory, start, expected) {
  for (let i = 0; i < expected.length; i++) {
    if (memory[start + i] !== expected[i]) return false;
  }
  return true;
}

// The build's snapshot written into MicroPython's memory when the memory is in the state
// the snapshot starts from (same size, every changed chunk as it was). Returns the
// bundle's files it imported (none when it was not written).
function restoreSnapshot(memory, snapshot) {
  if (!memory || !snapshot || memory.buffer.byteLength !== snapshot.memory_bytes) return [];
  const view = new Uint32Array(memory.buffer);
  const size = snapshot.chunk_bytes / 4;
  const chunks = snapshot.chunks.map(([index, before, after]) => [index * size, before, after]);
  for (const [start, before] of chunks) {
    if (!sameWords(view, start, words(bytesOf(before)))) return [];
  }
  for (const [start, , after] of chunks) view.set(words(bytesOf(after)), start);
  return snapshot.imported;
}

async function boot() {
  const bundle = readBundle();
  bundle.catch(() => {}); // awaited below
  const settings = readSettings();
  await import(MICROPYTHON); // defines globalThis.loadMicroPython
  progress("MicroPython module loaded");
  // MicroPython's default heap, as PyScript gives it: 1 MB to start with, more as needed
  // (a bigger first heap cost about 10 ms at start).
  // The same options as the build's snapshot (first_lane_snapshot.mjs).
  const caught = catchMemory();
  let micropython;
  try {
    micropython = await globalThis.loadMicroPython({
      stdout: (line) => console.log(line),
      stderr: (line) => console.error(line),
    });
  } finally {
    caught.release();
  }
  progress("MicroPython started");
  const { files, snapshot } = await bundle;
  const imported = restoreSnapshot(caught.memory, snapshot);
  if (imported.length > 0) progress("snapshot restored");
  else console.info("first lane: importing without the build's snapshot");
  // The modules the lane imports later (on a click, after the paint); all of them when
  // the snapshot was not written.
  const later = Object.entries(files).filter(([path]) => !imported.includes(path));
  writeFiles(micropython.FS, Object.fromEntries(later));
  // Imported and called through the module object, not as Python source: runPython would
  // bring MicroPython's compiler into play, whose WebAssembly a new tab compiles first.
  const lane = micropython.pyimport(LANE_MODULE);
  progress("Python imported");
  await lane.main(await settings); // main() is async: a thenable here
}

// No MicroPython here (no WebAssembly, a failed download): the full lane takes the page,
// and says in words whatever it cannot do either.
boot().catch((error) => {
  console.warn(`first lane: not started: ${error}`);
  const { body, head } = document;
  if (body.hasAttribute("data-full-lane")) return;
  body.setAttribute("data-full-lane", "no-first-lane");
  const script = document.createElement("script");
  script.type = "py";
  script.src = FULL_LANE_SCRIPT;
  body.append(script);
  const pyscript = document.createElement("script");
  pyscript.type = "module";
  pyscript.src = PYSCRIPT;
  head.append(pyscript);
});
