// Runs in Node.js for devtools/build/first_lane_snapshot.py: MicroPython's memory after
// the first lane's modules are imported, as the chunks the import changed.
//
//   node first_lane_snapshot.mjs MICROPYTHON_MJS BUNDLE_JSON MODULE CHUNK_BYTES
//
// It starts MicroPython as py/boot/first_lane_boot.mjs does (the same options, the same
// files written the same way), keeps a copy of its memory, imports MODULE, and prints
// one JSON object:
//   {"memory_bytes": n, "chunk_bytes": n,
//    "chunks": [[index, base64 before, base64 after], ...],
//    "imported": [bundle path, ...], "js_objects": n}
// The boot writes `after` over a chunk only when every chunk still holds `before`: the
// page's MicroPython is then in the state the import would have left it in.
// js_objects counts the JavaScript objects the import made MicroPython hold; the build
// refuses a snapshot with any (a page's objects cannot be restored from a build).
import fs from "node:fs";

const [micropythonPath, bundlePath, moduleName, chunkText] = process.argv.slice(2);
const chunkBytes = Number(chunkText);

// MicroPython's memory and stack bounds: its WebAssembly exports them, Emscripten keeps
// them to itself.
let exports = null;
for (const name of ["instantiate", "instantiateStreaming"]) {
  const original = WebAssembly[name];
  WebAssembly[name] = async (...args) => {
    const result = await original.apply(WebAssembly, args);
    exports ??= (result.instance ?? result).exports;
    return result;
  };
}

const { loadMicroPython } = await import(micropythonPath);
// The boot's options: the defaults, with output handed on line by line.
const micropython = await loadMicroPython({
  stdout: (line) => console.error(line),
  stderr: (line) => console.error(line),
});
const { memory } = exports;
const files = JSON.parse(fs.readFileSync(bundlePath, "utf8")).files;
const started = new Uint8Array(memory.buffer).slice();
const folders = new Set();
for (const path of Object.keys(files)) {
  const parts = path.split("/");
  for (let end = 1; end < parts.length; end++) folders.add(parts.slice(0, end).join("/"));
}
for (const folder of [...folders].sort()) micropython.FS.mkdir("/" + folder);
for (const [path, base64] of Object.entries(files)) {
  micropython.FS.writeFile("/" + path, Buffer.from(base64, "base64"));
}

// The boot writes only the files the snapshot has not imported, and after restoring it:
// that holds only while writing files leaves MicroPython's memory as it is (Emscripten
// keeps its file system in JavaScript).
const before = new Uint8Array(memory.buffer).slice();
if (before.length !== started.length || before.some((byte, i) => byte !== started[i])) {
  throw new Error("writing files changed MicroPython's memory");
}
try {
  micropython.pyimport(moduleName);
} catch (error) {
  // Python's traceback, without Node's echo of the (minified) line that threw.
  process.stderr.write(`${error.message ?? error}\n`);
  process.exit(1);
}
const after = new Uint8Array(memory.buffer).slice();
if (after.length !== before.length) {
  throw new Error(`importing ${moduleName} grew MicroPython's memory`);
}
// The C stack below its pointer holds what the import's calls left there (file times
// among them): dead, and different on every run. It is left out, as unchanged.
const stackEnd = exports.emscripten_stack_get_end();
const stackPointer = exports.emscripten_stack_get_current();
after.set(before.subarray(stackEnd, stackPointer), stackEnd);
const chunks = [];
for (let start = 0; start < after.length; start += chunkBytes) {
  const end = start + chunkBytes;
  let same = true;
  for (let i = start; i < end; i++) {
    if (after[i] !== before[i]) {
      same = false;
      break;
    }
  }
  if (!same) {
    chunks.push([start / chunkBytes,
                 Buffer.from(before.subarray(start, end)).toString("base64"),
                 Buffer.from(after.subarray(start, end)).toString("base64")]);
  }
}
// The bundle's files the import read: modules now in memory, which the boot need not write.
micropython.runPython(
  "import sys\n" +
  "imported = [m.__file__.lstrip('/') for m in sys.modules.values() if hasattr(m, '__file__')]",
);
const imported = [...micropython.globals.get("imported")].filter((path) => path in files);
// proxy_js_ref: MicroPython's table of the JavaScript objects it holds; its first two
// entries are fixed (globalThis, undefined).
const jsObjects = globalThis.proxy_js_ref.filter((value) => value !== undefined).length - 1;
process.stdout.write(JSON.stringify({
  memory_bytes: after.length, chunk_bytes: chunkBytes, chunks, imported: imported.sort(),
  js_objects: jsObjects,
}));
