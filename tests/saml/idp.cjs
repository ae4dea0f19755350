// A real SAML 2.0 identity provider on loopback for tests/integration/test_saml.py:
// auth0's samlp (the IdP library saml-idp is built on) behind express. It signs in one
// fixed user without asking and answers each HTTP-Redirect AuthnRequest at /sso with
// the HTTP-POST form of a signed Response, as any IdP does.
//   node idp.cjs PORT_FILE KEY CERT ALT_KEY ALT_CERT ACS_URL
// It writes its port to PORT_FILE once listening (port 0: the system picks). POST
// /control {audience?, lifetime?, alt?, signResponse?, signAssertion?, user?, encryptFor?,
// encryptKey?, encryptionAlgorithm?} changes the
// next answer only (another audience, a past lifetime, another key...), so the tests
// get the refusals out of the real IdP's own output.
'use strict';
const fs = require('fs');
const express = require('express');
const samlp = require('samlp');

const [portFile, keyFile, certFile, altKeyFile, altCertFile, acs] = process.argv.slice(2);
const key = fs.readFileSync(keyFile, 'utf8');
const cert = fs.readFileSync(certFile, 'utf8');
const altKey = fs.readFileSync(altKeyFile, 'utf8');
const altCert = fs.readFileSync(altCertFile, 'utf8');
const defaultUser = { id: 'ann-0001', email: 'ann@example.com', name: 'Ann Smith', username: 'ann' };

// Plain attribute names (email, name, preferred_username) and the user's id as NameID.
function profileMapper(user) {
  return {
    getClaims: () => ({ email: user.email, name: user.name, preferred_username: user.username }),
    getNameIdentifier: () => ({ nameIdentifier: user.id }),
  };
}

const app = express();
let issuer = '';
let once = {};
app.post('/control', express.json(), (req, res) => {
  once = req.body || {};
  res.json({ ok: true });
});
app.get('/metadata', (req, res, next) =>
  samlp.metadata({ issuer, cert, redirectEndpointPath: '/sso' })(req, res, next));
app.get('/sso', (req, res, next) => {
  const o = once;
  once = {};
  samlp.auth({
    issuer,
    cert: o.alt ? altCert : cert,
    key: o.alt ? altKey : key,
    audience: o.audience,
    lifetimeInSeconds: o.lifetime,
    recipient: acs,
    destination: acs,
    signResponse: !!o.signResponse,
    signAssertion: o.signAssertion !== false,
    getPostURL: (audience, dom, rq, cb) => cb(null, acs),
    getUserFromRequest: () => Object.assign({}, defaultUser, o.user || {}),
    // the assertion encrypted for this certificate and its public key (PEM), as an IdP does
    // with the encryption certificate of the SP's metadata
    encryptionCert: o.encryptFor,
    encryptionPublicKey: o.encryptKey,
    encryptionAlgorithm: o.encryptionAlgorithm,
    // samlp refuses AES-CBC unless told: the tests ask for it to show the SP takes it
    disallowEncryptionWithInsecureAlgorithm: !o.encryptionAlgorithm,
    warnOnInsecureEncryptionAlgorithm: false,
    profileMapper,
  })(req, res, next);
});

const server = app.listen(Number(process.env.IDP_PORT || 0), '127.0.0.1', () => {
  const port = server.address().port;
  issuer = `http://127.0.0.1:${port}/metadata`;
  fs.writeFileSync(portFile, String(port));
});
