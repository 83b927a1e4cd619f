// Windows, under Wine: the host's OAuth work against the emulator's Google
// provider on loopback (the emulator runs on Linux; Wine's Winsock reaches
// it), with the refresh token in Credential Manager: read back with
// CredReadW (wintool.exe), used by a later host process, revoked at the
// provider and gone after auth.forget.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startEmulator } from '../e2e/lib/harness.mjs';
import { provider, REDIRECT, ANA } from '../e2e/lib/auth.mjs';
import { prepare, hostOk, session, frame, HELLO, DEV_ID, wineTool, credentials } from './lib/wine.mjs';

const CLIENT = 'ringside-windows';
let emu;
before(async () => {
  prepare();
  hostOk(['install', '--browser', 'edge', '--extension-id', DEV_ID]);
  emu = await startEmulator();
  await provider(emu, '/oidc', { client: CLIENT, auto: ANA.email });
});
after(() => {
  emu?.stop();
  hostOk(['uninstall', '--browser', 'edge']);
});

const b64url = (b) => b.toString('base64url');

/** The authorization request as the browser makes it; returns code and verifier. */
async function authorize(issuer) {
  const d = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const verifier = b64url(randomBytes(32));
  const url = new URL(d.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT,
    redirect_uri: REDIRECT,
    scope: 'openid email profile',
    state: 's1',
    nonce: 'n1',
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    access_type: 'offline',
    prompt: 'consent',
  }).toString();
  const r = await fetch(url, { redirect: 'manual' });
  assert.ok(r.status >= 301 && r.status <= 303, `${r.status}: ${await r.text()}`);
  const code = new URL(r.headers.get('location')).searchParams.get('code');
  assert.ok(code, r.headers.get('location'));
  return { code, verifier };
}

test('auth.exchange keeps the refresh token in Credential Manager; auth.refresh uses it from a new process; auth.forget revokes and deletes it', async () => {
  const issuer = `${emu.url}/google`;
  const target = `${issuer} ${CLIENT}.ringside`;
  assert.ok(!credentials().includes(target));
  const { code, verifier } = await authorize(issuer);
  const account = { issuer, client_id: CLIENT };

  // The session ends (the host process exits) after the exchange.
  let s = session(Buffer.concat([
    frame(HELLO),
    frame({ id: 1, type: 'auth.exchange', params: { ...account, code, code_verifier: verifier, redirect_uri: REDIRECT } }),
  ]));
  const grant = s.json[1].result;
  assert.ok(grant, `${JSON.stringify(s.json[1])}\n${s.stderr}`);
  assert.equal(grant.stored, true, JSON.stringify(grant));
  assert.ok(grant.access_token && grant.id_token);
  assert.ok(!('refresh_token' in grant), 'the refresh token never goes back to the browser');

  // Credential Manager holds it (generic credential "<issuer> <client>.ringside").
  const stored = wineTool(['cred-read', target]);
  assert.equal(stored.status, 0, `no credential ${target}: ${stored.stderr}; present: ${credentials().join(', ')}`);
  const refreshToken = stored.text;
  assert.ok(refreshToken.length > 10);
  assert.ok(!s.stdout.toString('utf8').includes(refreshToken), 'not on the wire');
  assert.ok(!s.stderr.includes(refreshToken), 'not in the log');

  // A new host process refreshes with the stored token.
  s = session(Buffer.concat([frame(HELLO), frame({ id: 2, type: 'auth.refresh', params: account })]));
  assert.ok(s.json[1].result?.access_token, JSON.stringify(s.json[1]));
  assert.notEqual(s.json[1].result.access_token, grant.access_token);

  // Forget: revoked at the provider, then deleted from Credential Manager.
  const now = wineTool(['cred-read', target]).text;
  s = session(Buffer.concat([frame(HELLO), frame({ id: 3, type: 'auth.forget', params: { ...account, revoke: true } })]));
  assert.deepEqual(s.json[1], { id: 3, result: { revoked: true, deleted: true } });
  assert.ok((await emu.control('GET', '/oidc/revocations')).includes(now), 'the provider saw the revocation');
  assert.equal(wineTool(['cred-read', target]).status, 1, 'the credential is gone');
  assert.ok(!credentials().includes(target));

  // And a refresh now says there is nothing to refresh with.
  s = session(Buffer.concat([frame(HELLO), frame({ id: 4, type: 'auth.refresh', params: account })]));
  assert.equal(s.json[1].error?.name, 'no_refresh_token', JSON.stringify(s.json[1]));
});
