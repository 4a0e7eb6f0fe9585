// Per-tab init script: puts a stored session's keys in place before the page's own
// scripts read them (ITEMS null removes every key that starts with PREFIX). It only
// sets them while GUARD is absent, so it never overwrites what the page itself wrote.
// The app's keys: PREFIX "oidc_spa:<client id>:", GUARD its "current" pointer; the
// JavaScript reference's: oidc-client-ts's one key, which is its own GUARD.
(() => {
  if (window !== window.top || location.origin !== __ORIGIN__) return;
  const prefix = __PREFIX__, guard = __GUARD__, items = __ITEMS__;
  if (items === null) {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(prefix)) localStorage.removeItem(key);
    }
  } else if (localStorage.getItem(guard) === null) {
    for (const [key, value] of Object.entries(items)) localStorage.setItem(key, value);
  }
})();
