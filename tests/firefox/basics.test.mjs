// Firefox ESR end to end: the same built extension as Chromium's, installed
// as a temporary add-on, with the real native host registered for Firefox
// (`ringside-host install --browser firefox`), real baresip softphones and the
// emulator's pages. Run by scripts/test after the Chromium suite.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startEmulator, until, artifact } from '../e2e/lib/harness.mjs';
import { startSoftphone, controlClient } from '../e2e/lib/softphone.mjs';
import {
  launchFirefox, openExtensionPage, openWebPage, swState, waitForText, callButtons, clickButton, confirmHeldDial, GECKO_ID,
} from './lib/firefox.mjs';

const PARIS = '+33123456789';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

/** The agent's settings, as the options page stores them; waits for the worker. */
async function setOptions(b, options) {
  const page = await openExtensionPage(b, 'options.html');
  await page.evaluate((o) => chrome.storage.local.set({ options: o }), options);
  await until(async () => JSON.stringify((await swState(page)).raw_options) === JSON.stringify(options), { what: 'options applied' });
  await page.close();
}

async function withPhones(fn) {
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
  const remote = await startSoftphone({ user: PARIS, autoAnswer: true });
  const remoteEvents = await controlClient(remote.ctrl);
  const dialer = { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` };
  try {
    await fn({ remoteEvents, dialer });
  } finally {
    remoteEvents.close();
    await agent.stop();
    await remote.stop();
  }
}

test('Firefox: the popup shows the host connected after `ringside-host install --browser firefox`', async () => {
  const b = await launchFirefox({ host: true });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    await waitForText(popup, 'Connected to the Ringside host 0.1.0');
    const state = await swState(popup);
    assert.equal(state.host.state, 'connected');
    assert.deepEqual(state.host.info.capabilities, ['ping', 'dial', 'detect', 'auth', 'mail']);
    // The background page runs the worker's wasm (Firefox's event page).
    const fromBackground = await popup.evaluate(async () => {
      const bg = await chrome.runtime.getBackgroundPage();
      return { id: bg.chrome.runtime.id, hasDom: Boolean(bg.document) };
    });
    assert.deepEqual(fromBackground, { id: GECKO_ID, hasDom: true });
    await popup.screenshot({ path: artifact('firefox-popup-connected.png') });
  } finally {
    await b.close();
  }
});

test('Firefox: without the host the popup gives the Firefox install command', async () => {
  const b = await launchFirefox({ host: false });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    await waitForText(popup, 'The Ringside host is not installed');
    const command = await popup.evaluate(() => document.querySelector('[data-testid=install-command]')?.textContent);
    assert.equal(command, `ringside-host install --browser firefox --extension-id ${GECKO_ID}`);
    // No provider configured: the admin warning names Firefox's redirect URI.
    const redirect = `https://${createHash('sha1').update(GECKO_ID).digest('hex')}.extensions.allizom.org/`;
    await waitForText(popup, `register this redirect URI: ${redirect}`);
  } finally {
    await b.close();
  }
});

test('Firefox: numbers get call buttons in the page and in its iframe', async () => {
  const b = await launchFirefox({ host: true });
  try {
    await setOptions(b, { dialer: { adapter: 'tel' }, defaultRegion: 'FR' });
    const page = await openWebPage(b, `${emu.url}/pages/numbers.html`);
    const main = await until(async () => {
      const found = (await callButtons(page)).map((x) => x.e164).sort();
      return found.length === 8 && found;
    }, { timeout: 10000, interval: 200, what: '8 buttons in the page' });
    assert.deepEqual(main, [
      '+12015550123', '+33123456789', '+33612345678', '+34612345678',
      '+390212345678', '+442079460018', '+493012345678', '+61212345678',
    ]);
    const frame = page.frames().find((f) => f.url().endsWith('/numbers-frame.html'));
    assert.ok(frame, 'the iframe loaded');
    await until(async () => (await callButtons(frame)).length === 1, { timeout: 10000, interval: 200, what: 'the iframe button' });
    // The worker recorded the iframe's content script under Firefox's wide frame id.
    const options = await openExtensionPage(b, 'options.html');
    const pages = (await swState(options)).pages.filter((p) => p.origin === new URL(emu.url).origin);
    assert.ok(pages.some((p) => p.frame === 0), 'the main frame checked in');
    assert.ok(pages.some((p) => p.frame > 0), `the iframe checked in (frames: ${pages.map((p) => p.frame)})`);
    await page.screenshot({ path: artifact('firefox-numbers-marked.png') });
  } finally {
    await b.close();
  }
});

test('Firefox: a click on a call button dials the remote softphone through the host', async () => {
  await withPhones(async ({ remoteEvents, dialer }) => {
    const b = await launchFirefox({ host: true });
    try {
      await setOptions(b, { dialer, defaultRegion: 'FR' });
      const page = await openWebPage(b, `${emu.url}/pages/numbers.html`);
      await clickButton(page, PARIS);
      // Firefox cannot see a covered button: the agent confirms the real
      // number in the popup, and only then does it ring.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(remoteEvents.events.filter((e) => e.type.startsWith('CALL_')).length, 0, 'nothing rang before the confirmation');
      assert.match(await confirmHeldDial(b, PARIS), /cannot check that nothing on the page covered/);
      const established = await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', {
        timeout: 10000,
        what: 'the remote softphone to answer',
      });
      assert.match(established.peeruri, /agent@127\.0\.0\.1/);
      const popup = await openExtensionPage(b, 'popup.html');
      await until(async () => popup.evaluate(() => document.querySelector('[data-testid=live-call]')?.dataset.phase === 'established'), {
        timeout: 10000,
        what: 'the popup shows the call established',
      });
      await waitForText(popup, 'On a call');
      await popup.screenshot({ path: artifact('firefox-popup-call.png') });
    } finally {
      await b.close();
    }
  });
});
