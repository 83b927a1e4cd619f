// The phone platform's own sign-in end to end: email and password (the
// platform's password grant, with its failure limit and lockout) and the
// platform's SSO broker (SAML with the company's provider; the emulator's
// page stands in for it), in real headless Chromium with the real native
// host and the real Secret Service (scripts/with-keyring). The extension
// reaches the platform only through the admin's policy (platformUrl).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openExtensionPage, startEmulator, until, artifact } from './lib/harness.mjs';
import { ANA, provider, google, phase, notice, dumpStorage, clickSignIn } from './lib/auth.mjs';

const BOSS = { email: 'boss@example.com', name: 'Bo Boss' };
const ANA_PW = 'correct horse battery';
const BOSS_PW = 'admin-Pa55!';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

const platformUrl = () => `${emu.url}/platform`;

async function platform(method, auth = {}) {
  await emu.control('POST', '/platform/reset');
  await emu.control('PUT', '/platform/agents', [
    { login_email: ANA.email, name: ANA.name, password: ANA_PW },
    { login_email: BOSS.email, name: BOSS.name, privileged: true, role: 'admin', password: BOSS_PW },
  ]);
  await emu.control('PUT', '/platform/method', { method });
  await emu.control('PUT', '/platform/auth', { max_failures: 5, lockout_seconds: 900, sso_configured: true, ...auth });
}

/** Types the email and password in the popup's form and submits it with Enter. */
async function passwordSignIn(popup, email, password) {
  const form = popup.getByTestId('password-signin');
  await form.waitFor();
  await popup.getByLabel('Email', { exact: true }).fill(email);
  await popup.getByLabel('Phone-system password', { exact: true }).fill(password);
  await popup.getByLabel('Phone-system password', { exact: true }).press('Enter');
}

/** The popup's message once the attempt ended signed out. */
async function refusal(popup) {
  await until(async () => (await phase(popup)) === 'signed_out' && (await popup.getByTestId('auth-notice').count()) > 0,
    { timeout: 15000, what: 'the refusal' });
  return notice(popup);
}

async function platformSessionId(page) {
  return (await page.evaluate(() => chrome.storage.session.get('platformSession'))).platformSession;
}

async function me(session) {
  const r = await fetch(`${platformUrl()}/v1/me`, { headers: { authorization: `Bearer ${session}` } });
  return r.status;
}

test('password company: a wrong password says how many attempts are left, the right one signs in, the password is kept nowhere, sign-out deletes the platform session', async () => {
  await platform('password');
  const b = await launch({ host: true, policy: { signInMethod: 'password', platformUrl: platformUrl() } });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    await passwordSignIn(popup, ANA.email, 'not-it');
    const wrong = await refusal(popup);
    assert.equal(wrong.key, 'signinWrongPasswordRemaining');
    assert.match(wrong.text, /4 attempt\(s\) left/);
    assert.equal(await popup.getByLabel('Phone-system password', { exact: true }).inputValue(), '', 'the password field is emptied');
    assert.equal(await popup.getByLabel('Email', { exact: true }).inputValue(), ANA.email, 'the email stays');
    await popup.screenshot({ path: artifact('popup-password-wrong.png') });

    await passwordSignIn(popup, ANA.email, ANA_PW);
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
    assert.equal(await popup.getByTestId('profile-email').textContent(), ANA.email);
    assert.equal(await popup.getByTestId('profile-provider').textContent(), 'Signed in with your phone-system password');
    await popup.screenshot({ path: artifact('popup-password-signed-in.png') });
    const kept = await dumpStorage(popup, { session: true });
    assert.ok(!kept.includes(ANA_PW) && !kept.includes('not-it'), 'no password in any browser storage');
    assert.ok(kept.includes(ANA.email), 'the dump did read the storage');
    const session = await platformSessionId(popup);
    assert.equal(await me(session), 200, 'the platform session is live');

    const options = await openExtensionPage(b, 'options.html');
    await options.getByRole('button', { name: 'Sign out' }).click();
    await until(async () => (await phase(options)) === 'signed_out', { what: 'signed out' });
    assert.equal((await notice(options)).key, 'signedOut');
    assert.equal(await me(session), 401, 'sign-out deleted the platform session');
    await until(async () => (await phase(popup)) === 'signed_out', { what: 'the popup follows' });
    // The password went in a request body only: never in a URL.
    const seen = await emu.control('GET', '/requests');
    assert.ok(!JSON.stringify(seen).includes(encodeURIComponent(ANA_PW)) && !JSON.stringify(seen).includes(ANA_PW));
    assert.ok(seen.some((r) => r.method === 'DELETE' && r.path === '/platform/v1/sessions/current' && r.status === 204));
  } finally {
    await b.close();
  }
});

test('lockout: after the last wrong password the platform locks the account and the popup says when to retry', async () => {
  await platform('password', { max_failures: 2, lockout_seconds: 120 });
  const b = await launch({ host: true, policy: { signInMethod: 'password', platformUrl: platformUrl() } });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    await passwordSignIn(popup, ANA.email, 'nope');
    assert.equal((await refusal(popup)).key, 'signinWrongPasswordRemaining');
    await passwordSignIn(popup, ANA.email, 'nope again');
    await until(async () => (await popup.getByTestId('auth-notice').getAttribute('data-key').catch(() => null)) === 'signinLockedOutMinutes',
      { timeout: 15000, what: 'locked out' });
    const locked = await notice(popup);
    assert.match(locked.text, /Try again in 2 minute\(s\)/);
    // Even the right password is refused until the lockout ends.
    await passwordSignIn(popup, ANA.email, ANA_PW);
    await until(async () => (await phase(popup)) === 'signed_out' && (await notice(popup)).key === 'signinLockedOutMinutes',
      { timeout: 15000, what: 'still locked out' });
    await popup.screenshot({ path: artifact('popup-password-locked.png') });
    assert.equal(await phase(popup), 'signed_out');
  } finally {
    await b.close();
  }
});

test('Google company: privileged users also get the password form; others are refused before the password leaves; the platform revokes the session', async () => {
  await platform('google');
  await provider(emu, '/oidc', { auto: ANA.email });
  const b = await launch({
    host: true,
    policy: { identityProviders: [google(emu)], signInMethod: 'google', privilegedUsers: [BOSS.email], platformUrl: platformUrl() },
  });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    await popup.getByRole('button', { name: 'Sign in with Google' }).waitFor();
    assert.match(await popup.getByTestId('password-signin').textContent(), /Administrators your company allows/);
    await emu.control('DELETE', '/requests');
    await passwordSignIn(popup, ANA.email, ANA_PW);
    assert.equal((await refusal(popup)).key, 'signinPasswordPrivilegedOnly');
    const seen = await emu.control('GET', '/requests');
    assert.ok(!seen.some((r) => r.path === '/platform/v1/sessions'), 'nothing was sent to the platform');

    await passwordSignIn(popup, BOSS.email, BOSS_PW);
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'the administrator signed in' });
    assert.equal(await popup.getByTestId('profile-email').textContent(), BOSS.email);
    // The platform revokes the session (its event stream): every surface signs out.
    const options = await openExtensionPage(b, 'options.html');
    await until(async () => (await phase(options)) === 'signed_in', { what: 'the options page signed in' });
    await emu.control('POST', '/platform/revoke-sessions', { login_email: BOSS.email });
    for (const surface of [popup, options]) {
      await until(async () => (await phase(surface)) === 'signed_out', { timeout: 5000, what: 'signed out by the platform' });
    }
    assert.equal((await notice(popup)).key, 'revokedByPlatform');
  } finally {
    await b.close();
  }
});

test('SSO company: the platform brokers the sign-in (one-time code, PKCE), sign-out deletes the session, and SSO not set up says to ask the admin', async () => {
  await platform('sso');
  const b = await launch({ host: true, policy: { signInMethod: 'sso', platformUrl: platformUrl() } });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    assert.equal(await popup.getByTestId('password-signin').count(), 0, 'no password form without privileged users');
    const broker = await clickSignIn(b, popup, "Sign in with your company's single sign-on", { consent: true });
    assert.ok(broker.url().startsWith(`${platformUrl()}/sso/start?`), broker.url());
    const q = new URL(broker.url()).searchParams;
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('code_challenge').length, 43);
    await broker.getByRole('button', { name: `Continue as ${ANA.name} (${ANA.email})` }).click();
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in through SSO' });
    assert.equal(await popup.getByTestId('profile-email').textContent(), ANA.email);
    assert.equal(await popup.getByTestId('profile-provider').textContent(), "Signed in with your company's single sign-on");
    await popup.screenshot({ path: artifact('popup-sso-signed-in.png') });
    const session = await platformSessionId(popup);
    assert.equal(await me(session), 200);

    const options = await openExtensionPage(b, 'options.html');
    await options.getByRole('button', { name: 'Sign out' }).click();
    await until(async () => (await phase(popup)) === 'signed_out', { what: 'signed out' });
    assert.equal(await me(session), 401, 'sign-out deleted the platform session');
    await options.close();

    await emu.control('PUT', '/platform/auth', { sso_configured: false });
    await clickSignIn(b, popup, "Sign in with your company's single sign-on");
    const n = await refusal(popup);
    assert.equal(n.key, 'signinSsoNotConfigured');
    assert.match(n.text, /Ask your administrator/);
  } finally {
    await b.close();
  }
});

test('a password session under a sign-in method change: the countdown, then the sign-out, as for Google sessions', async () => {
  await platform('password');
  const b = await launch({ host: true, policy: { signInMethod: 'password', platformUrl: platformUrl() } });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    await passwordSignIn(popup, ANA.email, ANA_PW);
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
    await emu.control('PUT', '/platform/method', { method: 'google', effective_in_ms: 4000 });
    await popup.getByTestId('sign-out-countdown').waitFor({ timeout: 3000 });
    await until(async () => (await phase(popup)) === 'signed_out', { timeout: 10000, what: 'signed out at the announced time' });
    assert.equal((await notice(popup)).key, 'revokedMethodChanged');
  } finally {
    await b.close();
  }
});

test('French and German: the refusals read in the agent\'s language', async () => {
  for (const [lang, re] of [['fr-FR', /Encore 2 essai\(s\)/], ['de-DE', /Noch 2 Versuch\(e\)/]]) {
    await platform('password', { max_failures: 3 });
    const b = await launch({ host: true, lang, policy: { signInMethod: 'password', platformUrl: platformUrl() } });
    try {
      const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
      await popup.getByTestId('password-signin').waitFor();
      await popup.locator('#signin-email').fill(ANA.email);
      await popup.locator('#signin-password').fill('wrong');
      await popup.locator('#signin-password').press('Enter');
      const n = await refusal(popup);
      assert.equal(n.key, 'signinWrongPasswordRemaining');
      assert.match(n.text, re);
    } finally {
      await b.close();
    }
  }
});
