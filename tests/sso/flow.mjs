// A browser-less sign-in: follows the redirects of Gatehouse's authorize, the provider's
// pages (an idp started with auto: true finishes its interaction at once) and Gatehouse's
// callback, keeping each origin's cookies, and times each hop (tests and bench/sso.sh).
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

// Signs in through provider at the Gatehouse of base; gives the callback's status and
// location, Gatehouse's cookies, and the hops ({gatehouse, path, status, ms}).
export async function codeFlow(base, provider, rd = '/account') {
  const jar = new Map();
  const hops = [];
  let url = `${base}/api/v1/auth/sso/authorize?provider=${provider}&redirect_to=${encodeURIComponent(rd)}`;
  for (let i = 0; i < MAX_HOPS; i++) {
    const u = new URL(url);
    const cookies = [...(jar.get(u.origin) || new Map())].map(([k, v]) => `${k}=${v}`).join('; ');
    const t0 = performance.now();
    const res = await fetch(url, { redirect: 'manual', headers: cookies ? { cookie: cookies } : {} });
    await res.arrayBuffer();
    const gatehouse = u.origin === base;
    hops.push({ gatehouse, path: u.pathname, status: res.status, ms: performance.now() - t0 });
    keepCookies(jar, u.origin, res);
    const location = res.headers.get('location');
    if ((gatehouse && u.pathname === '/api/v1/auth/sso/callback') || !location ||
        res.status < 300 || res.status >= 400) {
      return { status: res.status, location, cookies: jar.get(base) || new Map(), hops };
    }
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects');
}

// Who the flow's session belongs to (null: none).
export async function sessionUser(base, flow) {
  const sid = flow.cookies.get('gh_sid');
  if (!sid) return null;
  const r = await fetch(base + '/api/v1/auth/me', { headers: { cookie: `gh_sid=${sid}` } });
  return r.ok ? (await r.json()).username : null;
}
