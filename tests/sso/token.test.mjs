// Provider-token login (POST /api/v1/auth/oauth/login) against oauth2-mock-server (npm)
// standing in for Google, Microsoft or Okta's userinfo endpoint: a token the provider
// accepts signs in (the user made once), answers cached (refusals too) for at most the
// token's remaining life, a refused token is 401 invalid_credentials, a provider that
// hangs or answers garbage is 503 unavailable with nothing stored, and the tokens never
// reach the log or the audit trail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';
import { freePort, startGatehouse } from './gatehouse.mjs';

let gh, mock, broken;
const issued = new Map(); // token -> user the mock vouches for
const calls = { userinfo: 0 };
const LOGIN = '/api/v1/auth/oauth/login';

async function token(user, expiresIn = 3600, client = undefined) {
  const t = await mock.issuer.buildToken({ expiresIn,
    scopesOrTransform: (header, payload) => {
      payload.sub = user;
      delete payload.client_id;
      if (client !== undefined) payload.client_id = client;
    } });
  issued.set(t, user);
  return t;
}

before(async () => {
  mock = new OAuth2Server();
  await mock.issuer.keys.generate('RS256');
  await mock.start(await freePort(), '127.0.0.1');
  mock.service.on('beforeUserinfo', (resp, req) => {
    calls.userinfo++;
    const auth = req.headers.authorization || '';
    const user = issued.get(auth.replace(/^Bearer /, ''));
    if (user === undefined) {
      resp.statusCode = 401;
      resp.body = { error: 'invalid_token' };
    } else {
      resp.body = { sub: `id-${user}`, email: `${user}@tokens.example`, email_verified: true,
        name: `User ${user}`, preferred_username: user };
    }
  });
  // a provider that never answers, and one that answers garbage
  broken = createServer((req, res) => {
    if (req.url.startsWith('/garbage')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"sub": "x", ');
    } /* else: never answered */
  });
  await new Promise((r) => broken.listen(0, '127.0.0.1', r));
  gh = await startGatehouse({ GATEHOUSE_SSO_TIMEOUT: '2s' });
  const url = mock.issuer.url;
  const other = `http://127.0.0.1:${broken.address().port}`;
  const common = { type: 'oauth2', client_id: 'app', client_secret: 'app-secret',
    authorization_endpoint: `${url}/authorize`, token_endpoint: `${url}/token`,
    claims: { subject: 'sub', email: 'email', username: 'preferred_username', name: 'name' },
    auto_create_user: true, default_role: 'member' };
  for (const spec of [
    { ...common, name: 'mock', userinfo_endpoint: `${url}/userinfo` },
    { ...common, name: 'apps', userinfo_endpoint: `${url}/userinfo`, allowed_client_ids: ['app'] },
    { ...common, name: 'hangs', userinfo_endpoint: `${other}/hang` },
    { ...common, name: 'garbage', userinfo_endpoint: `${other}/garbage` },
  ]) {
    const c = await gh.call('POST', '/api/v1/sso/providers', spec);
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
});

after(async () => {
  gh?.stop();
  await mock?.stop();
  broken?.closeAllConnections?.();
  broken?.close();
});

test('a token the provider accepts signs in, once made, then from the cache', async () => {
  const t = await token('tina');
  const r = await gh.call('POST', LOGIN, { provider: 'mock', access_token: t });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.token_type, 'Bearer');
  const me = await gh.call('GET', '/api/v1/auth/me', null, r.body.access_token);
  assert.equal(me.body.username, 'tina');
  const before = calls.userinfo;
  for (let i = 0; i < 5; i++) {
    const again = await gh.call('POST', LOGIN, { provider: 'mock', access_token: t });
    assert.equal(again.status, 200);
  }
  assert.equal(calls.userinfo, before, 'the cache answered');
  assert.equal((await gh.users()).filter((u) => u === 'tina').length, 1);
  assert.equal((await gh.audit('SSO_USER_CREATED')).length, 1);
  assert.ok((await gh.audit('SSO_LOGIN')).length >= 6);
});

test('a refused token is 401 invalid_credentials, and its replay does not reach the provider', async () => {
  const before = calls.userinfo;
  for (let i = 0; i < 3; i++) {
    const r = await gh.call('POST', LOGIN, { provider: 'mock', access_token: 'forged-token-value' });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_credentials');
  }
  assert.equal(calls.userinfo, before + 1);
  const failed = await gh.audit('SSO_LOGIN_FAILED');
  assert.ok(failed.some((e) => JSON.stringify(e.metadata).includes('token_refused')));
});

test('an answer is kept no longer than the token lives', async () => {
  const t = await token('uma', 2);
  assert.equal((await gh.call('POST', LOGIN, { provider: 'mock', access_token: t })).status, 200);
  const before = calls.userinfo;
  await new Promise((r) => setTimeout(r, 3500));
  issued.delete(t); // the provider now refuses it: expired
  const r = await gh.call('POST', LOGIN, { provider: 'mock', access_token: t });
  assert.equal(r.status, 401);
  assert.equal(calls.userinfo, before + 1);
});

test('a provider that hangs or answers garbage: 503 unavailable, nothing stored', async () => {
  const before = await gh.users();
  for (const provider of ['hangs', 'garbage']) {
    const t0 = Date.now();
    const r = await gh.call('POST', LOGIN, { provider, access_token: await token('vic') });
    assert.equal(r.status, 503, provider);
    assert.equal(r.body.error.code, 'unavailable');
    assert.ok(Date.now() - t0 < 15000, provider);
  }
  assert.deepEqual(await gh.users(), before);
});

test('with allowed_client_ids, a JWT access token must name a listed client', async () => {
  let r = await gh.call('POST', LOGIN, { provider: 'apps', access_token: await token('wes', 3600, 'app') });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  for (const client of ['someone-else', undefined]) {
    r = await gh.call('POST', LOGIN, { provider: 'apps', access_token: await token('xan', 3600, client) });
    assert.equal(r.status, 401, String(client));
    assert.equal(r.body.error.code, 'invalid_credentials');
  }
  // an opaque token the provider accepts: nothing tells its client, refused
  issued.set('opaque-token-value', 'yul');
  r = await gh.call('POST', LOGIN, { provider: 'apps', access_token: 'opaque-token-value' });
  assert.equal(r.status, 401);
  assert.ok(!(await gh.users()).includes('xan') && !(await gh.users()).includes('yul'));
});

test('unknown providers and foreign Okta domains are refused; bad bodies are 400', async () => {
  let r = await gh.call('POST', LOGIN, { provider: 'nobody', access_token: 'x' });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.details.field, 'provider');
  r = await gh.call('POST', LOGIN, { provider: 'mock', access_token: 'x', okta_domain: 'evil.example' });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.details.field, 'okta_domain');
  r = await gh.call('POST', LOGIN, { provider: 'mock' });
  assert.equal(r.status, 400);
});

test('no access token reaches the log or the audit trail', async () => {
  const log = gh.log();
  const trail = JSON.stringify(await gh.call('GET', '/api/v1/audit/logs?limit=1000'));
  assert.ok(issued.size >= 3);
  for (const t of [...issued.keys(), 'forged-token-value', 'app-secret']) {
    assert.ok(!log.includes(t), 'a token in the log');
    assert.ok(!trail.includes(t), 'a token in the audit trail');
  }
});
