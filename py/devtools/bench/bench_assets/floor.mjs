import { loadPyodide } from "../vendor/pyodide/__INTERPRETER__";

await loadPyodide();
document.body.dataset.session = "anonymous";
