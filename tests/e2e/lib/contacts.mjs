// What the contact store's end-to-end tests share (contacts.test.mjs for
// Google, contacts_outlook.test.mjs for Outlook): the popup's sync status,
// the worker's IndexedDB, and the dial pad's search as the agent uses it.
import { swState, until } from './harness.mjs';
import { setOptions } from './auth.mjs';
import { startSoftphone, controlClient } from './softphone.mjs';

/** Waits for the popup to say the store is synced (with `count` contacts), and returns its text. */
export async function synced(page, count) {
  const status = page.getByTestId('contacts-status');
  await until(async () => (await status.getAttribute('data-state')) === 'synced'
    && (count === undefined || Number(await status.getAttribute('data-count')) === count), {
    timeout: 20000, what: `contacts synced (${count})`,
  });
  return status.textContent();
}

/** The ids in the worker's IndexedDB store. */
export async function storedIds(b) {
  return b.sw.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('ringside-contacts');
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const keys = r.result.transaction('contacts').objectStore('contacts').getAllKeys();
      keys.onsuccess = () => resolve(keys.result);
    };
  }));
}

/** Types `text` in the dial pad and returns the names listed for it. */
export async function search(page, text) {
  await page.getByRole('searchbox', { name: 'Call a number or a contact' }).fill(text);
  const list = page.getByTestId('dial-results');
  // The list says which query its results answer (answers can arrive out of order).
  await until(async () => (await list.getAttribute('data-query')) === text, { what: `results for ${text}` });
  return list.locator('[data-testid=dial-result] .dial-name').allTextContents();
}

/** Waits out the popup's 2 s staleness rule, so opening it syncs. */
export const stale = () => new Promise((r) => setTimeout(r, 2100));

/**
 * Waits for the popup to show the sync error `expected`, and returns the
 * error text it shows (the last one seen if `expected` never came, so the
 * caller's assertion names it). The popup first shows the worker's last
 * known status, which may be an earlier sync's error, until this sync starts:
 * state and text are read together, and an earlier error is waited past.
 */
export async function syncError(popup, expected) {
  const status = popup.getByTestId('contacts-status');
  const read = () => status.evaluate((el) => ({ state: el.getAttribute('data-state'), text: el.textContent }));
  let last;
  try {
    await until(async () => {
      const now = await read();
      if (now.state === 'error') last = now.text;
      return now.state === 'error' && now.text === expected;
    }, { timeout: 10000, what: 'the sync error' });
  } catch (e) {
    if (last === undefined) throw e;
  }
  return last;
}

/**
 * A real incoming call: an agent softphone (not answering) and a remote one
 * registered as `caller`, Ringside's dialer (the agent's own option)
 * pointed at the agent's, the popup opened (`openPopup()`), then the remote
 * dials in. `body(popup, live)` runs while it rings; afterwards the
 * softphones stop and the option is cleared (`settings`, the policy, stays).
 */
export async function whileRinging(b, { caller, settings, openPopup }, body) {
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
  const remote = await startSoftphone({ user: caller, autoAnswer: true });
  const remoteEvents = await controlClient(remote.ctrl);
  try {
    // The softphone is the agent's own setting (the options page's).
    await setOptions(b, { dialer: { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` } });
    const popup = await openPopup();
    await until(async () => (await swState(popup)).host.state === 'connected', { what: 'host connected' });
    remoteEvents.command('dial', agent.uri);
    const live = popup.getByTestId('live-call');
    await until(async () => (await live.getAttribute('data-phase')) === 'incoming', { timeout: 8000, what: 'the incoming call' });
    await body(popup, live);
  } finally {
    remoteEvents.close();
    await agent.stop();
    await remote.stop();
    await setOptions(b, {});
  }
}
