// Firefox ESR end to end, the admin's and the agent's side: a setting from
// Firefox's managed storage shown as set by the administrator, the redirect
// URI Firefox uses, sign-in against the emulator's Google with the host
// keeping the refresh token (the suite runs under scripts/with-keyring), and
// the sidebar (Firefox's sidebar_action, the same page as Chromium's side
// panel) showing a contact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { startEmulator, until, artifact } from '../e2e/lib/harness.mjs';
import { ANA, secretFor } from '../e2e/lib/auth.mjs';
import {
  launchFirefox, openExtensionPage, swState, waitForText, textOf, GECKO_ID, ORIGIN,
} from './lib/firefox.mjs';

/** Firefox's identity redirect URI: the SHA-1 of the add-on id, in hex. */
const REDIRECT = `https://${createHash('sha1').update(GECKO_ID).digest('hex')}.extensions.allizom.org/`;
const BOB_PHONE = '+34612345678';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

/** Clicks the button whose text is `text` with the real pointer. */
async function clickText(page, text) {
  const handle = await until(async () => {
    for (const h of await page.$$('button')) {
      if ((await h.evaluate((el) => el.textContent.trim())) === text) return h;
    }
    return null;
  }, { timeout: 10000, interval: 100, what: `the button "${text}"` });
  await handle.click();
}

test('Firefox: a setting from managed storage shows locked, set by the administrator; the options page gives Firefox\'s redirect URI', async () => {
  const platformUrl = `${emu.url}/platform`;
  const b = await launchFirefox({ host: false, managed: { platformUrl } });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await until(async () => (await swState(options)).settings.locked.includes('platformUrl'), {
      timeout: 15000,
      what: 'the managed setting applied',
    });
    await until(async () => options.evaluate(() => document.getElementById('opt-platform')?.value), { what: 'the platform field' });
    const field = await options.evaluate(() => {
      const el = document.getElementById('opt-platform');
      return { value: el.value, disabled: el.disabled };
    });
    assert.deepEqual(field, { value: platformUrl, disabled: true });
    assert.match(await textOf(options, '#opt-platform-locked'), /Set by your administrator/);
    assert.equal(await textOf(options, '[data-testid=redirect-uri]'), REDIRECT);
    assert.equal(await textOf(options, '[data-testid=extension-id]'), GECKO_ID);
    await options.screenshot({ path: artifact('firefox-options-managed.png') });
  } finally {
    await b.close();
  }
});

/** Firefox's machine-wide policies (read at start): written by one test, removed after it. */
const POLICIES_DIR = '/etc/firefox/policies';
const POLICIES = `${POLICIES_DIR}/policies.json`;
function canWritePolicies() {
  try {
    mkdirSync(POLICIES_DIR, { recursive: true });
    accessSync(POLICIES_DIR, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
process.on('exit', () => rmSync(POLICIES, { force: true }));

test('Firefox: policies.json\'s 3rdparty section reaches managed storage: the setting shows locked', { skip: !canWritePolicies() && `cannot write ${POLICIES_DIR} (needs root)` }, async () => {
  const platformUrl = `${emu.url}/platform-from-policies`;
  writeFileSync(`${POLICIES}.tmp`, JSON.stringify({ policies: { '3rdparty': { Extensions: { [GECKO_ID]: { platformUrl } } } } }));
  renameSync(`${POLICIES}.tmp`, POLICIES);
  let b;
  try {
    b = await launchFirefox({ host: false });
    const options = await openExtensionPage(b, 'options.html');
    await until(async () => (await swState(options)).settings.locked.includes('platformUrl'), {
      timeout: 15000,
      what: 'the policy applied',
    });
    await until(async () => options.evaluate(() => document.getElementById('opt-platform')?.value), { what: 'the platform field' });
    assert.equal(await options.evaluate(() => document.getElementById('opt-platform').value), platformUrl);
    assert.match(await textOf(options, '#opt-platform-locked'), /Set by your administrator/);
  } finally {
    rmSync(POLICIES, { force: true });
    await b?.close();
  }
});

test('Firefox: sign-in with Google against the emulator, the host keeps the refresh token; the sidebar shows a contact', async () => {
  await emu.control('PUT', '/oidc/clients', [{ client_id: 'ringside-e2e', redirect_uris: [REDIRECT], secret: null }]);
  await emu.control('PUT', '/oidc/users', [ANA]);
  await emu.control('PUT', '/oidc/consent', { auto: ANA.email });
  await emu.control('PUT', '/google/fixtures', {
    contacts: [{
      resourceName: 'people/c1',
      names: [{ displayName: 'Bob Stone', metadata: { primary: true } }],
      emailAddresses: [{ value: 'bob@contoso.com' }],
      phoneNumbers: [{ value: '+34 612 34 56 78', canonicalForm: BOB_PHONE }],
      organizations: [{ name: 'Contoso', title: 'Buyer' }],
    }],
    messages: [],
    files: [],
    events: [],
  });
  const issuer = `${emu.url}/google`;
  const b = await launchFirefox({
    host: true,
    managed: {
      identityProviders: [{ kind: 'google', issuer, clientId: 'ringside-e2e' }],
      googleApiRoot: `${emu.url}/googleapis`,
    },
  });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    await until(async () => (await swState(popup)).settings.locked.includes('identityProviders'), {
      timeout: 15000,
      what: 'the providers from managed storage',
    });
    await waitForText(popup, 'Connected to the Ringside host 0.1.0');
    await clickText(popup, 'Sign in with Google');
    await until(async () => (await textOf(popup, '[data-testid=profile-email]')) === ANA.email, {
      timeout: 20000,
      what: 'signed in',
    });
    const refresh = secretFor(issuer, 'ringside-e2e');
    assert.ok(refresh && refresh.length > 20, `refresh token in the Secret Service (got ${refresh})`);
    const persistent = await popup.evaluate(async () => JSON.stringify({
      local: await chrome.storage.local.get(null),
      session: await chrome.storage.session.get(null),
    }));
    assert.ok(!persistent.includes(refresh), 'no refresh token in browser storage');
    await popup.screenshot({ path: artifact('firefox-popup-signed-in.png') });

    // Firefox knows the sidebar from the manifest's sidebar_action.
    assert.equal(await popup.evaluate(() => chrome.sidebarAction.getPanel({})), `${ORIGIN}/sidepanel.html`);
    const panel = await openExtensionPage(b, 'sidepanel.html');
    await until(async () => panel.$('#contact-query'), { what: 'the search box' });
    await panel.type('#contact-query', '+34 612 34 56 78');
    await panel.keyboard.press('Enter');
    await until(async () => (await textOf(panel, '[data-testid=contact-card] h2, [data-testid=contact-card] h3'))?.includes('Bob Stone'), {
      timeout: 15000,
      what: "Bob Stone's card",
    });
    assert.equal(await textOf(panel, '[data-testid=contact-org]'), 'Buyer, Contoso');
    await panel.screenshot({ path: artifact('firefox-sidebar-contact.png') });
  } finally {
    await b.close();
  }
});
