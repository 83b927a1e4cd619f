// Sign-in end to end: real headless Chromium with the unpacked extension, the
// real native host, the real Secret Service (the suite runs under
// scripts/with-keyring: a private D-Bus session with gnome-keyring), and the
// emulator playing Google, Microsoft and the phone platform. The extension
// reaches the emulator only through its settings (identity providers and
// platform URL), set as an admin sets them: managed policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openExtensionPage, startEmulator, until, artifact } from './lib/harness.mjs';
import {
  ANA, REDIRECT, TENANT, provider as setProvider, google as googleAt, configure, secretFor, clickSignIn, phase, notice,
  dumpStorage,
} from './lib/auth.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

const provider = (control, opts) => setProvider(emu, control, opts);
const google = (extra) => googleAt(emu, extra);

test('Google: consent page, profile in the popup, refresh token only in the Secret Service, kept across a restart, revoked at sign-out', async () => {
  await provider('/oidc');
  // The admin's policy, there before the browser starts (and again at the restart).
  const policy = { identityProviders: [google()] };
  let b = await launch({ host: true, policy });
  const dirs = b.dirs;
  try {
    let popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
    assert.equal(await phase(popup), 'signed_out');
    const consent = await clickSignIn(b, popup, 'Sign in with Google', { consent: true });
    assert.ok(consent, 'the consent page opened');
    await consent.getByRole('button', { name: `Continue as ${ANA.name} (${ANA.email})` }).click();

    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
    assert.equal(await popup.getByTestId('profile-name').textContent(), ANA.name);
    assert.equal(await popup.getByTestId('profile-email').textContent(), ANA.email);
    assert.equal(await popup.getByTestId('profile-provider').textContent(), 'Signed in with Google');
    // The photo URL came too, but nothing answers it here: the picture that
    // cannot load takes itself away instead of showing a broken-image icon.
    await until(async () => (await popup.locator('[data-testid=profile] img').count()) === 0,
      { timeout: 5000, what: 'no broken profile picture' });
    assert.equal(await popup.getByTestId('profile-name').isVisible(), true);
    await popup.screenshot({ path: artifact('popup-signed-in.png') });

    const refresh = secretFor(`${emu.url}/google`, 'ringside-e2e');
    assert.ok(refresh && refresh.length > 20, `refresh token in the Secret Service (got ${refresh})`);
    const persistent = await dumpStorage(popup);
    assert.ok(!persistent.includes(refresh), 'no refresh token in storage.local, storage.sync or IndexedDB');
    assert.ok(persistent.includes(ANA.email), 'the dump did read storage.local (the profile is there)');
    const session = await popup.evaluate(() => chrome.storage.session.get(null));
    assert.ok(!JSON.stringify(session).includes(refresh), 'with the host, no refresh token in storage.session either');

    // Restart with the same profile: signed in again without a prompt.
    await b.close({ keep: true });
    b = await launch({ host: true, dirs, policy });
    const prompted = b.context.waitForEvent('page', { timeout: 4000 }).catch(() => null);
    popup = await openExtensionPage(b, 'popup.html');
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in after restart' });
    assert.equal(await popup.getByTestId('profile-email').textContent(), ANA.email);
    const other = await prompted;
    assert.ok(!other || !other.url().includes('/o/oauth2/'), 'no consent page after the restart');

    // Sign out from the options page: revoked at the provider, secret gone.
    const options = await openExtensionPage(b, 'options.html');
    await options.getByRole('button', { name: 'Sign out' }).click();
    await until(async () => (await phase(options)) === 'signed_out', { what: 'signed out' });
    assert.equal((await notice(options)).key, 'signedOut');
    assert.ok((await emu.control("GET", "/oidc/revocations")).includes(refresh), "the provider saw the refresh token revoked");
    assert.equal(secretFor(`${emu.url}/google`, 'ringside-e2e'), null, 'the Secret Service entry is deleted');
    await until(async () => (await phase(popup)) === 'signed_out', { what: 'the popup follows' });
  } finally {
    await b.close();
  }
});

test('Microsoft: signs in through the Entra-flavoured provider, from the keyboard alone', async () => {
  await provider('/oidc-microsoft', { users: [{ email: 'li@contoso.com', name: 'Li Wei' }], auto: 'li@contoso.com' });
  const b = await launch({
    host: true,
    policy: { identityProviders: [{ kind: 'microsoft', issuer: `${emu.url}/microsoft/${TENANT}/v2.0`, clientId: 'ringside-e2e', tenant: TENANT }] },
  });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    // Keyboard only: Tab to the button, Enter.
    await popup.getByRole('button', { name: 'Sign in with Microsoft' }).waitFor();
    for (let i = 0; i < 10; i++) {
      await popup.keyboard.press('Tab');
      if (await popup.evaluate(() => document.activeElement?.textContent) === 'Sign in with Microsoft') break;
    }
    assert.equal(await popup.evaluate(() => document.activeElement?.textContent), 'Sign in with Microsoft');
    await popup.keyboard.press('Enter');
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
    assert.equal(await popup.getByTestId('profile-provider').textContent(), 'Signed in with Microsoft');
    assert.equal(await popup.getByTestId('profile-email').textContent(), 'li@contoso.com');
    assert.ok(secretFor(`${emu.url}/microsoft/${TENANT}/v2.0`, 'ringside-e2e'));
  } finally {
    await b.close();
  }
});

test('refusals: wrong domain, unverified email, tampered signature, wrong nonce and a user the platform has not invited each say why', async () => {
  const users = [ANA, { email: 'bo@other.org', name: 'Bo', hd: 'other.org' }, { email: 'cy@example.com', name: 'Cy', hd: 'example.com', email_verified: false }];
  await provider('/oidc', { users });
  await emu.control('PUT', '/platform/agents', [{ login_email: 'cy@example.com', name: 'Cy' }]);
  const b = await launch({ host: true, policy: { identityProviders: [google({ allowedDomains: ['example.com'] })] } });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    const attempt = async (email, fault = null) => {
      await emu.control('PUT', '/oidc/consent', { auto: email });
      await emu.control('PUT', '/oidc/id-token-fault', { fault });
      await clickSignIn(b, popup, 'Sign in with Google');
      await until(async () => (await phase(popup)) === 'signed_out' && (await popup.getByTestId('auth-notice').count()) > 0,
        { timeout: 15000, what: `refusal for ${email} ${fault}` });
      return notice(popup);
    };
    const wrongDomain = await attempt('bo@other.org');
    assert.equal(wrongDomain.key, 'signinWrongDomain');
    assert.match(wrongDomain.text, /example\.com/);
    assert.equal((await attempt('cy@example.com')).key, 'signinEmailUnverified');
    assert.equal((await attempt(ANA.email, 'tamper')).key, 'signinTokenInvalid');
    assert.equal((await attempt(ANA.email, 'wrong_nonce')).key, 'signinReplay');
    await emu.control('PUT', '/oidc/id-token-fault', { fault: null });

    // The admin changes the policy while the browser runs (Chromium applies it after its settle delay).
    await configure(b, { identityProviders: [google({ allowedDomains: ['example.com'] })], platformUrl: `${emu.url}/platform` });
    const notInvited = await attempt(ANA.email);
    assert.equal(notInvited.key, 'signinNotInvited');
    assert.match(notInvited.text, /ana@example\.com has not been invited/);
    // Each refused attempt left nothing behind.
    assert.equal(secretFor(`${emu.url}/google`, 'ringside-e2e'), null);

    // A company that signs in with passwords: Google only for privileged users.
    await configure(b, { identityProviders: [google({ allowedDomains: ['example.com'] })], signInMethod: 'password' });
    assert.equal((await attempt(ANA.email)).key, 'signinMethodNotAllowed');
    await configure(b, {
      identityProviders: [google({ allowedDomains: ['example.com'] })], signInMethod: 'password', privilegedUsers: [ANA.email],
    });
    await clickSignIn(b, popup, 'Sign in with Google');
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'a privileged user signs in' });
    await popup.screenshot({ path: artifact('popup-not-invited.png') });
  } finally {
    await emu.control('PUT', '/oidc/id-token-fault', { fault: null });
    await b.close();
  }
});

test('setup: no provider, and a provider that rejects the client, each show the admin warning with the redirect URI', async () => {
  await provider('/oidc', { client: 'ringside-conf', secret: 'only-the-host-knows', auto: ANA.email });
  const b = await launch({ host: true });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    const warning = popup.getByTestId('setup-warning');
    await warning.waitFor();
    assert.equal(await warning.getAttribute('data-problem'), 'setupNoProvider');
    assert.equal(await popup.getByTestId('setup-redirect-uri').textContent(), REDIRECT);
    assert.equal(await popup.getByRole('button', { name: /^Sign in/ }).count(), 0);

    // A confidential client whose secret the host was not given.
    await configure(b, { identityProviders: [google({ clientId: 'ringside-conf' })] });
    await clickSignIn(b, popup, 'Sign in with Google');
    await until(async () => (await popup.getByTestId('setup-warning').getAttribute('data-problem').catch(() => null)) === 'setupInvalidClient',
      { timeout: 15000, what: 'invalid client warning' });
    assert.match(await popup.getByTestId('setup-warning').textContent(), new RegExp(REDIRECT.replace(/[.]/g, '\\.')));
    const options = await openExtensionPage(b, 'options.html');
    assert.equal(await options.getByTestId('setup-warning').getAttribute('data-problem'), 'setupInvalidClient');
    await popup.screenshot({ path: artifact('popup-setup-warning.png') });
  } finally {
    await b.close();
  }
});

test('without the host: signs in as a public client for this browser session and says so', async () => {
  await provider('/oidc', { client: 'ringside-public', auto: ANA.email });
  const b = await launch({ host: false, policy: { identityProviders: [google({ clientId: 'ringside-public' })] } });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    await clickSignIn(b, popup, 'Sign in with Google');
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
    const n = await notice(popup);
    assert.equal(n.key, 'signinBrowserOnly');
    assert.match(n.text, /this browser session only/);
    assert.equal(secretFor(`${emu.url}/google`, 'ringside-public'), null);
    const persistent = await dumpStorage(popup);
    assert.ok(!persistent.includes('"refresh_token"'), 'the refresh token stays in storage.session');
  } finally {
    await b.close();
  }
});

// The generic `oidc` kind, with the emulator's provider behaving as many
// certified providers do where OpenID Connect leaves them the choice.
const companyIdp = (extra = {}) => ({ kind: 'oidc', issuer: `${emu.url}/google`, clientId: 'ringside-e2e', ...extra });
const behaviour = (b) => emu.control('PUT', '/oidc/behaviour', b);

test('generic OIDC: identity claims only at userinfo, a refresh token only with consent: signs in with both, and the platform reads userinfo itself', async () => {
  await provider('/oidc', { auto: ANA.email });
  await behaviour({ claims_at_userinfo: true, offline_needs_consent: true });
  await emu.control('PUT', '/platform/agents', [{ login_email: ANA.email, name: ANA.name }]);
  await emu.control('PUT', '/platform/method', { method: 'google' });
  await emu.control('DELETE', '/requests');
  const b = await launch({ host: true, policy: { identityProviders: [companyIdp({ allowedDomains: [] })], platformUrl: `${emu.url}/platform` } });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
    await clickSignIn(b, popup, 'Sign in with your company account');
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
    // Name, email and photo came from userinfo (the ID token held `sub` alone).
    assert.equal(await popup.getByTestId('profile-name').textContent(), ANA.name);
    assert.equal(await popup.getByTestId('profile-email').textContent(), ANA.email);
    // The photo URL came too, but nothing answers it here: the picture that
    // cannot load takes itself away instead of showing a broken-image icon.
    await until(async () => (await popup.locator('[data-testid=profile] img').count()) === 0,
      { timeout: 5000, what: 'no broken profile picture' });
    assert.equal(await popup.getByTestId('profile-name').isVisible(), true);
    assert.equal(await popup.getByTestId('auth-notice').count(), 0, 'nothing to say: the refresh token is in the Secret Service');
    const refresh = secretFor(`${emu.url}/google`, 'ringside-e2e');
    assert.ok(refresh && refresh.length > 20, `refresh token in the Secret Service (got ${refresh})`);
    // The ID token named nobody: the platform was given the access token to
    // read userinfo with, and found the invited agent.
    assert.match(await popup.getByTestId('profile').textContent(), /Phone system login: ana@example\.com/);
    const sent = (await emu.control('GET', '/requests')).filter((r) => r.path === '/platform/v1/sessions');
    assert.deepEqual(sent.map((r) => r.status), [200]);
  } finally {
    await behaviour({});
    await b.close();
  }
});

test('generic OIDC: unverified email at userinfo is refused; a provider that issues no refresh token is named, not the helper', async () => {
  const cy = { email: 'cy@example.com', name: 'Cy', hd: 'example.com', email_verified: false };
  await provider('/oidc', { users: [ANA, cy], auto: cy.email });
  await behaviour({ claims_at_userinfo: true });
  const b = await launch({ host: true, policy: { identityProviders: [companyIdp()] } });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    await clickSignIn(b, popup, 'Sign in with your company account');
    await until(async () => (await phase(popup)) === 'signed_out' && (await popup.getByTestId('auth-notice').count()) > 0,
      { timeout: 15000, what: 'refused' });
    assert.equal((await notice(popup)).key, 'signinEmailUnverified');
    assert.equal(secretFor(`${emu.url}/google`, 'ringside-e2e'), null, 'the refused grant is forgotten');

    await behaviour({ claims_at_userinfo: true, no_refresh_tokens: true });
    await emu.control('PUT', '/oidc/consent', { auto: ANA.email });
    await clickSignIn(b, popup, 'Sign in with your company account');
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
    const n = await notice(popup);
    assert.equal(n.key, 'signinNoRefreshToken');
    assert.doesNotMatch(n.text, /not installed/);
    assert.match(n.text, /no refresh token/);
    // Sign-out revokes what there is, the access token, through the host.
    const access = await b.sw.evaluate(async () => (await chrome.storage.session.get('tokens')).tokens.access_token);
    assert.ok(access, 'the session has an access token');
    const options = await openExtensionPage(b, 'options.html');
    await options.getByRole('button', { name: 'Sign out' }).click();
    await until(async () => (await phase(options)) === 'signed_out', { what: 'signed out' });
    assert.equal((await notice(options)).key, 'signedOut');
    assert.ok((await emu.control('GET', '/oidc/revocations')).includes(access), 'the provider saw the access token revoked');
  } finally {
    await behaviour({});
    await b.close();
  }
});

test('a provider that refuses the redirect URI: the admin warning with the URI, wrapped in the card, not "cancelled"', async () => {
  await emu.control('PUT', '/oidc/clients', [{ client_id: 'ringside-e2e', redirect_uris: ['https://elsewhere.example/cb'], secret: null }]);
  await emu.control('PUT', '/oidc/users', [ANA]);
  await emu.control('PUT', '/oidc/consent', { auto: ANA.email });
  const b = await launch({ host: true, policy: { identityProviders: [companyIdp()] } });
  try {
    // Narrow, so the redirect URI cannot fit on one line.
    const popup = await openExtensionPage(b, 'popup.html', { width: 240, height: 700 });
    await clickSignIn(b, popup, 'Sign in with your company account');
    const warning = popup.getByTestId('setup-warning');
    await until(async () => (await warning.getAttribute('data-problem').catch(() => null)) === 'setupAuthPageNotLoaded',
      { timeout: 15000, what: 'page-not-loaded warning' });
    assert.match(await warning.textContent(), /could not be loaded/);
    assert.ok((await warning.textContent()).includes(REDIRECT), 'the redirect URI to register');
    assert.equal(await popup.getByTestId('auth-notice').count(), 0, 'no "cancelled" message');
    // Every line of the warning stays inside the card.
    const overflow = await warning.evaluate((card) => {
      const edge = card.getBoundingClientRect().right;
      return [...card.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > edge + 0.5 || e.scrollWidth > e.clientWidth + 1)
        .map((e) => e.className);
    });
    assert.deepEqual(overflow, []);
    await popup.screenshot({ path: artifact('popup-auth-page-not-loaded.png') });
  } finally {
    await b.close();
  }
});

test('generic OIDC: ID tokens signed with PS256 and with ES256 (keys from the JWKS) sign in', async () => {
  await provider('/oidc', { auto: ANA.email });
  const b = await launch({ host: true, policy: { identityProviders: [companyIdp()] } });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    for (const alg of ['PS256', 'ES256']) {
      await behaviour({ id_token_alg: alg });
      const doc = await (await fetch(`${emu.url}/google/.well-known/openid-configuration`)).json();
      assert.deepEqual(doc.id_token_signing_alg_values_supported, [alg], 'the provider signs with it');
      await clickSignIn(b, popup, 'Sign in with your company account');
      await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: `signed in (${alg})` });
      assert.equal(await popup.getByTestId('profile-email').textContent(), ANA.email);
      const options = await openExtensionPage(b, 'options.html');
      await options.getByRole('button', { name: 'Sign out' }).click();
      await until(async () => (await phase(popup)) === 'signed_out', { what: 'signed out' });
      await options.close();
    }
  } finally {
    await behaviour({});
    await b.close();
  }
});
