"""The rules both lanes of a page share, in the subset of Python that runs unchanged on
CPython, Pyodide and MicroPython.

The first lane (MicroPython) paints the page and handles the Log in and Log out clicks
with these modules alone; the full lane (Pyodide with PyJWT) builds on the same ones,
so both decide the same way by construction. Hence, in this folder only: no
`from __future__`, no typing imports (MicroPython ignores annotations, CPython
evaluates them: only builtin names in them), no urllib, dataclasses or NamedTuple, `re`
only with the few pattern features both interpreters share (strict_json's fast check:
classes, groups, `?`, `*`, `|`, on ASCII bytes), `isinstance(x, (int, float))` after a
bool check (MicroPython's bool is not an int), no dict-order dependence, and imports only
from this folder and the few standard modules both have (json, math, re, hashlib, time).
"""
