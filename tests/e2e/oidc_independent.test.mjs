// Sign-in against an OpenID Connect provider this project did not write:
// npm `oidc-provider` (panva; OpenID Certified), run here on loopback with
// its own login and consent pages, as a company would set up a public client
// for Ringside's redirect URI. It follows the specification where Ringside's
// emulator might not: with the code flow it puts email and name only at the
// userinfo endpoint (Core §5.4), issues a refresh token only for
// `offline_access` with consent (§11), and signs ID tokens with the
// algorithm the client is registered for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import { generateKeyPairSync } from 'node:crypto';
import { launch, openExtensionPage, until } from './lib/harness.mjs';
import { REDIRECT, clickSignIn, phase, secretFor } from './lib/auth.mjs';

const PEOPLE = {
  ana: { email: 'ana@example.com', email_verified: true, name: 'Ana Ruiz' },
  eve: { email: 'eve@example.com', email_verified: false, name: 'Eve Unverified' },
};

let issuer;
let server;
let provider;
before(async () => {
  const keys = [];
  for (const [alg, type, options] of [['RS256', 'rsa', { modulusLength: 2048 }], ['ES256', 'ec', { namedCurve: 'P-256' }]]) {
    const { privateKey } = generateKeyPairSync(type, options);
    keys.push({ ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `k-${alg}` });
  }
  server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${server.address().port}`;
  const client = (id, alg) => ({
    client_id: id,
    token_endpoint_auth_method: 'none',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: alg,
  });
  provider = new Provider(issuer, {
    clients: [client('ringside-rs256', 'RS256'), client('ringside-es256', 'ES256')],
    jwks: { keys },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    claims: { email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
    async findAccount(_ctx, sub) {
      const who = PEOPLE[sub];
      return who && { accountId: sub, claims: async () => ({ sub, ...who }) };
    },
  });
  server.on('request', provider.callback());
});
after(() => server?.close());

const idp = (clientId) => ({ kind: 'oidc', issuer, clientId, allowedDomains: ['example.com'] });

/** The provider's own login page, then its consent page, as the agent fills them in. */
async function logIn(auth, login) {
  await auth.waitForLoadState();
  await auth.locator('input[name=login]').fill(login);
  await auth.locator('input[name=password]').fill('any password');
  await auth.locator('button[type=submit]').click();
  await auth.getByRole('button', { name: 'Continue' }).click({ timeout: 10000 });
}

/** Whether the provider still honours a refresh token (a grant at its token endpoint). */
async function refreshWorks(clientId, refreshToken) {
  const r = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
  });
  return r.status === 200;
}

for (const clientId of ['ringside-rs256', 'ringside-es256']) {
  test(`an independent provider (oidc-provider, ${clientId.slice(-5).toUpperCase()}): login and consent pages, claims from userinfo, the refresh token in the Secret Service, revoked at sign-out`, async () => {
    const b = await launch({ host: true, policy: { identityProviders: [idp(clientId)] } });
    try {
      const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
      const auth = await clickSignIn(b, popup, 'Sign in with your company account', { consent: true });
      await logIn(auth, 'ana');
      await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
      // The ID token held `sub` alone: name and email came from userinfo.
      assert.equal(await popup.getByTestId('profile-name').textContent(), 'Ana Ruiz');
      assert.equal(await popup.getByTestId('profile-email').textContent(), 'ana@example.com');
      assert.equal(await popup.getByTestId('auth-notice').count(), 0, 'no notice: a refresh token came and the host keeps it');
      const refresh = secretFor(issuer, clientId)?.trim();
      assert.ok(refresh && refresh.length > 20, `refresh token in the Secret Service (got ${refresh})`);

      // Sign out (the options page's account card).
      const options = await openExtensionPage(b, 'options.html');
      await options.getByRole('button', { name: 'Sign out' }).click();
      await until(async () => (await phase(options)) === 'signed_out', { what: 'signed out' });
      assert.equal(secretFor(issuer, clientId), null, 'gone from the Secret Service');
      assert.equal(await refreshWorks(clientId, refresh), false, 'revoked at the provider');
    } finally {
      await b.close();
    }
  });
}

test('an independent provider: an account whose email is not verified is refused with that reason', async () => {
  const b = await launch({ host: true, policy: { identityProviders: [idp('ringside-rs256')] } });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
    const auth = await clickSignIn(b, popup, 'Sign in with your company account', { consent: true });
    await logIn(auth, 'eve');
    const n = popup.getByTestId('auth-notice');
    await n.waitFor({ timeout: 15000 });
    assert.equal(await n.getAttribute('data-key'), 'signinEmailUnverified');
    assert.equal(await phase(popup), 'signed_out');
    assert.equal(secretFor(issuer, 'ringside-rs256'), null, 'the refused grant is not kept');
  } finally {
    await b.close();
  }
});
