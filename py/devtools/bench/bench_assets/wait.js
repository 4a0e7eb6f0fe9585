// Evaluated in the measured page through DevTools (Runtime.evaluate, awaitPromise): a
// promise that resolves once CONDITION holds for the page's <body>, watched with a
// MutationObserver, and rejects after TIMEOUT_MS. It replaces Playwright's selector waits,
// which first inject Playwright's selector engine (about 330 KB of JavaScript) into the
// page, on its main thread, while the page is still starting: inside the measured time.
new Promise((resolve, reject) => {
  const conditions = {
    // The right state: data-session left "checking".
    "right-state": (body) => Boolean(body.dataset.session) && body.dataset.session !== "checking",
    // The two-lane page's full lane has taken over.
    "full-lane": (body) => body.dataset.lane === "full",
  };
  const holds = () => document.body !== null && conditions[__CONDITION__](document.body);
  if (holds()) {
    resolve(true);
    return;
  }
  const observer = new MutationObserver(() => {
    if (holds()) {
      observer.disconnect();
      resolve(true);
    }
  });
  observer.observe(document, { attributes: true, childList: true, subtree: true });
  setTimeout(() => {
    observer.disconnect();
    reject(new Error("timed out"));
  }, __TIMEOUT_MS__);
})
