// Google's tokeninfo tells which app a Google access token was issued to: the google
// preset (its issuer on a local oidc-provider, as in presets.test.mjs) with
// allowed_client_ids and tokeninfo_endpoint pointed at a small stand-in answering as
// https://oauth2.googleapis.com/tokeninfo does (aud/azp/expires_in, 400 for a token it
// does not know). A listed aud signs in; another app's is 401 and audited
// token_other_client; a 400 is 401; a tokeninfo that hangs is 503 unavailable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startIdp } from './idp.mjs';
import { freePort, startGatehouse } from './gatehouse.mjs';
import { providerToken } from './flow.mjs';

const LOGIN = '/api/v1/auth/oauth/login';
let gh, idp, tokeninfo;
// what the stand-in answers next: { aud } (200), 400, or 'hang'
const info = { answer: 400, asked: [], hanging: [] };

function startTokeninfo(port) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c.slice(0, 65536); });
    req.on('end', () => {
      info.asked.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
      if (info.answer === 'hang') {
        info.hanging.push(res); // answered (closed) in after()
        return;
      }
      if (info.answer === 400) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error_description": "Invalid Value"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ azp: info.answer.azp ?? info.answer.aud, aud: info.answer.aud,
        sub: '1234', scope: 'openid email', exp: String(Math.floor(Date.now() / 1000) + 3000),
        expires_in: '3000', email: 'x@example.com', email_verified: 'true' }));
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

before(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  idp = await startIdp({ port: await freePort(), redirectUris: [base + '/api/v1/auth/sso/callback'],
    user: { email: (id) => `${id}@google.example` }, auto: true });
  const tport = await freePort();
  tokeninfo = await startTokeninfo(tport);
  // a short sso.timeout: one case waits it out on a tokeninfo that never answers
  gh = await startGatehouse({ GATEHOUSE_SSO_TIMEOUT: '3s' }, port);
  const c = await gh.call('POST', '/api/v1/sso/providers', { name: 'google', type: 'oidc',
    preset: 'google', issuer: idp.issuer, client_id: idp.client.client_id,
    client_secret: idp.client.client_secret, auto_create_user: true,
    allowed_client_ids: ['web.apps.googleusercontent.com', 'ios.apps.googleusercontent.com'],
    tokeninfo_endpoint: `http://127.0.0.1:${tport}/tokeninfo` });
  assert.equal(c.status, 201, JSON.stringify(c.body));
});

after(async () => {
  for (const res of info.hanging) res.destroy();
  tokeninfo?.close();
  gh?.stop();
  await idp?.close();
});

async function login(user) {
  idp.state.auto = user;
  const token = await providerToken(idp, idp.client);
  return { token, r: await gh.call('POST', LOGIN, { provider: 'google', access_token: token }) };
}

async function failedReason() {
  const failed = await gh.audit('SSO_LOGIN_FAILED');
  return failed.filter((e) => e.metadata.provider === 'google').map((e) => JSON.stringify(e.metadata));
}

// (the default, Google's own URL, is tests/unit/authn/test_sso_check.c's: saving a
// provider fetches its discovery document, and the tests stay on loopback)
test('the endpoint is shown, and validated like the others', async () => {
  const g = (await gh.call('GET', '/api/v1/sso/providers/google')).body;
  assert.match(g.tokeninfo_endpoint, /^http:\/\/127\.0\.0\.1:\d+\/tokeninfo$/);
  for (const bad of ['http://tokeninfo.example.com/', 'https://u@oauth2.googleapis.com/', 'x']) {
    const r = await gh.call('PATCH', '/api/v1/sso/providers/google', { tokeninfo_endpoint: bad });
    assert.equal(r.status, 422, bad);
    assert.equal(r.body.error.details.field, 'tokeninfo_endpoint');
  }
  // Google's answer shape: no other provider takes one
  const o = await gh.call('POST', '/api/v1/sso/providers', { name: 'other', type: 'oidc',
    issuer: idp.issuer, client_id: 'x', client_secret: 'y',
    tokeninfo_endpoint: 'https://oauth2.googleapis.com/tokeninfo' });
  assert.equal(o.status, 422);
  assert.equal(o.body.error.details.field, 'tokeninfo_endpoint');
  assert.equal((await gh.call('GET', '/api/v1/sso/providers/google')).body.tokeninfo_endpoint,
    g.tokeninfo_endpoint);
});

test('a token issued to a listed app signs in; the token goes in the body', async () => {
  info.answer = { aud: 'ios.apps.googleusercontent.com' };
  const asked = info.asked.length;
  const { token, r } = await login('gina');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await gh.call('GET', '/api/v1/auth/me', null, r.body.access_token)).body.username, 'gina');
  const q = info.asked[asked];
  assert.equal(q.method, 'POST');
  assert.equal(q.url, '/tokeninfo');
  assert.equal(q.type, 'application/x-www-form-urlencoded');
  assert.equal(new URLSearchParams(q.body).get('access_token'), token);
  // azp listed, aud another (the party it was handed to is one of ours)
  info.answer = { aud: 'someone-else', azp: 'web.apps.googleusercontent.com' };
  assert.equal((await login('gail')).r.status, 200);
});

test('another app\'s token is 401 and audited token_other_client', async () => {
  info.answer = { aud: 'other-site.apps.googleusercontent.com' };
  const { token, r } = await login('hank');
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'invalid_credentials');
  assert.ok((await failedReason()).some((m) => m.includes('token_other_client')));
  assert.ok(!(await gh.users()).includes('hank'));
  const trail = JSON.stringify(await gh.call('GET', '/api/v1/audit/logs?limit=1000'));
  assert.ok(!gh.log().includes(token) && !trail.includes(token));
});

test('a token tokeninfo does not know (400) is 401', async () => {
  info.answer = 400;
  const { r } = await login('ivan');
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'invalid_credentials');
  assert.ok(!(await gh.users()).includes('ivan'));
});

test('a tokeninfo that hangs is 503 unavailable within sso.timeout, nothing stored', async () => {
  info.answer = 'hang';
  const t0 = Date.now();
  const { r } = await login('jane');
  assert.equal(r.status, 503);
  assert.equal(r.body.error.code, 'unavailable');
  assert.ok(Date.now() - t0 < 30000, 'bounded by sso.timeout (3 s), with slack');
  assert.ok((await failedReason()).some((m) => m.includes('provider_unavailable')));
  assert.ok(!(await gh.users()).includes('jane'));
});
