// Runs in Node.js for devtools/build/bytecode.py: load the vendored Pyodide, hand it the
// inputs, run bytecode_in_pyodide.py, write the two zips it made.
import fs from "node:fs";
const [pyodideDir, appZip, pyscriptDir, outDir, compilePy, ...bootPy] =
  process.argv.slice(2);
const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
// no_debug_ranges: code objects keep line numbers but no column ranges. Columns only
// place the ^^^ markers under source lines, and this build ships no source; they
// were a quarter of the zip.
const pyodide = await loadPyodide({
  indexURL: pyodideDir + "/", args: ["-X", "no_debug_ranges"],
});
pyodide.FS.mkdirTree("/build/pyscript");
pyodide.FS.writeFile("/build/app.zip", fs.readFileSync(appZip));
for (const path of bootPy) {
  pyodide.FS.writeFile("/build/" + path.split("/").pop(), fs.readFileSync(path));
}
for (const name of fs.readdirSync(pyscriptDir)) {
  if (name.endsWith(".py")) {
    pyodide.FS.writeFile("/build/pyscript/" + name, fs.readFileSync(pyscriptDir + "/" + name));
  }
}
pyodide.runPython(fs.readFileSync(compilePy, "utf8"));
for (const name of ["boot.zip", "app.zip"]) {
  fs.writeFileSync(outDir + "/" + name, pyodide.FS.readFile("/build/out/" + name));
}
