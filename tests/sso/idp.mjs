// A real OpenID Provider on loopback for the SSO tests: oidc-provider (npm) with one test
// client and one user, plus a switch that spoils what its token endpoint answers (another
// audience, an expired token, another nonce, another key, an alg switch, garbage, a hang),
// re-signing with the provider's own key where the test needs a well-signed bad token.
// Options: auto (finish the sign-in interaction at once as state.auto, for browser-less
// flows), tenantTemplate (a Microsoft-like multi-tenant layout: discovery under
// /<tenant>/v2.0 naming the issuer <issuer>/{tenantid}/v2.0, ID tokens re-signed with the
// iss and tid of state.tid). state counts the calls and times the token endpoint.
import Provider from 'oidc-provider';
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const b64u = (b) => Buffer.from(b).toString('base64url');
const fromB64u = (s) => JSON.parse(Buffer.from(s, 'base64url').toString());

function rsaKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { pem: privateKey, jwk: { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } };
}

function resign(token, key, edit) {
  const [h, p] = token.split('.');
  const header = fromB64u(h);
  const payload = fromB64u(p);
  edit(header, payload);
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  if (header.alg === 'none') return `${input}.`;
  if (header.alg === 'HS256') { // the public key as an HMAC secret: the classic confusion
    const secret = JSON.stringify({ kty: key.jwk.kty, n: key.jwk.n, e: key.jwk.e });
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  }
  return `${input}.${sign('sha256', Buffer.from(input), key.pem).toString('base64url')}`;
}

const STRANGER = rsaKey('stranger');

// aud with a second audience, and azp as given (undefined: none)
const twoAudiences = (azp) => (t, k) => resign(t, k, (h, p) => {
  p.aud = [p.aud, 'another-app'];
  if (azp === undefined) delete p.azp; else p.azp = azp === 'self' ? p.aud[0] : azp;
});

// mode -> what becomes of the ID token (or of the whole answer)
const SPOILERS = {
  rotated: (t, k, other, next) => resign(t, next, (h) => { h.kid = next.jwk.kid; }),
  // a kid never published, another each time (one key made up front: keygen is slow)
  stranger: (t) => resign(t, STRANGER, (h) => { h.kid = `stranger-${randomBytes(4).toString('hex')}`; }),
  azp_self: twoAudiences('self'),
  azp_other: twoAudiences('another-app'),
  azp_missing: twoAudiences(undefined),
  aud: (t, k) => resign(t, k, (h, p) => { p.aud = 'someone-else'; }),
  expired: (t, k) => resign(t, k, (h, p) => { p.exp = p.iat - 3600; p.iat -= 7200; }),
  nonce: (t, k) => resign(t, k, (h, p) => { p.nonce = 'not-the-one-sent'; }),
  otherkey: (t, k, other) => resign(t, other, () => {}), // same kid, another key
  alg: (t, k) => resign(t, k, (h) => { h.alg = 'HS256'; }),
  none: (t, k) => resign(t, k, (h) => { h.alg = 'none'; }),
};

const publicJwk = ({ kty, n, e, kid, use, alg }) => ({ kty, n, e, kid, use, alg });

export async function startIdp({ port, redirectUris, user, auto = false, tenantTemplate = false }) {
  const issuer = `http://127.0.0.1:${port}`;
  const key = rsaKey('idp-key-1');
  const other = rsaKey('idp-key-1');
  const next = rsaKey('idp-key-2'); // published once state.rotated is set
  const state = { mode: null, capture: false, captured: null, tokenCalls: 0, userinfoCalls: 0,
    jwksCalls: 0, discoveryCalls: 0, lastJwksAt: 0, rotated: false, auto: null, tid: null,
    introspectionCalls: 0, tokenMs: [] };
  const client = {
    client_id: 'gatehouse', client_secret: 'idp-client-secret-' + randomBytes(8).toString('hex'),
    redirect_uris: redirectUris, grant_types: ['authorization_code'], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  const postClient = { ...client, client_id: 'gatehouse-post', token_endpoint_auth_method: 'client_secret_post' };
  // another app of the same provider: its tokens are not for Gatehouse
  const otherClient = { ...client, client_id: 'another-app',
    client_secret: 'idp-other-secret-' + randomBytes(8).toString('hex') };
  const provider = new Provider(issuer, {
    clients: [client, postClient, otherClient],
    jwks: { keys: [key.jwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: user.email(id), email_verified: true, name: `User ${id}`,
        preferred_username: id }),
    }),
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, introspection: { enabled: true } },
    // the scopes' claims in the ID token too, as Google, Microsoft and Okta put them
    conformIdTokenClaims: false,
  });
  // the interaction done at once: signed in as state.auto, every scope asked granted
  async function finishInteraction(ctx) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const accountId = state.auto;
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res,
      { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false }));
  }
  const templated = `${issuer}/{tenantid}/v2.0`;
  provider.use(async (ctx, nextMw) => {
    if (tenantTemplate && /^\/[^/]+\/v2\.0\/\.well-known\/openid-configuration$/.test(ctx.path)) {
      ctx.path = '/.well-known/openid-configuration';
      await nextMw();
      ctx.body = { ...ctx.body, issuer: templated };
      state.discoveryCalls++;
      return;
    }
    if (ctx.path === '/.well-known/openid-configuration') state.discoveryCalls++;
    if (state.auto && ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      await finishInteraction(ctx);
      return;
    }
    const token = ctx.path === '/token';
    if (token) state.tokenCalls++;
    if (ctx.path === '/me') state.userinfoCalls++;
    if (ctx.path === '/token/introspection') state.introspectionCalls++;
    if (ctx.path === '/jwks') { state.jwksCalls++; state.lastJwksAt = Date.now(); }
    if (token && state.mode === 'hang') {
      await new Promise((r) => setTimeout(r, 30000));
    }
    const t0 = performance.now();
    await nextMw();
    if (token) state.tokenMs.push(performance.now() - t0);
    if (ctx.path === '/jwks' && state.rotated) ctx.body = { keys: [...ctx.body.keys, publicJwk(next.jwk)] };
    if (token && tenantTemplate && ctx.body?.id_token) {
      const tid = state.tid;
      ctx.body = { ...ctx.body, id_token: resign(ctx.body.id_token, key, (h, p) => {
        p.iss = typeof tid === 'object' ? tid.iss : `${issuer}/${tid}/v2.0`;
        p.tid = typeof tid === 'object' ? tid.tid : tid;
      }) };
    }
    const to = ctx.response.get('location') || '';
    if (state.capture && to.includes('/api/v1/auth/sso/callback')) { // keep the browser here
      state.captured = to;
      ctx.status = 200;
      ctx.type = 'text/plain';
      ctx.body = 'held';
    }
    if (!token || state.mode == null || state.mode === 'hang') return;
    if (state.mode === 'garbage') {
      ctx.type = 'application/json';
      ctx.body = '{"access_token": "x", "id_token": ';
    } else if (ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: SPOILERS[state.mode](ctx.body.id_token, key, other, next) };
    }
  });
  const server = provider.listen(port, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    issuer, client, postClient, otherClient, state, templated,
    setMode(m) { state.mode = m; },
    hold(on) { state.capture = on; state.captured = null; },
    async close() { server.closeAllConnections?.(); await new Promise((r) => server.close(r)); },
  };
}
