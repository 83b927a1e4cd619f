// Phone detection without the native host: the service worker's own
// detection module (ringside-detect compiled to wasm) answers the content
// script, so a browser with no host registered still gets its call buttons,
// on an ordinary page and on one whose CSP forbids WebAssembly. The popup,
// options page and side panel never load that module.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openExtensionPage, startEmulator, swState, until } from './lib/harness.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

// What numbers.html holds (as in calls.test.mjs): the main document's text
// numbers, its tel: link, the table, the shadow root and the later row.
const DIALLED = [
  '+12015550123', '+33123456789', '+33612345678', '+34612345678',
  '+390212345678', '+442079460018', '+493012345678', '+61212345678',
];

/** E.164 of every call button in the page, open shadow roots included (toasts excluded). */
function dialled(page) {
  return page.evaluate(() => {
    const out = [];
    const walk = (root) => {
      for (const el of root.querySelectorAll('ringside-call:not([data-ringside-toast])')) out.push(el.dataset.e164);
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(document);
    return out.sort();
  });
}

for (const file of ['numbers.html', 'numbers.strict.html']) {
  test(`with no native host registered, ${file} gets its call buttons from the worker's detection module`, async () => {
    const b = await launch({ host: false });
    try {
      const options = await openExtensionPage(b, 'options.html');
      await options.evaluate(() => chrome.storage.local.set({ options: { dialer: { adapter: 'tel' }, defaultRegion: 'FR' } }));
      await until(async () => (await swState(options)).settings.defaultRegion === 'FR', { what: 'settings applied' });
      await until(async () => (await swState(options)).host.state === 'not_installed', { what: 'no host found' });
      const page = await b.context.newPage();
      await page.goto(`${emu.url}/pages/${file}`);
      await page.waitForFunction(() => document.body.dataset.rowsAdded === 'yes');
      await until(async () => (await dialled(page)).length === DIALLED.length, {
        timeout: 8000,
        what: `${DIALLED.length} buttons`,
      });
      // Settle: no late extra buttons.
      await page.waitForTimeout(500);
      assert.deepEqual(await dialled(page), DIALLED);
      assert.equal(await page.locator('#lookalikes ringside-call').count(), 0);
      const state = await swState(options);
      assert.equal(state.host.state, 'not_installed', 'still no host');
    } finally {
      await b.close();
    }
  });
}

test('the popup, options page and side panel load only the UI wasm, never the detection module', async () => {
  const b = await launch({ host: false });
  try {
    for (const surface of ['popup.html', 'options.html', 'sidepanel.html']) {
      const page = await b.context.newPage();
      const loaded = [];
      page.on('request', (r) => loaded.push(new URL(r.url()).pathname));
      await page.goto(`chrome-extension://${b.extensionId}/${surface}`);
      // The surface is up once its wasm has rendered the worker's state.
      await until(async () => loaded.some((p) => p.endsWith('.wasm')), { what: `${surface} loads its wasm` });
      await page.waitForLoadState('networkidle');
      assert.ok(loaded.some((p) => p.endsWith('.wasm')), `${surface} loads its wasm`);
      assert.ok(!loaded.some((p) => p.startsWith('/detect/')), `${surface} loaded ${loaded.join(', ')}`);
      await page.close();
    }
  } finally {
    await b.close();
  }
});
