// Runs unittest modules under MicroPython, the interpreter of the page's first lane, so
// the rules in oidc_spa/portable are tested where they run and not only on CPython.
//
//   node run_unittests.mjs PY_DIR TESTS_DIR MODULE [MODULE ...]
//
// PY_DIR is the repository's py/ folder; TESTS_DIR holds the test modules and their
// helpers. Prints one JSON line:
//   {"ok": true|false, "modules": {"MODULE": {"tests": n, "failures": n, "errors": n,
//    "skipped": n, "problems": ["test name: traceback", ...]}}}
// and exits 0 only when every module ran at least one test and none failed.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const PACKAGE = "node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs";
// A fixed heap for the tests. The page starts MicroPython with its default heap (1 MB,
// growing as needed: py/boot/first_lane_boot.mjs), so this bound is the tests' own.
const HEAP_BYTES = 16 * 1024 * 1024;
const RESULT_FILE = "/unittest_result.json";

// Runs inside MicroPython: imports one test module, runs it with the frozen unittest
// (unittest.main takes a module object there and returns its TestResult) and writes
// the counts to RESULT_FILE; a failure's name is a tuple of the test's name and class.
const RUNNER = `
import json
import unittest

def _label(key):
    parts = key if isinstance(key, tuple) else (key,)
    return " ".join(getattr(part, "__name__", str(part)) for part in parts)

def _run(name):
    result = unittest.main(__import__(name))
    problems = [_label(key) + ": " + text for key, text in result.failures + result.errors]
    counts = {"tests": result.testsRun, "failures": result.failuresNum,
              "errors": result.errorsNum, "skipped": result.skippedNum,
              "problems": problems}
    with open("${RESULT_FILE}", "w") as out:
        out.write(json.dumps(counts))
`;

function usage(message) {
  process.stderr.write(message + "\n");
  process.stderr.write("usage: node run_unittests.mjs PY_DIR TESTS_DIR MODULE [MODULE ...]\n");
  process.exit(2);
}

function pyFiles(folder) {
  return fs.readdirSync(folder).filter((name) => name.endsWith(".py")).sort();
}

// What every module's interpreter gets in /lib: the package's __init__ (it skips the
// CPython-only imports on MicroPython), the portable rules, the page's shared text (the
// first lane paints with it), the test helpers (any module of TESTS_DIR not named
// test_*; conftest.py is pytest's own) and the tests.
function libraryFiles(pyDir, testsDir, modules) {
  const files = [["oidc_spa/__init__.py", path.join(pyDir, "oidc_spa", "__init__.py")]];
  for (const name of ["__init__.py", "page_text.py"]) {
    files.push(["app/" + name, path.join(pyDir, "app", name)]);
  }
  const portable = path.join(pyDir, "oidc_spa", "portable");
  for (const name of pyFiles(portable)) {
    files.push(["oidc_spa/portable/" + name, path.join(portable, name)]);
  }
  for (const name of pyFiles(testsDir)) {
    if (!name.startsWith("test_") && name !== "conftest.py") {
      files.push([name, path.join(testsDir, name)]);
    }
  }
  for (const module of modules) {
    files.push([module + ".py", path.join(testsDir, module + ".py")]);
  }
  return files;
}

// A fresh interpreter per module: one module's leftovers (imports, a full heap, a
// patched function) cannot change another's result.
async function runModule(loadMicroPython, files, module) {
  let output = "";
  const collect = (line) => {
    output += line + "\n";
  };
  const mp = await loadMicroPython({ heapsize: HEAP_BYTES, stdout: collect, stderr: collect });
  mp.FS.mkdirTree("/lib/oidc_spa/portable");
  mp.FS.mkdirTree("/lib/app");
  for (const [target, source] of files) {
    mp.FS.writeFile("/lib/" + target, fs.readFileSync(source, "utf8"));
  }
  try {
    mp.runPython(RUNNER);
    mp.runPython("_run(" + JSON.stringify(module) + ")");
  } catch (error) {
    // A PythonError: the module did not import, or unittest itself broke. The error
    // object holds the whole interpreter; its message is the Python traceback.
    const message = error && error.message ? error.message : String(error);
    return { tests: 0, failures: 0, errors: 1, skipped: 0,
      problems: [module + " did not run: " + message + output.slice(-2000)] };
  }
  return JSON.parse(mp.FS.readFile(RESULT_FILE, { encoding: "utf8" }));
}

async function main() {
  const [pyDir, testsDir, ...modules] = process.argv.slice(2);
  if (!pyDir || !testsDir || modules.length === 0) {
    usage("missing arguments");
  }
  for (const module of modules) {
    // The name goes into Python source and a file name: a plain identifier only.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(module)) {
      usage("not a module name: " + module);
    }
    if (!fs.existsSync(path.join(testsDir, module + ".py"))) {
      usage("no such module: " + path.join(testsDir, module + ".py"));
    }
  }
  const packagePath = path.join(path.dirname(path.resolve(pyDir)), PACKAGE);
  if (!fs.existsSync(packagePath)) {
    usage("MicroPython is not installed (npm ci): " + packagePath);
  }
  const { loadMicroPython } = await import(pathToFileURL(packagePath).href);
  const files = libraryFiles(pyDir, testsDir, modules);
  const results = {};
  let ok = true;
  for (const module of modules) {
    const result = await runModule(loadMicroPython, files, module);
    if (result.tests === 0 && result.problems.length === 0) {
      result.problems.push(module + " has no tests that MicroPython's unittest found");
    }
    ok = ok && result.failures === 0 && result.errors === 0 && result.problems.length === 0;
    results[module] = result;
  }
  process.stdout.write(JSON.stringify({ ok, modules: results }) + "\n");
  process.exitCode = ok ? 0 : 1;
}

await main();
