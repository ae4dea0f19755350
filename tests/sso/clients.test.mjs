// Tokens of other apps (the confused deputy), against oidc-provider's RFC 7662
// introspection: with allowed_client_ids, a provider token issued to another client of
// the same provider is refused (401 invalid_credentials, SSO_LOGIN_FAILED
// token_other_client, the refusal cached); a listed client's token signs in; without the
// list any token the provider accepts does (the documented default).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { freePort, startGatehouse } from './gatehouse.mjs';
import { providerToken } from './flow.mjs';

const LOGIN = '/api/v1/auth/oauth/login';
let gh, idp;

before(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  idp = await startIdp({ port: await freePort(), redirectUris: [base + '/api/v1/auth/sso/callback'],
    user: { email: (id) => `${id}@clients.example` }, auto: true });
  gh = await startGatehouse({ GATEHOUSE_SSO_TIMEOUT: '10s' }, port);
  const common = { type: 'oidc', issuer: idp.issuer, client_id: idp.client.client_id,
    client_secret: idp.client.client_secret, auto_create_user: true };
  for (const spec of [
    { name: 'mine', allowed_client_ids: [idp.client.client_id, 'my-ios-app'], ...common },
    { name: 'open', ...common },
  ]) {
    const c = await gh.call('POST', '/api/v1/sso/providers', spec);
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
});

after(async () => {
  gh?.stop();
  await idp?.close();
});

test('the list is kept and shown; bad lists are refused', async () => {
  const p = (await gh.call('GET', '/api/v1/sso/providers/mine')).body;
  assert.deepEqual(p.allowed_client_ids, [idp.client.client_id, 'my-ios-app']);
  assert.deepEqual((await gh.call('GET', '/api/v1/sso/providers/open')).body.allowed_client_ids, []);
  for (const bad of [['a b'], [''], Array(9).fill('x'), 'x']) {
    const r = await gh.call('PATCH', '/api/v1/sso/providers/mine', { allowed_client_ids: bad });
    assert.ok(r.status === 422 || r.status === 400, JSON.stringify(bad));
  }
});

test('a listed client\'s token signs in; another app\'s is refused and audited', async () => {
  idp.state.auto = 'pat';
  const own = await providerToken(idp, idp.client);
  let r = await gh.call('POST', LOGIN, { provider: 'mine', access_token: own });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await gh.call('GET', '/api/v1/auth/me', null, r.body.access_token)).body.username, 'pat');

  idp.state.auto = 'quinn';
  const foreign = await providerToken(idp, idp.otherClient);
  const asked = idp.state.introspectionCalls;
  for (let i = 0; i < 3; i++) {
    r = await gh.call('POST', LOGIN, { provider: 'mine', access_token: foreign });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_credentials');
  }
  assert.equal(idp.state.introspectionCalls, asked + 1, 'the refusal is cached');
  const failed = await gh.audit('SSO_LOGIN_FAILED');
  assert.ok(failed.some((e) => e.metadata.provider === 'mine' &&
    JSON.stringify(e.metadata).includes('token_other_client')), JSON.stringify(failed));
  assert.ok(!(await gh.users()).includes('quinn'));
  // without a list, the provider's word alone: the other app's token signs in
  r = await gh.call('POST', LOGIN, { provider: 'open', access_token: foreign });
  assert.equal(r.status, 200);
  // no token in the log or the audit trail
  const trail = JSON.stringify(await gh.call('GET', '/api/v1/audit/logs?limit=1000'));
  for (const t of [own, foreign]) {
    assert.ok(!gh.log().includes(t) && !trail.includes(t));
  }
});
