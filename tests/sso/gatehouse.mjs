// Starting the Gatehouse binary for the SSO tests, and calling its API as the admin.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.GATEHOUSE_BIN || join(HERE, '../../build/gatehouse');
const ADMIN_PASSWORD = 'Tq8-vexing-Walrus-51!';

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// A server on a fresh data directory (its output in gatehouse.log there), with the
// bootstrap admin signed in; env adds to the test settings.
export async function startGatehouse(env = {}, port = null) {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-sso-'));
  port = port || await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logPath = join(dataDir, 'gatehouse.log');
  const log = openSync(logPath, 'a');
  const proc = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    env: { ...process.env, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      GATEHOUSE_PASSWORD_BCRYPT_COST: '4', GATEHOUSE_AUTH_ALGORITHM: 'ES256',
      GATEHOUSE_RATE_LIMIT_GLOBAL: '0', GATEHOUSE_RATE_LIMIT_AUTH: '0',
      GATEHOUSE_LOGIN_BACKOFF: 'off', GATEHOUSE_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', log, log] });
  let up = false;
  for (let i = 0; i < 600 && !up; i++) { // a loaded machine: up to a minute
    try { up = (await fetch(base + '/healthz')).ok; } catch { /* not yet */ }
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) throw new Error('gatehouse did not start');
  const r = await fetch(base + '/api/v1/auth/login', { method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const admin = (await r.json()).access_token;
  const gh = {
    base, logPath,
    async call(method, path, body, token = admin) {
      const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`,
        'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async audit(action) {
      const res = await gh.call('GET', `/api/v1/audit/logs?action=${action}&limit=1000`);
      return res.body.items;
    },
    async users() {
      return (await gh.call('GET', '/api/v1/users?limit=1000')).body.items.map((u) => u.username);
    },
    log: () => readFileSync(logPath, 'utf8'),
    stop() { proc.kill('SIGTERM'); rmSync(dataDir, { recursive: true, force: true }); },
  };
  return gh;
}
