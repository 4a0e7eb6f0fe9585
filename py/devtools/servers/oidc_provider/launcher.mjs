// The local OpenID provider for development and end-to-end tests: node-oidc-provider
// (OpenID Certified), configured for this project's one public demo client.
//
//   node py/devtools/servers/oidc_provider/launcher.mjs --host 127.0.0.1 --port 0 [--issuer URL] \
//     --client-id demo-spa --redirect-uri URI [--redirect-uri URI ...] \
//     [--post-logout-redirect-uri URI ...] [--allowed-origin ORIGIN ...] \
//     [--id-token-ttl S] [--access-token-ttl S] [--no-refresh-token-rotation] \
//     [--require-dpop-nonce] [--test-controls]
//
// Once it listens it prints one line to stdout, "provider ready at <url>" (where it listens),
// which py/devtools/servers/node_provider_process.py waits for; its log goes to stderr. SIGTERM and
// SIGINT stop it. Everything lives in memory and the signing key is made at start.
//
// The issuer is where it listens unless --issuer names another origin: the public one of a
// proxy in front of it (the end-to-end tests' fault proxy). Browsers then only ever see that
// origin: the library builds endpoint URLs from the Host header the proxy passes on, and
// tokens, the discovery document and the demo users' pictures name the issuer.
//
// The protocol is the library's. Ours (here and in routes.mjs): the demo users, a sign-in
// page, implied consent for the first-party demo client (offline_access included), sign-out
// without a confirmation click when an id_token_hint names the session, CORS for the listed
// origins only, and with --test-controls under /_test/: a request log, settings, test users
// and a refresh token's state. Two of the settings undo our own kindnesses for a test: one
// makes sign-ins report an earlier time (auth_time, for max_age), the other leaves
// offline_access to the library's rule (granted only with prompt=consent).
// --require-dpop-nonce makes every DPoP proof carry the provider's nonce (RFC 9449 8): off
// by default, on for the end-to-end tests of the page's nonce retry only.

import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

import {
  ROUTES, corsForAllowedOriginsOnly, errorBody, logRequests, logoutBody, ownRoutes,
  recordForTests, sendPage, signOutWithoutAsking,
} from './routes.mjs';

// stdout carries the ready line alone; the library prints notices with console.info.
console.info = (...args) => console.error(...args);
console.log = console.info;

const HOUR = 3600;
const DAY = 24 * HOUR;

// ----------------------------------------------------------------------------- command line

function fail(message) {
  process.stderr.write(`launcher.mjs: ${message}\n`);
  process.exit(2);
}

function integer(value, flag, minimum) {
  if (!/^\d+$/.test(value) || Number(value) < minimum) fail(`${flag} needs an integer >= ${minimum}`);
  return Number(value);
}

function origin(value) {
  if (URL.canParse(value) && new URL(value).origin === value) return value;
  return fail(`--allowed-origin needs scheme://host[:port], got ${value}`);
}

function issuerOrigin(value) {
  if (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)
      && new URL(value).origin === value) return value;
  return fail(`--issuer needs scheme://host[:port], got ${value}`);
}

function parseArgs(argv) {
  const options = {
    host: '127.0.0.1',
    port: 0,
    issuer: undefined,
    clientId: undefined,
    redirectUris: [],
    postLogoutRedirectUris: [],
    allowedOrigins: new Set(),
    idTokenTtl: HOUR,
    accessTokenTtl: HOUR,
    rotateRefreshTokens: true,
    requireDpopNonce: false,
    testControls: false,
  };
  const withValue = new Map([
    ['--host', (v) => { options.host = v; }],
    ['--port', (v) => { options.port = integer(v, '--port', 0); }],
    ['--issuer', (v) => { options.issuer = issuerOrigin(v); }],
    ['--client-id', (v) => { options.clientId = v; }],
    ['--redirect-uri', (v) => { options.redirectUris.push(v); }],
    ['--post-logout-redirect-uri', (v) => { options.postLogoutRedirectUris.push(v); }],
    ['--allowed-origin', (v) => { options.allowedOrigins.add(origin(v)); }],
    ['--id-token-ttl', (v) => { options.idTokenTtl = integer(v, '--id-token-ttl', 1); }],
    ['--access-token-ttl', (v) => { options.accessTokenTtl = integer(v, '--access-token-ttl', 1); }],
  ]);
  const switches = new Map([
    ['--no-refresh-token-rotation', () => { options.rotateRefreshTokens = false; }],
    ['--require-dpop-nonce', () => { options.requireDpopNonce = true; }],
    ['--test-controls', () => { options.testControls = true; }],
  ]);
  for (let i = 0; i < argv.length; i += 1) {
    if (switches.has(argv[i])) {
      switches.get(argv[i])();
    } else if (withValue.has(argv[i]) && i + 1 < argv.length) {
      withValue.get(argv[i])(argv[i + 1]);
      i += 1;
    } else {
      fail(`unknown argument or missing value: ${argv[i]}`);
    }
  }
  if (!options.clientId || options.redirectUris.length === 0) {
    fail('--client-id and at least one --redirect-uri are required');
  }
  return options;
}

// ----------------------------------------------------------------------------- demo users

// The same file gives scripts/run its banner (py/devtools/servers/node_provider_process.py).
const DEMO_USERS = JSON.parse(readFileSync(new URL('./demo_users.json', import.meta.url)));

function demoUsers(issuer) {
  const user = ({ sub, password, given_name: givenName, nickname }) => [sub, {
    sub,
    password,
    claims: {
      name: `${givenName} Example`,
      given_name: givenName,
      family_name: 'Example',
      nickname,
      email: `${sub}@example.test`,
      email_verified: true,
      picture: `${issuer}/avatars/${sub}.svg`,
      updated_at: 1_700_000_000,
    },
  }];
  const bySub = new Map(DEMO_USERS.map(user));
  const sha256 = (text) => createHash('sha256').update(text ?? '').digest();
  return {
    hint: DEMO_USERS.map(({ sub, password }) => `${sub} / ${password}`).join(', '),
    get: (sub) => bySub.get(sub),
    // Only PUT /_test/users/<sub> (test controls) adds or replaces users.
    put: (sub, password, claims) => bySub.set(sub, { sub, password, claims }),
    // Comparing digests takes the same time wherever the strings differ.
    check(username, password) {
      const found = bySub.get(username);
      return found && timingSafeEqual(sha256(found.password), sha256(password)) ? found : undefined;
    },
  };
}

// ----------------------------------------------------------------------------- configuration

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

// The demo API's own client, when the environment gives its secret (the run command and
// the tests make a random one per run and pass it to both processes): it may only
// introspect tokens (no grant, no redirect).
const API_CLIENT_ID = 'demo-api';

function apiClients() {
  const secret = process.env.OIDC_SPA_API_CLIENT_SECRET;
  if (!secret) return [];
  return [{
    client_id: API_CLIENT_ID, client_secret: secret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [], response_types: [], redirect_uris: [],
  }];
}

// DPoP is offered; required only for clients with dpop_bound_access_tokens. Server nonces
// (RFC 9449 8) only with --require-dpop-nonce: with a nonce secret the library sends a
// DPoP-Nonce on every answer to a proof, which would change every renewal of a page that
// did not ask for nonces.
function dPoPFeature(requireNonce) {
  if (!requireNonce) return { enabled: true };
  return { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true };
}

// `settings` is read on every use, so /_test/settings takes effect on the next token.
function configuration({ options, settings, users, formTargets }) {
  return {
    clients: [{
      client_id: options.clientId,
      application_type: 'web',
      token_endpoint_auth_method: 'none', // public: a browser app keeps no secret
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: options.redirectUris,
      post_logout_redirect_uris: options.postLogoutRedirectUris,
    }, ...apiClients()],
    clientAuthMethods: ['none', 'client_secret_basic'],
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      // OpenID Connect Core 5.4: the standard claims each scope asks for.
      profile: ['name', 'family_name', 'given_name', 'middle_name', 'nickname',
        'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo',
        'locale', 'updated_at'],
      email: ['email', 'email_verified'],
    },
    jwks: { keys: [signingKey()] },
    pkce: { methods: ['S256'], required: () => true }, // plain is refused, PKCE is a must
    allowOmittingSingleRegisteredRedirectUri: false, // OIDC Core: redirect_uri is REQUIRED
    routes: ROUTES,
    // RFC 9207 (iss in authorization responses) has no switch in oidc-provider 8: always on.
    features: {
      devInteractions: { enabled: false }, // routes.mjs has the sign-in page
      pushedAuthorizationRequests: { enabled: false }, // on by default; nothing here uses it
      revocation: { enabled: true },
      // RFC 7662, for the demo API (apiClients): how it learns whose a token is and, for a
      // DPoP-bound one, the key it is bound to (cnf.jkt).
      introspection: { enabled: true },
      dPoP: dPoPFeature(options.requireDpopNonce),
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => sendPage(ctx, formTargets, 200, 'Sign out',
          logoutBody(form, ctx.host)),
        postLogoutSuccessSource: async (ctx) => sendPage(ctx, [], 200, 'Signed out',
          '<p>You are signed out.</p>'),
      },
    },
    interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => sendPage(ctx, [], ctx.status, 'Sign-in error', errorBody(out)),
    ttl: {
      AccessToken: () => settings.accessTokenTtl,
      IdToken: () => settings.idTokenTtl,
      // A rotated refresh token keeps its predecessor's expiry, as the library's default has
      // it for browser apps: rotation alone never makes a login last for ever.
      RefreshToken: (ctx, token) => {
        const rotated = ctx?.oidc.entities.RotatedRefreshToken;
        return rotated && !token.isSenderConstrained() ? rotated.remainingTTL : 14 * DAY;
      },
      Interaction: () => HOUR,
      Session: () => 14 * DAY,
      Grant: () => 14 * DAY,
    },
    // Rotation, and revoking the grant when a spent refresh token comes back, are the
    // library's; this only switches rotation.
    rotateRefreshToken: () => settings.rotateRefreshTokens,
    clientBasedCORS: (ctx, requestOrigin) => options.allowedOrigins.has(requestOrigin),
    cookies: {
      keys: [randomBytes(32).toString('base64url')], // signed, so tampering is noticed
      // Lax, not the library's None: browsers drop SameSite=None cookies that are not Secure,
      // and this provider speaks plain http.
      long: { sameSite: 'lax', signed: true },
      short: { sameSite: 'lax', signed: true },
    },
    async findAccount(ctx, sub) {
      const found = users.get(sub);
      return found && { accountId: sub, claims: async () => ({ sub, ...found.claims }) };
    },
    // The demo client is first party, so its user's consent is implied: the grant is made
    // up just in time with whatever OIDC scopes and claims it asks for, and no consent page
    // is needed. (This hook is the library's place for pre-established grants.)
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
      const grant = (grantId && await oidc.provider.Grant.find(grantId))
        || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.account.accountId });
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      grant.addOIDCClaims([...oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    extraParams: {
      // The library drops offline_access from a request without prompt=consent. OIDC Core 11
      // allows it without when "other conditions for processing the request permitting
      // offline access" are in place, as implied consent is here. Extra-parameter validators
      // run after the library's scope check and may adjust parameters: this one puts
      // offline_access back when the client asked for it, so the code carries it and the
      // default issueRefreshToken issues a refresh token.
      async scope(ctx, value, client) {
        if (settings.offlineAccessNeedsConsent) return; // the library's rule, unchanged
        const sent = (ctx.method === 'POST' ? ctx.oidc.body : ctx.query).scope;
        const asked = typeof sent === 'string' && sent.split(' ').includes('offline_access');
        const scopes = value ? value.split(' ') : [];
        if (asked && !scopes.includes('offline_access') && client.grantTypeAllowed('refresh_token')
            && ctx.oidc.params.response_type?.split(' ').includes('code')) {
          ctx.oidc.params.scope = [...scopes, 'offline_access'].join(' ');
        }
      },
    },
  };
}

// ----------------------------------------------------------------------------- start and stop

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  // The address holds the port, which --port 0 leaves to the system: listen, then build.
  const server = http.createServer();
  const port = await listen(server, options.port, options.host);
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  const issuer = options.issuer ?? url;

  const users = demoUsers(issuer);
  const settings = {
    idTokenTtl: options.idTokenTtl,
    accessTokenTtl: options.accessTokenTtl,
    rotateRefreshTokens: options.rotateRefreshTokens,
    loginAge: 0, // seconds a sign-in says it happened before now (auth_time)
    offlineAccessNeedsConsent: false,
  };
  const log = { authorizations: [], token_calls: [], revocations: [], userinfo_calls: 0 };
  // Refresh token values by SHA-256 prefix, kept with the test controls only: they let
  // GET /_test/refresh-token look a token up that the log names by prefix.
  const issuedRefreshTokens = options.testControls ? new Map() : undefined;
  const formTargets = [...new Set([...options.redirectUris, ...options.postLogoutRedirectUris]
    .map((uri) => new URL(uri).origin))];

  const provider = new Provider(issuer, configuration({ options, settings, users, formTargets }));
  provider.on('server_error', (ctx, err) => process.stderr.write(`server error: ${err.stack}\n`));
  // Each wraps the ones after it, and all of them wrap the library's own handling.
  provider.use(logRequests());
  provider.use(corsForAllowedOriginsOnly(options.allowedOrigins));
  provider.use(recordForTests(log, issuedRefreshTokens));
  provider.use(signOutWithoutAsking(url));
  const withTestControls = options.testControls;
  provider.use(ownRoutes({
    provider, users, formTargets, settings, log, issuedRefreshTokens, withTestControls,
  }));
  server.on('request', provider.callback());

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // idle keep-alive connections would hold close() open
    setTimeout(() => process.exit(1), 3000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  if (issuer !== url) process.stderr.write(`issuer ${issuer}\n`);
  process.stdout.write(`provider ready at ${url}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
