// Sign-in helpers shared by the sign-in and revocation suites: the emulator's
// providers, the agent's settings, the popup's account card, the Secret Service.
import { execFileSync } from 'node:child_process';
import { openExtensionPage, swState, until, writePolicy, settingsApplied, EXTENSION_ID } from './harness.mjs';

export const REDIRECT = `https://${EXTENSION_ID}.chromiumapp.org/`;
export const TENANT = '11111111-2222-4333-8444-555555555555';
export const ANA = { email: 'ana@example.com', name: 'Ana Ruiz', hd: 'example.com', picture: 'https://example.com/ana.png' };

/** One client and its users at a provider of the emulator (`control`: '/oidc' or '/oidc-microsoft'). */
export async function provider(emu, control, { client = 'ringside-e2e', secret = null, users = [ANA], auto = null } = {}) {
  await emu.control('PUT', `${control}/clients`, [{ client_id: client, redirect_uris: [REDIRECT], secret }]);
  await emu.control('PUT', `${control}/users`, users);
  await emu.control('PUT', `${control}/consent`, { auto });
}

export function google(emu, extra = {}) {
  return { kind: 'google', issuer: `${emu.url}/google`, clientId: 'ringside-e2e', ...extra };
}

/**
 * Ringside's settings as an admin sets them (managed policy, replacing what
 * `launch({ policy })` or an earlier `configure` wrote); waits until the
 * worker has applied them. `launch` removes the file when the browser closes.
 */
export async function configure(b, settings, { timeout = 30000 } = {}) {
  writePolicy(settings);
  const page = await openExtensionPage(b, 'options.html');
  try {
    await settingsApplied(page, settings, { timeout });
  } finally {
    await page.close();
  }
}

/**
 * The agent's own settings (the dialer, the default region), as the options
 * page saves them to storage.local; waits until the worker has read them.
 */
export async function setOptions(b, options) {
  const page = await openExtensionPage(b, 'options.html');
  try {
    await page.evaluate((o) => chrome.storage.local.set({ options: o }), options);
    await until(async () => JSON.stringify((await swState(page)).raw_options) === JSON.stringify(options), { what: 'options applied' });
  } finally {
    await page.close();
  }
}

/** The Secret Service entry the host writes for an issuer and client (null: none). */
export function secretFor(issuer, client) {
  try {
    return execFileSync('secret-tool', ['lookup', 'service', 'ringside', 'username', `${issuer} ${client}`], { encoding: 'utf8' });
  } catch {
    return null;
  }
}

/** Clicks "Sign in with …"; with `consent`, returns the consent page that opens. */
export async function clickSignIn(b, popup, label, { consent = false } = {}) {
  const opened = consent ? b.context.waitForEvent('page', { timeout: 10000 }) : null;
  await popup.getByRole('button', { name: label }).click();
  return opened;
}

/** The account card's phase: signed_out, signing_in, restoring, signed_in. */
export async function phase(page) {
  return page.locator('[data-testid=account]').getAttribute('data-phase');
}

/** The account card's message: its `_locales` key and text. */
export async function notice(page) {
  const n = page.getByTestId('auth-notice');
  await n.waitFor({ timeout: 10000 });
  return { key: await n.getAttribute('data-key'), text: await n.textContent() };
}

/** Signs in with Google (auto-consent) from a popup page and waits for the profile. */
export async function signInGoogle(b, popup) {
  await clickSignIn(b, popup, 'Sign in with Google');
  await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
}

/**
 * What the extension keeps in browser storage, as one string: storage.local,
 * storage.sync and every IndexedDB store (and storage.session with `session`).
 */
export async function dumpStorage(page, { session = false } = {}) {
  return page.evaluate(async (withSession) => {
    const out = {
      local: await chrome.storage.local.get(null),
      sync: await chrome.storage.sync.get(null),
      idb: {},
    };
    if (withSession) out.session = await chrome.storage.session.get(null);
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((res, rej) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      for (const store of db.objectStoreNames) {
        out.idb[`${name}/${store}`] = await new Promise((res) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => res(r.result);
        });
      }
      db.close();
    }
    return JSON.stringify(out);
  }, session);
}
