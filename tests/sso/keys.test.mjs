// The provider's keys and the ID token's audiences, browser-less against oidc-provider:
// a key rotated in (a kid Gatehouse lacks) is fetched once and accepted; a kid still
// unknown after that fetch is refused; a flood of unknown kids does not make Gatehouse
// ask the provider again within its 10 s period; with several audiences, azp must be
// our client id (another or none refused).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp } from './idp.mjs';
import { freePort, startGatehouse } from './gatehouse.mjs';
import { codeFlow, sessionUser } from './flow.mjs';

const REFRESH_MS = 10000; // GH_SSO_KEYS_REFRESH
let gh, base, idp;

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  idp = await startIdp({ port: await freePort(), redirectUris: [base + '/api/v1/auth/sso/callback'],
    user: { email: (id) => `${id}@keys.example` }, auto: true });
  gh = await startGatehouse({ GATEHOUSE_SSO_TIMEOUT: '10s' }, port);
  const c = await gh.call('POST', '/api/v1/sso/providers', { name: 'corp', type: 'oidc',
    issuer: idp.issuer, client_id: idp.client.client_id, client_secret: idp.client.client_secret,
    auto_create_user: true });
  assert.equal(c.status, 201, JSON.stringify(c.body));
});

after(async () => {
  gh?.stop();
  await idp?.close();
});

async function signIn(user, mode) {
  idp.state.auto = user;
  idp.setMode(mode);
  try {
    const flow = await codeFlow(base, 'corp');
    return { status: flow.status, user: await sessionUser(base, flow) };
  } finally {
    idp.setMode(null);
  }
}

async function lastRefusal() {
  const failed = await gh.audit('SSO_LOGIN_FAILED');
  return failed.length ? JSON.stringify(failed[0].metadata) : '';
}

// Waits (bounded) until Gatehouse may fetch the keys again.
async function pastRefreshPeriod() {
  const wait = idp.state.lastJwksAt + REFRESH_MS + 1500 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, REFRESH_MS + 1500)));
}

test('the first sign-in fetches the keys; the next ones use them', async () => {
  assert.deepEqual(await signIn('kim', null), { status: 303, user: 'kim' });
  const jwks = idp.state.jwksCalls;
  assert.equal(jwks, 1);
  assert.deepEqual(await signIn('kim', null), { status: 303, user: 'kim' });
  assert.equal(idp.state.jwksCalls, jwks);
});

test('an unknown kid: refreshed once, still unknown, refused; a flood asks no more', async () => {
  await pastRefreshPeriod();
  const jwks = idp.state.jwksCalls;
  const discovery = idp.state.discoveryCalls;
  const t0 = Date.now();
  assert.deepEqual(await signIn('lee', 'stranger'), { status: 401, user: null });
  assert.match(await lastRefusal(), /id_token_signature/);
  assert.equal(idp.state.jwksCalls, jwks + 1, 'the keys fetched again, once');
  assert.equal(idp.state.discoveryCalls, discovery + 1, 'with the discovery document');
  for (let i = 0; i < 8; i++) {
    assert.deepEqual(await signIn('lee', 'stranger'), { status: 401, user: null });
  }
  // one more fetch at most if the flood outlasted the period on a loaded machine
  const periods = Math.floor((Date.now() - t0) / REFRESH_MS);
  assert.ok(idp.state.jwksCalls - (jwks + 1) <= periods, `${idp.state.jwksCalls - jwks} fetches`);
  assert.ok(!(await gh.users()).includes('lee'));
});

test('a key rotated in is fetched on its first token and accepted', async () => {
  idp.state.rotated = true; // the provider publishes its next key, then signs with it
  await pastRefreshPeriod();
  const jwks = idp.state.jwksCalls;
  assert.deepEqual(await signIn('max', 'rotated'), { status: 303, user: 'max' });
  assert.equal(idp.state.jwksCalls, jwks + 1);
  assert.deepEqual(await signIn('max', 'rotated'), { status: 303, user: 'max' });
  assert.equal(idp.state.jwksCalls, jwks + 1, 'the new key kept');
  // the old key still signs too while the provider publishes it
  assert.deepEqual(await signIn('max', null), { status: 303, user: 'max' });
});

test('several audiences: azp must be our client id', async () => {
  assert.deepEqual(await signIn('nia', 'azp_self'), { status: 303, user: 'nia' });
  for (const mode of ['azp_other', 'azp_missing']) {
    assert.deepEqual(await signIn('oli', mode), { status: 401, user: null }, mode);
    assert.match(await lastRefusal(), /id_token_audience/, mode);
  }
  assert.ok(!(await gh.users()).includes('oli'));
});
