// The SSO bench's providers on loopback: oauth2-mock-server (tests/sso's node_modules),
// whose userinfo endpoint vouches for any token, and a provider whose every endpoint
// hangs. Prints "mock <url>" and "hang <url>", then serves until killed.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
const require = createRequire(new URL('../tests/sso/package.json', import.meta.url));
const { OAuth2Server } = require('oauth2-mock-server');

const mock = new OAuth2Server();
await mock.issuer.keys.generate('RS256');
await mock.start(0, '127.0.0.1');
const hang = createServer(() => { /* never answered */ });
await new Promise((r) => hang.listen(0, '127.0.0.1', r));
console.log(`mock ${mock.issuer.url}`);
console.log(`hang http://127.0.0.1:${hang.address().port}`);
