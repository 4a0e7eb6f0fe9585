// Stock Pyodide, booted without WebAssembly stack switching (JSPI). Copied by
// py/devtools/build/build.py as vendor/pyodide/pyodide-no-jspi.mjs: the interpreter
// module of the plain build and of apps built on the wheel, and what the fast build's
// interpreter (pyodide-fast.mjs) loads Pyodide through.
//
// Why: where `WebAssembly.Suspending` exists, Pyodide runs every call from JavaScript
// into Python on a switched stack. Chromium 156 (Debian's build) then crashes the tab
// now and then: a SIGSEGV on the main thread, always at the same instruction, a loop
// that scans a stack word by word and runs off the end of the switched stack (read
// from the crash dumps of this project's e2e runs; docs/performance.md). Pyodide
// without JSPI is what it runs where the browser lacks it; this page never uses what
// JSPI adds (run_sync, synchronous waits on promises).
export * from "./pyodide.mjs";
import { loadPyodide as loadStockPyodide } from "./pyodide.mjs";

let hiding = 0;
let suspending;

// Pyodide reads `"Suspending" in WebAssembly` once, when loadPyodide builds its
// module; the global is back as soon as that is done, for any other code on the page.
export async function loadPyodide(options = {}) {
  if (hiding++ === 0) {
    suspending = Object.getOwnPropertyDescriptor(WebAssembly, "Suspending");
    if (suspending) delete WebAssembly.Suspending;
  }
  try {
    return await loadStockPyodide(options);
  } finally {
    if (--hiding === 0 && suspending) {
      Object.defineProperty(WebAssembly, "Suspending", suspending);
    }
  }
}
