// The JavaScript reference: what a developer would pick instead of this project,
// oidc-client-ts (its browser bundle, vendored like the runtime, loaded by a deferred
// script before this module: the global `oidc`), making the app's start-up decision.
// It reads the app's auth_config.json (hinted in the page, as the app hints it), makes
// a UserManager with the same settings, keeps users in localStorage and asks for the
// stored user: no network. A user whose tokens have not expired is signed in.
// It logs in too, for the benchmark's login round trip: signed out, it shows a
// .btn-login button (signinRedirect); back from the provider with ?code=&state= it
// finishes the login (signinRedirectCallback: the code exchange, then /userinfo, as the
// app does) and shows the nickname in .nickname.
const response = await fetch(new URL("../auth_config.json", import.meta.url));
const config = await response.json();
const manager = new oidc.UserManager({
  authority: config.issuer,
  client_id: config.clientId,
  // This page is its own redirect URI (bench.py registers it with the provider).
  redirect_uri: new URL("./", location.href).href,
  scope: config.scope ?? "openid profile email",
  loadUserInfo: true, // the profile from /userinfo, as the app shows it
  userStore: new oidc.WebStorageStateStore({ store: window.localStorage }),
});
const params = new URLSearchParams(location.search);
if (params.has("code") && params.has("state")) {
  try {
    const user = await manager.signinRedirectCallback();
    history.replaceState(null, "", location.pathname);
    const nickname = document.createElement("h2");
    nickname.className = "nickname";
    nickname.textContent = user.profile.nickname ?? user.profile.name ?? user.profile.sub;
    document.body.append(nickname);
    document.body.dataset.session = "authenticated";
  } catch (error) {
    document.body.dataset.error = String(error);
    throw error;
  }
} else {
  const user = await manager.getUser();
  const signedIn = user && !user.expired;
  document.body.dataset.session = signedIn ? "authenticated" : "anonymous";
  if (!signedIn) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn-login";
    button.textContent = "Log in";
    button.addEventListener("click", () => manager.signinRedirect());
    document.body.append(button);
  }
}
