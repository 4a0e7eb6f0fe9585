"""What PyScript runs: boot the sample page (its code is in sample_page.py).

Kept tiny because PyScript fetches and compiles this file from source on every
load; everything else ships precompiled. If the page's Python cannot even be
imported, say so on the page instead of "checking" forever.
"""

import traceback

import js  # type: ignore[import-not-found]

try:
    import sample_page
except Exception:
    js.console.error(traceback.format_exc())
    alert = js.document.querySelector("#auth-error")
    alert.textContent = "This page could not start. Please reload it; details are in the console."
    alert.hidden = False
    js.document.body.dataset.session = "anonymous"
else:
    await sample_page.run()  # noqa: F704 - PyScript runs this file with top-level await
