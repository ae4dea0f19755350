// The SAML 2.0 sign-in through the real browser flow: Debian's chromium (playwright-core)
// clicks the login page's button, follows the signed HTTP-Redirect AuthnRequest to the IdP
// on loopback (idp.cjs: samlp), whose page posts the signed Response back to the ACS by
// itself, and lands on rd with a session. The refusals built from the IdP's output are in
// tests/integration/test_saml.py; here the browser also shows that a posted answer only
// counts in the browser that started the sign-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, startGatehouse } from '../sso/gatehouse.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
let gh, browser, idp, idpBase, dir;

// An RSA key and its self-signed certificate (openssl), as files in dir.
function keyPair(name) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)],
  { stdio: 'ignore' });
  return { key: readFileSync(join(dir, `${name}.key`), 'utf8'),
    cert: readFileSync(join(dir, `${name}.crt`), 'utf8') };
}

async function startIdp(acs) {
  const portFile = join(dir, 'idp.port');
  idp = spawn('node', [join(HERE, 'idp.cjs'), portFile, join(dir, 'idp.key'), join(dir, 'idp.crt'),
    join(dir, 'other.key'), join(dir, 'other.crt'), acs], { stdio: 'ignore' });
  for (let i = 0; i < 300 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(portFile), 'the IdP did not start');
  await new Promise((r) => setTimeout(r, 100)); // the port is written whole
  idpBase = `http://127.0.0.1:${readFileSync(portFile, 'utf8')}`;
}

// A browser context that talks to loopback only.
async function context() {
  const ctx = await browser.newContext();
  await ctx.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1'
    ? route.continue() : route.abort()));
  return ctx;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-saml-browser-'));
  keyPair('idp');
  keyPair('other');
  const sp = keyPair('sp');
  const port = await freePort();
  await startIdp(`http://127.0.0.1:${port}/api/v1/auth/saml/acs`);
  gh = await startGatehouse({}, port);
  const metadata = await (await fetch(idpBase + '/metadata')).text();
  const c = await gh.call('POST', '/api/v1/sso/providers', { name: 'corpsaml', type: 'saml',
    idp_metadata_xml: metadata, sp_private_key: sp.key, sp_certificate: sp.cert,
    auto_create_user: true, trust_email: true });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  gh?.stop();
  idp?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the login page button signs in through the IdP and returns to rd', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  let acs = null;
  page.on('response', (r) => { if (r.url() === gh.base + '/api/v1/auth/saml/acs') acs = r; });
  await page.goto(`${gh.base}/login?rd=${encodeURIComponent('/account')}`);
  await Promise.all([page.waitForURL(`${gh.base}/account`, { timeout: 30000 }),
    page.click('a.sso:has-text("Sign in with corpsaml")')]);
  assert.ok(acs, 'the IdP posted the answer to the ACS');
  assert.equal(acs.status(), 303);
  const me = await page.request.get(gh.base + '/api/v1/auth/me');
  assert.equal(me.status(), 200);
  assert.equal((await me.json()).email, 'ann@example.com');
  const logins = await gh.audit('SSO_LOGIN');
  assert.ok(logins.some((e) => e.metadata.provider === 'corpsaml'));
  await ctx.close();
});

test('an answer posted from another browser is refused there and spent', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  // the browser's own post of the IdP's answer, kept and stopped on its way
  let posted = null;
  await page.route(gh.base + '/api/v1/auth/saml/acs', (route) => {
    posted = route.request().postData();
    return route.abort();
  });
  await page.goto(`${gh.base}/api/v1/auth/saml/login?provider=corpsaml`).catch(() => {});
  for (let i = 0; i < 300 && posted === null; i++) await page.waitForTimeout(100);
  assert.ok(posted, 'the IdP page posted its answer');
  const fields = Object.fromEntries(new URLSearchParams(posted));
  assert.ok(fields.SAMLResponse && fields.RelayState);
  const other = await context();
  const r = await other.request.post(gh.base + '/api/v1/auth/saml/acs', { form: fields,
    maxRedirects: 0 });
  assert.equal(r.status(), 401);
  const failed = await gh.audit('SSO_LOGIN_FAILED');
  assert.ok(failed.some((e) => e.metadata.reason === 'browser'));
  await other.close();
  await ctx.close();
});
