// The JavaScript reference: what a developer would pick instead of this project,
// oidc-client-ts (its browser bundle, vendored like the runtime, loaded by a deferred
// script before this module: the global `oidc`), making the app's start-up decision.
// It reads the app's auth_config.json (hinted in the page, as the app hints it), makes
// a UserManager with the same settings, keeps users in localStorage and asks for the
// stored user: no network. A user whose tokens have not expired is signed in.
const response = await fetch(new URL("../auth_config.json", import.meta.url));
const config = await response.json();
const manager = new oidc.UserManager({
  authority: config.issuer,
  client_id: config.clientId,
  // The app's own page is its redirect URI (this page is one folder below it).
  redirect_uri: config.redirectUri ?? new URL("../", location.href).href,
  scope: config.scope ?? "openid profile email",
  userStore: new oidc.WebStorageStateStore({ store: window.localStorage }),
});
const user = await manager.getUser();
document.body.dataset.session = user && !user.expired ? "authenticated" : "anonymous";
