// SSO against a real OpenID Provider on loopback (oidc-provider from npm), through the
// real browser flow (Debian's chromium driven by playwright-core): the login page's
// buttons, sign-in as OIDC (client_secret_basic and _post) and as generic OAuth2 through
// the userinfo endpoint, accounts created and linked, and the refusals: another
// audience, an expired ID token, another nonce, another key, an alg switch, alg none,
// garbage from the token endpoint, a state used twice or from another browser, a provider
// that hangs (503, nothing stored). The audit trail has SSO_LOGIN, SSO_LOGIN_FAILED and
// SSO_USER_CREATED; neither the log nor the audit trail holds a code, token or secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';
import { startIdp } from './idp.mjs';
import { freePort, startGatehouse } from './gatehouse.mjs';

let gh, base, browser, idp;
const seen = { codes: [] }; // what must never reach the log or the audit trail
const api = (...a) => gh.call(...a);
const audit = (action) => gh.audit(action);
const users = () => gh.users();

// RFC 6238 with the RFC 4648 base32 secret the account page shows.
function totp(secret, offsetSteps = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + offsetSteps));
  const h = createHmac('sha1', key).update(msg).digest();
  const o = h[h.length - 1] & 15;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1000000).padStart(6, '0');
}

// A browser context that talks to loopback only (the provider's page asks for web fonts).
async function context() {
  const ctx = await browser.newContext();
  await ctx.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === '127.0.0.1' ? route.continue() : route.abort();
  });
  return ctx;
}

// Follows the provider's pages (its sign-in form, its consent) until the browser is back
// at Gatehouse; gives the status of Gatehouse's callback answer.
async function signInWith(page, provider, login, rd = '/account') {
  let callback = null;
  const onResponse = (r) => { if (r.url().startsWith(base + '/api/v1/auth/sso/callback')) callback = r; };
  page.on('response', onResponse);
  await page.goto(`${base}/login?rd=${encodeURIComponent(rd)}`);
  await page.click(`a.sso:has-text("Sign in with ${provider}")`);
  for (let i = 0; i < 10 && callback === null; i++) {
    await page.waitForLoadState('load');
    if (page.url().startsWith(base)) break;
    if (await page.$('input[name=login]')) {
      await page.fill('input[name=login]', login);
      await page.fill('input[name=password]', 'whatever');
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    } else if (await page.$('button:has-text("Continue")')) {
      await Promise.all([page.waitForNavigation(), page.click('button:has-text("Continue")')]);
    } else {
      await page.waitForTimeout(200);
    }
  }
  for (let i = 0; i < 100 && callback === null; i++) await page.waitForTimeout(100);
  page.off('response', onResponse);
  assert.ok(callback, 'the provider sent the browser back');
  const code = new URL(callback.url()).searchParams.get('code');
  if (code) seen.codes.push(code);
  return callback.status();
}

async function me(page) {
  const r = await page.request.get(base + '/api/v1/auth/me');
  return r.ok() ? r.json() : null;
}

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  idp = await startIdp({ port: await freePort(), redirectUris: [base + '/api/v1/auth/sso/callback'],
    user: { email: (id) => `${id}@corp.example` } });
  gh = await startGatehouse({ GATEHOUSE_SSO_TIMEOUT: '2s' }, port);
  const common = { auto_create_user: true, default_role: 'member', link_by_email: true };
  for (const spec of [
    { name: 'corp', type: 'oidc', issuer: idp.issuer, client_id: idp.client.client_id,
      client_secret: idp.client.client_secret, ...common },
    { name: 'corppost', type: 'oidc', issuer: idp.issuer, client_id: idp.postClient.client_id,
      client_secret: idp.postClient.client_secret, token_auth: 'client_secret_post', ...common },
    { name: 'corpoauth', type: 'oauth2', authorization_endpoint: idp.issuer + '/auth',
      token_endpoint: idp.issuer + '/token', userinfo_endpoint: idp.issuer + '/me',
      client_id: idp.client.client_id, client_secret: idp.client.client_secret, pkce: true,
      scopes: ['openid', 'email', 'profile'],
      claims: { subject: 'sub', email: 'email', username: 'preferred_username', name: 'name' },
      ...common },
    { name: 'closed', type: 'oidc', issuer: idp.issuer, client_id: idp.client.client_id,
      client_secret: idp.client.client_secret, auto_create_user: false },
    { name: 'off', type: 'oidc', issuer: idp.issuer, client_id: idp.client.client_id,
      client_secret: idp.client.client_secret, enabled: false, ...common },
  ]) {
    const c = await api('POST', '/api/v1/sso/providers', spec);
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  gh?.stop();
  await idp?.close();
});

test('the login page shows a button per enabled provider', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(base + '/login?rd=/account');
  const names = await page.$$eval('a.sso', (as) => as.map((a) => a.textContent));
  assert.deepEqual(names.sort(), ['Sign in with closed', 'Sign in with corp',
    'Sign in with corpoauth', 'Sign in with corppost']);
  await ctx.close();
});

test('OIDC sign-in creates the user, ends in a session and returns to rd', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  assert.equal(await signInWith(page, 'corp', 'alice', '/account?from=sso'), 303);
  assert.equal(page.url(), base + '/account?from=sso');
  const who = await me(page);
  assert.equal(who.username, 'alice');
  assert.equal(who.email, 'alice@corp.example');
  const cookies = (await ctx.cookies()).map((c) => c.name);
  assert.ok(cookies.includes('gh_sid') && cookies.includes('gh_csrf'));
  const created = await audit('SSO_USER_CREATED');
  assert.equal(created.length, 1);
  assert.equal(created[0].username, 'alice');
  assert.ok((await audit('SSO_LOGIN')).some((e) => e.username === 'alice'));
  // an open redirect is not followed
  const ctx2 = await context();
  const p2 = await ctx2.newPage();
  assert.equal(await signInWith(p2, 'corp', 'alice', 'https://evil.example/x'), 303);
  assert.equal(p2.url(), base + '/account');
  await ctx.close();
  await ctx2.close();
});

test('client_secret_post and generic OAuth2 (userinfo) sign in as the same user', async () => {
  for (const provider of ['corppost', 'corpoauth']) {
    const ctx = await context();
    const page = await ctx.newPage();
    assert.equal(await signInWith(page, provider, 'bob'), 303, provider);
    assert.equal((await me(page)).username, 'bob', provider);
    await ctx.close();
  }
  assert.equal((await users()).filter((u) => u.startsWith('bob')).length, 1);
  // no auto_create_user: a new subject is refused, and nothing is made
  const ctx = await context();
  const page = await ctx.newPage();
  assert.equal(await signInWith(page, 'closed', 'carol'), 403);
  assert.equal(await me(page), null);
  assert.ok(!(await users()).includes('carol'));
  await ctx.close();
});

test('the account page lists linked sign-ins and keeps the last one', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  assert.equal(await signInWith(page, 'corppost', 'bob'), 303); // bob: corppost and corpoauth
  await page.goto(base + '/account');
  const rows = page.locator('#s-ids ~ .scroll tbody tr');
  assert.equal(await rows.count(), 2);
  assert.match(await page.textContent('#s-ids ~ .scroll tbody'), /corppost[\s\S]*corpoauth/);
  await page.locator('button:has-text("Unlink")').last().click();
  assert.match(await page.textContent('[role=status]'), /unlinked/);
  assert.equal(await rows.count(), 1);
  // bob has no password: the last linked sign-in stays
  const r = page.waitForResponse((res) => res.url().endsWith('/account/identities/unlink'));
  await page.locator('button:has-text("Unlink")').click();
  assert.equal((await r).status(), 409);
  assert.match(await page.textContent('[role=alert]'), /last way you can sign in/);
  assert.equal(await rows.count(), 1);
  await ctx.close();
});

test('an SSO user without a password enrols TOTP, and SSO then asks for the code', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  assert.equal(await signInWith(page, 'corp', 'gina'), 303);
  await page.goto(base + '/account');
  await page.click('button:has-text("Set up")');
  await page.waitForSelector('svg.qr');
  const secret = (await page.textContent('#totp-secret')).trim();
  await page.fill('#f-code', totp(secret));
  await page.click('button:has-text("Turn on")');
  assert.equal(await page.locator('#backup-codes li').count(), 10);
  await ctx.close();

  const again = await context();
  const p2 = await again.newPage();
  assert.equal(await signInWith(p2, 'corp', 'gina'), 303);
  await p2.waitForURL(/\/login\/mfa/);
  assert.equal(await me(p2), null); // nothing before the second factor
  await p2.fill('#f-code', totp(secret, 1));
  await p2.click('button:has-text("Verify")');
  await p2.waitForURL(base + '/account');
  assert.equal((await me(p2)).username, 'gina');
  await again.close();
});

test('spoiled ID tokens and answers are refused and audited with their reason', async () => {
  const cases = { aud: 'id_token_audience', expired: 'id_token_expired', nonce: 'id_token_nonce',
    otherkey: 'id_token_signature', alg: 'id_token_signature', none: 'id_token_signature',
    garbage: 'provider_answer_invalid' };
  const before = await users();
  for (const [mode, reason] of Object.entries(cases)) {
    idp.setMode(mode);
    const ctx = await context();
    const page = await ctx.newPage();
    try {
      assert.equal(await signInWith(page, 'corp', `mallory-${mode}`), 401, mode);
      assert.equal(await me(page), null, mode);
      assert.ok(!(await ctx.cookies()).some((c) => c.name === 'gh_sid'), mode);
      const failed = await audit('SSO_LOGIN_FAILED');
      assert.ok(failed.some((e) => JSON.stringify(e.metadata).includes(reason)), `${mode}: ${reason}`);
    } finally {
      idp.setMode(null);
      await ctx.close();
    }
  }
  assert.deepEqual(await users(), before);
});

test('a state is used once, and only by the browser that started the sign-in', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  idp.hold(true); // the provider keeps the browser instead of sending it back
  let callbackUrl = null;
  try {
    await page.goto(`${base}/login`);
    await page.click('a.sso:has-text("Sign in with corp")');
    for (let i = 0; i < 10 && idp.state.captured === null; i++) {
      await page.waitForLoadState('load');
      if (await page.$('input[name=login]')) {
        await page.fill('input[name=login]', 'dave');
        await page.fill('input[name=password]', 'x');
        await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      } else if (await page.$('button:has-text("Continue")')) {
        await Promise.all([page.waitForNavigation(), page.click('button:has-text("Continue")')]);
      } else {
        await page.waitForTimeout(200);
      }
    }
    callbackUrl = idp.state.captured;
  } finally {
    idp.hold(false);
  }
  assert.ok(callbackUrl, 'the provider redirected back');
  seen.codes.push(new URL(callbackUrl).searchParams.get('code'));
  // another browser with the whole callback URL: refused, and the state is spent
  const thief = await context();
  const tp = await thief.newPage();
  const r1 = await tp.goto(callbackUrl);
  assert.equal(r1.status(), 401);
  const r2 = await page.goto(callbackUrl);
  assert.equal(r2.status(), 401);
  assert.equal(await me(page), null);
  const reasons = (await audit('SSO_LOGIN_FAILED')).map((e) => JSON.stringify(e.metadata));
  assert.ok(reasons.some((m) => m.includes('state_other_browser')));
  assert.ok(reasons.some((m) => m.includes('state_unknown')));
  // a completed sign-in's callback replayed in the same browser
  const ctx3 = await context();
  const p3 = await ctx3.newPage();
  let done = null;
  p3.on('response', (r) => { if (r.url().startsWith(base + '/api/v1/auth/sso/callback')) done = r.url(); });
  assert.equal(await signInWith(p3, 'corp', 'erin'), 303);
  const again = await p3.goto(done);
  assert.equal(again.status(), 401);
  await Promise.all([ctx.close(), thief.close(), ctx3.close()]);
});

test('a provider that hangs: 503 after sso.timeout, nothing stored', async () => {
  const before = await users();
  idp.setMode('hang');
  const ctx = await context();
  const page = await ctx.newPage();
  try {
    const t0 = Date.now();
    assert.equal(await signInWith(page, 'corp', 'frank'), 503);
    assert.ok(Date.now() - t0 < 20000);
    assert.equal(await me(page), null);
  } finally {
    idp.setMode(null);
    await ctx.close();
  }
  assert.deepEqual(await users(), before);
  const failed = await audit('SSO_LOGIN_FAILED');
  assert.ok(failed.some((e) => JSON.stringify(e.metadata).includes('provider_unavailable')));
});

test('neither the log nor the audit trail holds a code, a token or the client secret', async () => {
  const log = gh.log();
  const trail = JSON.stringify(await api('GET', '/api/v1/audit/logs?limit=1000'));
  const secrets = [idp.client.client_secret, idp.postClient.client_secret, ...seen.codes];
  assert.ok(seen.codes.length >= 5);
  for (const s of secrets.filter(Boolean)) {
    assert.ok(!log.includes(s), 'a secret in the log');
    assert.ok(!trail.includes(s), 'a secret in the audit trail');
  }
  assert.match(log, /sso/); // the log was written and read
});
