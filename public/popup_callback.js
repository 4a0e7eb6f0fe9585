// The sign-in popup's return page: carries this page's URL (the provider's answer) back
// to the page that opened the popup, and closes. It checks nothing: the opener's Python
// accepts the URL only from this window and this origin, with its own login's state.
(function () {
  "use strict";
  var url = location.href;
  var opener = null;
  try {
    opener = window.opener && !window.opener.closed ? window.opener : null;
  } catch (error) {
    opener = null;
  }
  if (opener) {
    opener.postMessage(url, location.origin); // only a page of this very origin gets it
  } else if (typeof BroadcastChannel === "function") {
    // No opener (a Cross-Origin-Opener-Policy severed it): the app's channel instead,
    // named for the folder the app is served from (oidc_spa.popup.channel_name).
    var channel = new BroadcastChannel("oidc_spa:popup:" + new URL(".", url).pathname);
    channel.postMessage(url);
    channel.close();
  }
  window.close();
})();
