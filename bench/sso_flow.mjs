// The SSO flow's added latency (bench/sso.sh): full browser-less OIDC code flows against
// oidc-provider (tests/sso's idp, its interaction finished at once), one at a time. Each
// flow's hops are timed by this client; the provider's token endpoint, which Gatehouse
// calls inside its callback, is timed inside the provider. Provider's time = its own hops
// (authorize, interaction, resume) + its token endpoint; Gatehouse's = its hops (authorize,
// callback) - the token endpoint. Prints medians in ms over FLOWS flows after 3 warm-ups.
// Env: BASE (a Gatehouse), TOKEN (its admin's access token), FLOWS (default 50).
import { createServer } from 'node:net';
import { startIdp } from '../tests/sso/idp.mjs';
import { codeFlow } from '../tests/sso/flow.mjs';

const { BASE, TOKEN } = process.env;
const FLOWS = Number(process.env.FLOWS || 50);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
const sum = (a) => a.reduce((x, y) => x + y, 0);
const port = await new Promise((r) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); });
});
const idp = await startIdp({ port, redirectUris: [`${BASE}/api/v1/auth/sso/callback`],
  user: { email: (id) => `${id}@bench.example` }, auto: true });
idp.state.auto = 'bench-flow';
const made = await fetch(`${BASE}/api/v1/sso/providers`, { method: 'POST',
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'flowbench', type: 'oidc', issuer: idp.issuer,
    client_id: idp.client.client_id, client_secret: idp.client.client_secret, auto_create_user: true }) });
if (made.status !== 201) throw new Error(`provider not saved: ${made.status} ${await made.text()}`);

const rows = { total: [], provider: [], gatehouse: [], token: [], authorize: [], callback: [] };
for (let i = 0; i < FLOWS + 3; i++) {
  const before = idp.state.tokenMs.length;
  const flow = await codeFlow(BASE, 'flowbench');
  if (flow.status !== 303 || idp.state.tokenMs.length !== before + 1) {
    throw new Error(`flow ${i}: ${flow.status}`);
  }
  if (i < 3) continue; // the first fetches discovery and keys; then connections warm
  const token = idp.state.tokenMs[before];
  const own = flow.hops.filter((h) => h.origin === BASE);
  const theirs = flow.hops.filter((h) => h.origin !== BASE);
  rows.total.push(sum(flow.hops.map((h) => h.ms)));
  rows.provider.push(sum(theirs.map((h) => h.ms)) + token);
  rows.gatehouse.push(sum(own.map((h) => h.ms)) - token);
  rows.token.push(token);
  rows.authorize.push(own[0].ms);
  rows.callback.push(own[own.length - 1].ms - token);
}
const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
console.log(`flows ${FLOWS} (medians, ms): whole flow ${m.total.toFixed(2)}; ` +
  `provider ${m.provider.toFixed(2)} (its token endpoint ${m.token.toFixed(2)}); ` +
  `Gatehouse ${m.gatehouse.toFixed(2)} (authorize ${m.authorize.toFixed(2)}, ` +
  `callback less the token endpoint ${m.callback.toFixed(2)})`);
console.log(`gatehouse/provider ${(m.gatehouse / m.provider).toFixed(2)}`);
await idp.close();
