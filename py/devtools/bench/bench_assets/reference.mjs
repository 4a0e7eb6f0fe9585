// The least a Python page needs: the same vendored Pyodide, PyJWT, one import.
import { loadPyodide } from "../vendor/pyodide/pyodide.mjs";

const pyodide = await loadPyodide({
  indexURL: new URL("../vendor/pyodide/", import.meta.url).href,
  // The stock standard library (the app's build replaces it with bytecode).
  stdLibURL: new URL("./python_stdlib.zip", import.meta.url).href,
});
await pyodide.loadPackage(new URL("./__WHEEL__", import.meta.url).href);
pyodide.runPython("import jwt");
document.body.dataset.session = "anonymous";
