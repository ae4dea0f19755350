// The sign-in portal in a real browser: Debian's chromium driven by playwright-core.
// Sign up, sign in, TOTP enrolment (the secret read from the page, codes computed here),
// sign out, sign in with a code and with a backup code, a session revoked from another
// browser, the admin pages, re-authentication for a dangerous action (a short
// auth.reauth_window), JavaScript off; on every page no CSP violation and no serious
// or critical axe finding; screenshots at desktop and phone width in screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.GATEHOUSE_BIN || join(HERE, '../../build/gatehouse');
const SHOTS = join(HERE, 'screenshots');
const ADMIN_PASSWORD = 'Tq8-vexing-Walrus-51!';
const REAUTH_WINDOW = 5; // seconds: the re-authentication test waits it out
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

let server, base, dataDir, browser;
const violations = []; // CSP reports seen on any page

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function waitReady(url) {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(url + '/healthz')).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('gatehouse did not start');
}

// RFC 6238 with the RFC 4648 base32 secret the page shows.
function totp(secret, offsetSteps = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const step = Math.floor(Date.now() / 1000 / 30) + offsetSteps;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', key).update(msg).digest();
  const o = h[h.length - 1] & 15;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1000000).padStart(6, '0');
}

async function newPage(context) {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  return page;
}

// Checks the page the browser shows: no CSP report, no serious or critical axe finding,
// and a screenshot at both widths.
async function check(page, name) {
  assert.deepEqual(violations, [], `CSP violations on ${name}`);
  if (page.context()._jsOff !== true) {
    const res = await new AxeBuilder({ page }).analyze();
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), [], `axe on ${name}`);
  }
  for (const [size, vp] of Object.entries(SIZES)) {
    await page.setViewportSize(vp);
    await page.screenshot({ path: join(SHOTS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(SIZES.desktop);
}

async function signIn(page, username, password) {
  await page.goto(base + '/login');
  await page.fill('#f-username', username);
  await page.fill('#f-password', password);
  await page.click('button[type=submit]:has-text("Sign in")');
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'gh-browser-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    GATEHOUSE_PASSWORD_BCRYPT_COST: '4', GATEHOUSE_AUTH_ALGORITHM: 'ES256',
    GATEHOUSE_RATE_LIMIT_GLOBAL: '0', GATEHOUSE_RATE_LIMIT_AUTH: '0',
    GATEHOUSE_LOGIN_BACKOFF: 'off', GATEHOUSE_AUTH_REAUTH_WINDOW: `${REAUTH_WINDOW}s` };
  server = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir],
    { env, stdio: 'ignore' });
  await waitReady(base);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

test('sign up, TOTP, sign out, sign in with a code and a backup code, revoke a session', async () => {
  const user = `br${Date.now()}`;
  const password = `Violet-Harbor-${Date.now() % 9973}-Kite!`;
  const ctx = await browser.newContext({ viewport: SIZES.desktop });
  const page = await newPage(ctx);

  await page.goto(base + '/register');
  await check(page, 'register');
  await page.fill('#f-username', user);
  await page.fill('#f-email', `${user}@example.test`);
  await page.fill('#f-password', password);
  await page.click('button:has-text("Create account")');
  await page.waitForURL(/\/login\?registered=1/);
  assert.match(await page.textContent('[role=status]'), /account was created/);
  await check(page, 'login');

  // a wrong password: the error is announced and tied to the fields
  await signIn(page, user, 'wrong-password');
  assert.match(await page.textContent('[role=alert]'), /username or the password is wrong/);
  assert.equal(await page.getAttribute('#f-password', 'aria-describedby'), 'form-error');
  await check(page, 'login-error');

  await signIn(page, user, password);
  await page.waitForURL(base + '/account');
  await check(page, 'account');

  // TOTP enrolment: the secret from the page, the code computed here
  await page.click('button:has-text("Set up")');
  await page.waitForSelector('svg.qr');
  const secret = (await page.textContent('#totp-secret')).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await check(page, 'mfa-setup');
  await page.fill('#f-code', totp(secret));
  await page.click('button:has-text("Turn on")');
  const codes = await page.$$eval('#backup-codes li', (els) => els.map((e) => e.textContent));
  assert.equal(codes.length, 10);
  await check(page, 'backup-codes');

  // sign out; sign in again with the next step's code (the confirming step is spent)
  await page.goto(base + '/account');
  await page.click('button:has-text("Sign out")');
  await page.waitForURL(/signed_out=1/);
  assert.match(await page.textContent('[role=status]'), /signed out/i);
  await check(page, 'signed-out');
  await signIn(page, user, password);
  await page.waitForURL(/\/login\/mfa/);
  await check(page, 'login-mfa');
  await page.fill('#f-code', '000000');
  await page.click('button:has-text("Verify")');
  assert.match(await page.textContent('[role=alert]'), /wrong or was used/);
  await page.fill('#f-code', totp(secret, 1));
  await page.click('button:has-text("Verify")');
  await page.waitForURL(base + '/account');

  // a second browser signs in with a backup code; the first revokes its session
  const other = await browser.newContext({ viewport: SIZES.phone });
  const page2 = await newPage(other);
  await signIn(page2, user, password);
  await page2.waitForURL(/\/login\/mfa/);
  await page2.fill('#f-code', codes[0]);
  await page2.click('button:has-text("Verify")');
  await page2.waitForURL(base + '/account');
  // the same backup code again is refused
  const page3 = await newPage(await browser.newContext());
  await signIn(page3, user, password);
  await page3.waitForURL(/\/login\/mfa/);
  await page3.fill('#f-code', codes[0]);
  await page3.click('button:has-text("Verify")');
  assert.match(await page3.textContent('[role=alert]'), /wrong or was used/);

  await page.reload();
  const revoke = page.locator('button:has-text("Revoke")').last();
  assert.equal(await page.locator('#s-sessions ~ .scroll tbody tr').count(), 2);
  await revoke.click();
  assert.match(await page.textContent('[role=status]'), /session was ended/);
  await page2.goto(base + '/account');
  await page2.waitForURL(/\/login\?rd=/);
  await ctx.close();
  await other.close();
});

test('the admin pages', async () => {
  const ctx = await browser.newContext({ viewport: SIZES.desktop });
  const page = await newPage(ctx);
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.waitForURL(base + '/account');
  for (const tab of ['users', 'orgs', 'audit']) {
    await page.goto(`${base}/admin?tab=${tab}`);
    assert.equal(await page.getAttribute(`a[href="/admin?tab=${tab}"]`, 'aria-current'), 'page');
    await check(page, `admin-${tab}`);
  }
  await page.goto(`${base}/admin?tab=audit&action=LOGIN`);
  const actions = await page.$$eval('tbody tr td:nth-child(3)', (els) => els.map((e) => e.textContent));
  assert.ok(actions.length > 0 && actions.every((a) => a === 'LOGIN'));
  await ctx.close();
});

// A dangerous action with the page's session: the API with the browser context's cookies,
// the CSRF header and the Origin a same-origin request carries (the pages' CSP allows no
// script to fetch). The status and body of DELETE /api/v1/orgs/{id} or of POST /api/v1/orgs.
async function api(ctx, method, path, body) {
  const csrf = (await ctx.cookies()).find((c) => c.name === 'gh_csrf').value;
  const r = await ctx.request.fetch(base + path, { method, data: body,
    headers: { 'X-CSRF-Token': csrf, Origin: base } });
  return { status: r.status(), body: await r.text() };
}

test('a dangerous action past the window asks for the password again', async () => {
  const ctx = await browser.newContext({ viewport: SIZES.desktop });
  const page = await newPage(ctx);
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.waitForURL(base + '/account');
  assert.match(await page.textContent('#reauth-state'), /you may now/);
  const made = await api(ctx, 'POST', '/api/v1/orgs', { name: `ra${Date.now()}` });
  assert.equal(made.status, 201, made.body);
  const org = JSON.parse(made.body).id;
  await new Promise((r) => setTimeout(r, (REAUTH_WINDOW + 1.5) * 1000));

  let res = await api(ctx, 'DELETE', `/api/v1/orgs/${org}`);
  assert.equal(res.status, 403);
  assert.equal(JSON.parse(res.body).error.code, 'reauth_required');
  await page.reload();
  assert.match(await page.textContent('#reauth-state'), /confirm it first/);
  await check(page, 'account-reauth');

  // a wrong password is refused on the page; the right one confirms without a new sign-in
  await page.fill('#f-confirm_password', 'not-the-password');
  await page.click('button:has-text("Confirm")');
  assert.match(await page.textContent('[role=alert]'), /password or the code is wrong/);
  await check(page, 'account-reauth-error');
  await page.fill('#f-confirm_password', ADMIN_PASSWORD);
  await page.click('button:has-text("Confirm")');
  await page.waitForURL(/\/account\?confirmed=1/);
  assert.match(await page.textContent('[role=status]'), /Confirmed/);
  res = await api(ctx, 'DELETE', `/api/v1/orgs/${org}`);
  assert.equal(res.status, 204, res.body);
  await ctx.close();
});

test('signing in works with JavaScript off', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  ctx._jsOff = true;
  const page = await newPage(ctx);
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.waitForURL(base + '/account');
  assert.match(await page.textContent('h1'), /Your account/);
  await check(page, 'account-nojs');
  await ctx.close();
});
