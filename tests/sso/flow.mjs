// A browser-less sign-in: follows the redirects of Gatehouse's authorize, the provider's
// pages (an idp started with auto: true finishes its interaction at once) and Gatehouse's
// callback, keeping each origin's cookies, and times each hop (tests and bench/sso.sh).
import { createHash, randomBytes } from 'node:crypto';

const MAX_HOPS = 12;

function keepCookies(jar, origin, res) {
  const mine = jar.get(origin) || new Map();
  jar.set(origin, mine);
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
    if (gone || value === '') mine.delete(name); else mine.set(name, value);
  }
}

// Follows redirects from url, keeping cookies in jar and timing each hop into hops, until
// a request to a URL for which last(u) holds, a URL for which stop(u) holds (not fetched),
// or an answer that is not a redirect. Gives the last answer's status and location.
async function follow(url, { jar, hops, last = () => false, stop = () => false }) {
  for (let i = 0; i < MAX_HOPS; i++) {
    const u = new URL(url);
    if (stop(u)) return { status: 0, location: url };
    const cookies = [...(jar.get(u.origin) || new Map())].map(([k, v]) => `${k}=${v}`).join('; ');
    const t0 = performance.now();
    const res = await fetch(url, { redirect: 'manual', headers: cookies ? { cookie: cookies } : {} });
    await res.arrayBuffer();
    hops.push({ origin: u.origin, path: u.pathname, status: res.status, ms: performance.now() - t0 });
    keepCookies(jar, u.origin, res);
    const location = res.headers.get('location');
    if (last(u) || !location || res.status < 300 || res.status >= 400) {
      return { status: res.status, location };
    }
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects');
}

// Signs in through provider at the Gatehouse of base; gives the callback's status and
// location, Gatehouse's cookies, and the hops ({origin, path, status, ms}).
export async function codeFlow(base, provider, rd = '/account') {
  const jar = new Map();
  const hops = [];
  const start = `${base}/api/v1/auth/sso/authorize?provider=${provider}&redirect_to=${encodeURIComponent(rd)}`;
  const end = await follow(start, { jar, hops,
    last: (u) => u.origin === base && u.pathname === '/api/v1/auth/sso/callback' });
  return { ...end, cookies: jar.get(base) || new Map(), hops };
}

// An access token of idp (startIdp) for client, as an app of that client would get one:
// its own code flow (PKCE) with the provider, the code exchanged at the token endpoint.
export async function providerToken(idp, client, scope = 'openid email profile') {
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = client.redirect_uris[0];
  const q = new URLSearchParams({ client_id: client.client_id, response_type: 'code', scope,
    redirect_uri: redirectUri, state: randomBytes(8).toString('hex'), code_challenge_method: 'S256',
    code_challenge: createHash('sha256').update(verifier).digest('base64url') });
  const end = await follow(`${idp.issuer}/auth?${q}`, { jar: new Map(), hops: [],
    stop: (u) => u.href.startsWith(redirectUri) });
  const code = end.status === 0 ? new URL(end.location).searchParams.get('code') : null;
  if (!code) throw new Error(`the provider gave no code (${end.status})`);
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  const res = await fetch(`${idp.issuer}/token`, { method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri,
      code_verifier: verifier }) });
  const body = await res.json();
  if (!body.access_token) throw new Error(`no access token: ${JSON.stringify(body)}`);
  return body.access_token;
}

// Who the flow's session belongs to (null: none).
export async function sessionUser(base, flow) {
  const sid = flow.cookies.get('gh_sid');
  if (!sid) return null;
  const r = await fetch(base + '/api/v1/auth/me', { headers: { cookie: `gh_sid=${sid}` } });
  return r.ok ? (await r.json()).username : null;
}
