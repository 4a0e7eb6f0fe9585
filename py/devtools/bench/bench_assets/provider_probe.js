// Runs in every document of the local provider (context init script, logins only):
// when the sign-in page's #username field was first painted. rAF polling as in probe.js:
// the first rAF callback that finds the field visible belongs to the first frame that
// shows it; a MessageChannel message posted there runs right after that frame's paint.
// bench.py adds performance.timeOrigin to it (epoch ms) and subtracts the click's time
// on the app's page, so neither Python nor Playwright is in the figure.
(() => {
  if (window !== window.top || location.origin !== __PROVIDER_ORIGIN__) return;
  const probe = window.__benchProvider = {
    timeOrigin: performance.timeOrigin, usernameFrame: null, usernamePainted: null,
  };
  const frame = (t) => {
    const field = document.getElementById("username");
    if (field && field.checkVisibility()) {
      probe.usernameFrame = t;
      const channel = new MessageChannel();
      channel.port1.onmessage = () => { probe.usernamePainted = performance.now(); };
      channel.port2.postMessage(null);
      return;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();
