// The Google, Microsoft and Okta presets with their issuer given as a local oidc-provider
// standing in for the real one (browser-less): each signs in through the code flow and
// takes a provider token; Microsoft's multi-tenant issuer is filled from the token's tid
// (two tenants sign in; an iss naming another tenant than tid, a tid that is no tenant
// name, or none, refused); Okta's okta_domain must be the org's own domain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { freePort, startGatehouse } from './gatehouse.mjs';
import { codeFlow, providerToken, sessionUser } from './flow.mjs';

const LOGIN = '/api/v1/auth/oauth/login';
let gh, base, idp, ms;

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const redirectUris = [base + '/api/v1/auth/sso/callback'];
  const user = { email: (id) => `${id}@presets.example` };
  idp = await startIdp({ port: await freePort(), redirectUris, user, auto: true });
  ms = await startIdp({ port: await freePort(), redirectUris, user, auto: true, tenantTemplate: true });
  gh = await startGatehouse({ GATEHOUSE_SSO_TIMEOUT: '10s' }, port);
  const creds = (i) => ({ client_id: i.client.client_id, client_secret: i.client.client_secret,
    auto_create_user: true });
  for (const spec of [
    { name: 'google', type: 'oidc', preset: 'google', issuer: idp.issuer, ...creds(idp) },
    // tenant "common" (the default): a multi-tenant app, its issuer a template
    { name: 'microsoft', type: 'oidc', preset: 'microsoft', issuer: ms.templated, ...creds(ms) },
    { name: 'okta', type: 'oidc', preset: 'okta', tenant: 'dev-1.okta.example', issuer: idp.issuer,
      ...creds(idp) },
  ]) {
    const c = await gh.call('POST', '/api/v1/sso/providers', spec);
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
});

after(async () => {
  gh?.stop();
  await idp?.close();
  await ms?.close();
});

async function signIn(i, provider, user) {
  i.state.auto = user;
  const flow = await codeFlow(base, provider);
  return { status: flow.status, user: await sessionUser(base, flow) };
}

async function lastRefusal() {
  const failed = await gh.audit('SSO_LOGIN_FAILED');
  return failed.length ? JSON.stringify(failed[0].metadata) : '';
}

test('presets pointed at a stand-in keep their own fields', async () => {
  const g = (await gh.call('GET', '/api/v1/sso/providers/google')).body;
  assert.equal(g.issuer, idp.issuer);
  assert.equal(g.preset, 'google');
  const m = (await gh.call('GET', '/api/v1/sso/providers/microsoft')).body;
  assert.equal(m.tenant, 'common');
  assert.equal(m.issuer, ms.templated);
  // the template is Microsoft's rule: another provider may not take its tenant from tokens
  const r = await gh.call('POST', '/api/v1/sso/providers', { name: 'tpl', type: 'oidc',
    issuer: ms.templated, client_id: 'x', client_secret: 'y' });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.details.field, 'issuer');
  // Okta's preset needs the org's domain
  const o = await gh.call('POST', '/api/v1/sso/providers', { name: 'okta2', type: 'oidc',
    preset: 'okta', issuer: idp.issuer, client_id: 'x', client_secret: 'y' });
  assert.equal(o.status, 422);
  assert.equal(o.body.error.details.field, 'tenant');
});

test('Google: code flow and provider token', async () => {
  assert.deepEqual(await signIn(idp, 'google', 'gwen'), { status: 303, user: 'gwen' });
  idp.state.auto = 'gus';
  const token = await providerToken(idp, idp.client);
  const r = await gh.call('POST', LOGIN, { provider: 'google', access_token: token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await gh.call('GET', '/api/v1/auth/me', null, r.body.access_token)).body.username, 'gus');
});

test('Microsoft: the issuer is filled from tid, for any tenant, and must match it', async () => {
  ms.state.tid = 'tenant-a';
  assert.deepEqual(await signIn(ms, 'microsoft', 'mia'), { status: 303, user: 'mia' });
  ms.state.tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  assert.deepEqual(await signIn(ms, 'microsoft', 'morgan'), { status: 303, user: 'morgan' });
  const cases = {
    'another tenant in iss': { iss: `${ms.issuer}/tenant-b/v2.0`, tid: 'tenant-a' },
    'a tid with a path': { iss: `${ms.issuer}/a/b/v2.0`, tid: 'a/b' },
    'no tid': { iss: `${ms.issuer}/tenant-a/v2.0`, tid: undefined },
    'the template itself': { iss: ms.templated, tid: '{tenantid}' },
  };
  for (const [name, tid] of Object.entries(cases)) {
    ms.state.tid = tid;
    assert.deepEqual(await signIn(ms, 'microsoft', 'mallory'), { status: 401, user: null }, name);
    assert.match(await lastRefusal(), /id_token_issuer/, name);
  }
  assert.ok(!(await gh.users()).includes('mallory'));
});

test('Okta: code flow, and okta_domain must be the org\'s own', async () => {
  assert.deepEqual(await signIn(idp, 'okta', 'otto'), { status: 303, user: 'otto' });
  idp.state.auto = 'olga';
  const token = await providerToken(idp, idp.client);
  let r = await gh.call('POST', LOGIN, { provider: 'okta', access_token: token,
    okta_domain: 'evil.okta.example' });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.details.field, 'okta_domain');
  r = await gh.call('POST', LOGIN, { provider: 'okta', access_token: token,
    okta_domain: 'DEV-1.okta.example' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await gh.call('GET', '/api/v1/auth/me', null, r.body.access_token)).body.username, 'olga');
  // okta_domain names Okta's org: never accepted for another preset
  r = await gh.call('POST', LOGIN, { provider: 'google', access_token: token,
    okta_domain: 'dev-1.okta.example' });
  assert.equal(r.status, 422);
});
