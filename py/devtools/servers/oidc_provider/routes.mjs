// What launcher.mjs adds to oidc-provider's HTTP handling: the provider's own pages, its
// own paths (sign-in, avatars, /_test/*) and the Koa middleware wrapped around the library.

import { createHash } from 'node:crypto';
import http from 'node:http';

import { errors } from 'oidc-provider';

// The paths the demo and the tests have always used (the library's defaults differ).
export const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  jwks: '/jwks',
  end_session: '/end_session',
  revocation: '/revoke',
};
const BODY_LIMIT = 64 * 1024;

// ----------------------------------------------------------------------------- pages
//
// Self-contained: one inline stylesheet allowed by its hash, no script, nothing fetched
// from elsewhere, so the Content-Security-Policy is strict. (The library's default pages
// pull a Google font and send no CSP.)

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;'
  + 'padding:0 1rem}h1{font-weight:400}label{display:block;margin-top:.8rem}'
  + 'input{box-sizing:border-box;width:100%;padding:.4rem}button{margin:1rem .5rem 0 0}'
  + '.error{color:#a00}.hint{color:#666}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

export const escapeHtml = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// form-action names the redirect targets as well as 'self': browsers apply it to the
// redirects after a form submission (signing in ends at the client's redirect URI).
export function sendPage(ctx, formTargets, status, title, body) {
  ctx.status = status;
  ctx.set({
    'Cache-Control': 'no-store',
    'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src 'self'; `
      + `form-action ${["'self'", ...formTargets].join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  });
  ctx.type = 'html';
  ctx.body = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    + '<meta name="viewport" content="width=device-width, initial-scale=1">'
    + `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>`
    + `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function loginBody({ uid, clientId, scope, username, message, hint }) {
  return `<p><strong>${escapeHtml(clientId)}</strong> asks you to sign in`
    + ` (scope: ${escapeHtml(scope ?? '')}).</p>`
    + (message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : '')
    + `<form method="post" action="/interaction/${escapeHtml(uid)}">`
    + '<label for="username">Username</label><input id="username" name="username" '
    + `autocomplete="username" value="${escapeHtml(username)}" required autofocus>`
    + '<label for="password">Password</label><input id="password" name="password" '
    + 'type="password" autocomplete="current-password" required>'
    + '<button type="submit" name="action" value="sign-in">Sign in</button>'
    + '<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>'
    + `</form><p class="hint">Demo users: ${escapeHtml(hint)}</p>`;
}

// `form` is the library's hidden form (id "op.logoutForm", with its xsrf value).
export const logoutBody = (form, host) => `<p>Sign out of ${escapeHtml(host)}?</p>${form}`
  + '<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>'
  + 'Yes, sign me out</button><button type="submit" form="op.logoutForm">No, stay signed in</button>';

export const errorBody = (out) => Object.entries(out)
  .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`).join('');

function avatarSvg(user) {
  const hue = createHash('sha256').update(user.sub).digest().readUInt16BE(0) % 360;
  return "<svg xmlns='http://www.w3.org/2000/svg' width='96' height='96' viewBox='0 0 96 96'>"
    + `<circle cx='48' cy='48' r='48' fill='hsl(${hue},55%,45%)'/><text x='48' y='62' `
    + "font-family='sans-serif' font-size='44' fill='#fff' text-anchor='middle'>"
    + `${escapeHtml((user.claims.given_name || user.sub)[0])}</text></svg>`;
}

// ----------------------------------------------------------------------------- middleware

async function readBody(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > BODY_LIMIT) ctx.throw(413, 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function logRequests() {
  return async function logRequest(ctx, next) {
    const started = Date.now();
    try {
      await next();
    } finally {
      // The path only: queries and bodies may carry codes and tokens.
      process.stderr.write(`${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms\n`);
    }
  };
}

// The library answers CORS for any origin on discovery and jwks (and on preflights), with
// "*" when there is no Origin header, and asks clientBasedCORS only on token, userinfo and
// revocation. This drops whatever it added unless the request came from a listed origin.
export function corsForAllowedOriginsOnly(allowedOrigins) {
  return async function corsFilter(ctx, next) {
    await next();
    if (!allowedOrigins.has(ctx.get('Origin'))) {
      for (const name of Object.keys(ctx.response.headers)) {
        if (name.startsWith('access-control-')) ctx.remove(name);
      }
    }
  };
}

// Fills the log GET /_test/log shows. Secrets appear only as SHA-256 prefixes; with the test
// controls, refreshTokens (a Map) keeps the values of refresh tokens seen, by prefix. An
// authorization request is logged with its query as sent (state, nonce and code_challenge
// only as "(sent)") and the HTTP status the provider answered it with.
const HIDDEN_AUTHORIZATION_PARAMETERS = new Set(['state', 'nonce', 'code_challenge']);
export function recordForTests(log, refreshTokens) {
  const prefix = (token) => (typeof token === 'string'
    ? createHash('sha256').update(token).digest('hex').slice(0, 16) : null);
  const keep = (token) => {
    if (refreshTokens && typeof token === 'string') refreshTokens.set(prefix(token), token);
  };
  return async function record(ctx, next) {
    await next();
    if (ctx.method !== 'POST' && ctx.method !== 'GET') return;
    const params = ctx.oidc?.params ?? ctx.oidc?.body ?? {};
    const outcome = ctx.status === 200 ? 'ok' : (ctx.body?.error ?? `http_${ctx.status}`);
    if (ctx.path === ROUTES.authorization && ctx.method === 'GET') {
      const query = Object.fromEntries(Object.entries(ctx.query).map(([name, value]) => [
        name, HIDDEN_AUTHORIZATION_PARAMETERS.has(name) ? '(sent)' : value]));
      log.authorizations.push({ query, status: ctx.status });
    } else if (ctx.path === ROUTES.token && ctx.method === 'POST') {
      const refresh = params.grant_type === 'refresh_token';
      if (refresh) keep(params.refresh_token);
      if (ctx.status === 200) keep(ctx.body.refresh_token);
      log.token_calls.push({
        grant_type: params.grant_type ?? null,
        outcome,
        refresh_token_sha256_prefix: refresh ? prefix(params.refresh_token) : null,
        issued_refresh_token_sha256_prefix: outcome === 'ok' ? prefix(ctx.body.refresh_token) : null,
      });
    } else if (ctx.path === ROUTES.revocation && ctx.method === 'POST') {
      const { RefreshToken, AccessToken } = ctx.oidc?.entities ?? {};
      const tokenType = (RefreshToken && 'refresh_token') || (AccessToken && 'access_token') || 'unknown';
      log.revocations.push({ token_sha256_prefix: prefix(params.token), token_type: tokenType, outcome });
    } else if (ctx.path === ROUTES.userinfo) {
      log.userinfo_calls += 1;
    }
  };
}

// The cookies the browser holds once this response arrives: those it sent, updated by
// those being set (a session made by this very request is only in Set-Cookie).
function browserCookies(ctx) {
  const jar = new Map();
  const keep = (pair) => {
    const at = pair.indexOf('=');
    if (at > 0) jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  };
  ctx.get('Cookie').split(';').forEach(keep);
  [ctx.response.get('Set-Cookie') || []].flat().forEach((cookie) => keep(cookie.split(';')[0]));
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

// RP-Initiated Logout 1.0 says the provider SHOULD ask before signing out, and oidc-provider
// always does: end_session answers with a page whose form posts an xsrf value to
// <end_session>/confirm (or, with no session, one that submits itself by inline script).
// There is nothing to ask when there is no session, or when the id_token_hint (which the
// library has verified) names the signed-in user, and the session by sid when it has one.
// Then this presses "Yes, sign me out" for the user: it posts the library's own form to the
// library's confirm endpoint, server side, and answers the browser with that endpoint's
// redirect and cookie removal. No page, no script, no click; the sign-out itself (grants
// revoked, session destroyed) remains the library's.
export function signOutWithoutAsking(localUrl) {
  const confirmUrl = `${localUrl}${ROUTES.end_session}/confirm`;
  const nothingToAsk = ({ session, entities, client }) => {
    const hint = entities.IdTokenHint?.payload;
    if (!session.accountId) return true;
    if (!hint || hint.sub !== session.accountId) return false;
    return !hint.sid || hint.sid === session.sidFor(client.clientId);
  };
  return async function signOut(ctx, next) {
    await next();
    const { oidc } = ctx;
    if (ctx.path !== ROUTES.end_session || ctx.status !== 200 || !oidc?.session?.state?.secret
        || !nothingToAsk(oidc)) return;
    const answer = await postLocally(confirmUrl, { host: ctx.host, cookie: browserCookies(ctx) },
      new URLSearchParams({ xsrf: oidc.session.state.secret, logout: 'yes' }).toString());
    if (answer.statusCode !== 303) {
      process.stderr.write(`sign-out confirmation answered ${answer.statusCode}; the page asks\n`);
      return;
    }
    ctx.remove('Set-Cookie'); // it would renew the session being ended
    for (const cookie of answer.headers['set-cookie'] ?? []) ctx.append('Set-Cookie', cookie);
    ctx.redirect(answer.headers.location);
    ctx.status = 303;
  };
}

// A form POST to this very server, with the Host header the browser sent (fetch would put
// the local address there): the library builds URLs from it, and behind a proxy (--issuer)
// those must stay the public ones.
function postLocally(url, headers, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(body),
      },
    }, (response) => {
      response.resume(); // the body (a redirect's) is not needed
      response.on('end', () => resolve(response));
    });
    request.on('error', reject);
    request.end(body);
  });
}

// The sign-in page at interactions.url. Its form posts to the same path, the one the
// library's interaction cookie is scoped to.
function interactions(provider, users, formTargets, settings) {
  const expired = (ctx) => sendPage(ctx, formTargets, 400, 'Sign-in expired',
    '<p>This sign-in request is unknown or expired. Start again from the application.</p>');
  const showLogin = (ctx, { uid, params }, username, message) => sendPage(ctx, formTargets, 200,
    'Sign in', loginBody({ uid, clientId: params.client_id, scope: params.scope, username, message,
      hint: users.hint }));

  async function finish(ctx, result, mergeWithLastSubmission) {
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission }));
    ctx.status = 303;
  }

  // Reached only when a client sends prompt=consent: loadExistingGrant covers the rest.
  async function impliedConsent({ grantId, session, params, prompt }) {
    const grant = (grantId && await provider.Grant.find(grantId))
      || new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    return { consent: { grantId: await grant.save() } };
  }

  return async function interaction(ctx, uid) {
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      if (err instanceof errors.SessionNotFound) return expired(ctx);
      throw err;
    }
    if (details.uid !== uid) return expired(ctx);
    if (details.prompt.name === 'consent') return finish(ctx, await impliedConsent(details), true);
    if (ctx.method === 'GET') return showLogin(ctx, details, details.params.login_hint ?? '', '');
    if (ctx.method !== 'POST') ctx.throw(405);
    if (!ctx.is('application/x-www-form-urlencoded')) ctx.throw(415);
    const form = new URLSearchParams(await readBody(ctx));
    if (form.get('action') === 'cancel') {
      const result = { error: 'access_denied', error_description: 'the user cancelled the sign-in' };
      return finish(ctx, result, false);
    }
    const user = users.check(form.get('username'), form.get('password'));
    if (!user) return showLogin(ctx, details, form.get('username') ?? '', 'Wrong username or password.');
    // ts (the library's auth_time) only when a test asks for an earlier one.
    const ts = settings.loginAge ? Math.floor(Date.now() / 1000) - settings.loginAge : undefined;
    return finish(ctx, { login: { accountId: user.sub, amr: ['pwd'], ts } }, false);
  };
}

const isSeconds = (value) => Number.isInteger(value) && value >= 1;
const isFlag = (value) => typeof value === 'boolean';
const SETTINGS = { // name in JSON: [name in `settings`, check, what the check wants]
  id_token_ttl: ['idTokenTtl', isSeconds, 'an integer >= 1'],
  access_token_ttl: ['accessTokenTtl', isSeconds, 'an integer >= 1'],
  rotate_refresh_tokens: ['rotateRefreshTokens', isFlag, 'true or false'],
  // A sign-in reports it happened this many seconds ago (auth_time), as if the user had
  // signed in earlier and the provider had not asked again despite max_age.
  login_age: ['loginAge', (value) => Number.isInteger(value) && value >= 0, 'an integer >= 0'],
  // offline_access only with prompt=consent, as node-oidc-provider has it by itself.
  offline_access_needs_consent: ['offlineAccessNeedsConsent', isFlag, 'true or false'],
};

function parseSettings(text) {
  const changes = JSON.parse(text);
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
    throw new Error('expected a JSON object');
  }
  const parsed = {};
  for (const [name, value] of Object.entries(changes)) {
    if (!Object.hasOwn(SETTINGS, name)) throw new Error(`unknown setting ${name}`);
    const [key, valid, wanted] = SETTINGS[name];
    if (!valid(value)) throw new Error(`${name} must be ${wanted}`);
    parsed[key] = value;
  }
  return parsed;
}

const json = (ctx, status, body) => {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
};

// What a refresh token is worth now, looked up without spending it: live, rotated (spent by
// a rotation), expired, revoked (gone from the library's store, or its grant is), or unknown
// (never seen in a token request or answer).
async function refreshTokenState(provider, value) {
  if (value === undefined) return 'unknown';
  const token = await provider.RefreshToken.find(value, { ignoreExpiration: true });
  if (!token) return 'revoked';
  if (token.consumed) return 'rotated';
  if (token.isExpired) return 'expired';
  const grant = await provider.Grant.find(token.grantId, { ignoreExpiration: true });
  return grant && !grant.isExpired ? 'live' : 'revoked';
}

function parseUser(text) {
  const user = JSON.parse(text);
  const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!isObject(user) || typeof user.password !== 'string' || user.password === ''
      || !isObject(user.claims) || 'sub' in user.claims) {
    throw new Error('expected {"password": "...", "claims": {...}} without sub in the claims');
  }
  return user;
}

// PUT /_test/users/<sub>: adds a user (or replaces one) with the claims given, markup and all.
async function putUser(ctx, users, sub) {
  let user;
  try {
    user = parseUser(await readBody(ctx));
  } catch (err) {
    return json(ctx, 400, { error: 'invalid_request', error_description: err.message });
  }
  users.put(sub, user.password, user.claims);
  return json(ctx, 200, { sub, claims: user.claims });
}

function testControls({ provider, settings, log, issuedRefreshTokens }) {
  const current = () => ({
    id_token_ttl: settings.idTokenTtl,
    access_token_ttl: settings.accessTokenTtl,
    rotate_refresh_tokens: settings.rotateRefreshTokens,
    login_age: settings.loginAge,
    offline_access_needs_consent: settings.offlineAccessNeedsConsent,
  });
  return {
    'GET /_test/log': (ctx) => json(ctx, 200, log),
    'POST /_test/reset-log': (ctx) => {
      Object.assign(log, { authorizations: [], token_calls: [], revocations: [], userinfo_calls: 0 });
      json(ctx, 200, log);
    },
    'GET /_test/refresh-token': async (ctx) => json(ctx, 200, {
      state: await refreshTokenState(provider, issuedRefreshTokens.get(ctx.query.prefix)),
    }),
    'GET /_test/settings': (ctx) => json(ctx, 200, current()),
    'POST /_test/settings': async (ctx) => {
      try {
        Object.assign(settings, parseSettings(await readBody(ctx)));
      } catch (err) {
        return json(ctx, 400, { error: 'invalid_request', error_description: err.message });
      }
      return json(ctx, 200, current());
    },
  };
}

// Our own paths. Everything else goes on to oidc-provider, which answers 404 for paths it
// does not know: /_test/* among them when the test controls are off.
export function ownRoutes({
  provider, users, formTargets, settings, log, issuedRefreshTokens, withTestControls,
}) {
  const interaction = interactions(provider, users, formTargets, settings);
  const controls = new Map(Object.entries(withTestControls
    ? testControls({ provider, settings, log, issuedRefreshTokens }) : {}));
  return async function route(ctx, next) {
    const interactionUid = /^\/interaction\/([\w-]+)$/.exec(ctx.path)?.[1];
    const avatarOf = users.get(/^\/avatars\/(\w+)\.svg$/.exec(ctx.path)?.[1]);
    const control = controls.get(`${ctx.method} ${ctx.path}`);
    const newUser = withTestControls && ctx.method === 'PUT'
      && /^\/_test\/users\/(\w+)$/.exec(ctx.path)?.[1];
    if (interactionUid) return interaction(ctx, interactionUid);
    if (newUser) return putUser(ctx, users, newUser);
    if (avatarOf && ctx.method === 'GET') {
      ctx.type = 'image/svg+xml';
      // CORP lets cross-origin-isolated pages (COEP, as PyScript workers use) show it.
      ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
      ctx.set('Content-Security-Policy', "default-src 'none'");
      ctx.body = avatarSvg(avatarOf);
      return undefined;
    }
    if (control) return control(ctx);
    return next();
  };
}
