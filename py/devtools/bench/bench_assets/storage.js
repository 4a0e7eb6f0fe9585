// Per-tab init script: puts the stored session's keys in place before the page's
// Python reads them (ITEMS null removes the app's keys). It only sets them when no
// login is signed in, so it never overwrites what the page itself wrote.
(() => {
  if (window !== window.top || location.origin !== __ORIGIN__) return;
  const prefix = __PREFIX__, items = __ITEMS__;
  if (items === null) {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(prefix)) localStorage.removeItem(key);
    }
  } else if (localStorage.getItem(prefix + "current") === null) {
    for (const [key, value] of Object.entries(items)) localStorage.setItem(key, value);
  }
})();
