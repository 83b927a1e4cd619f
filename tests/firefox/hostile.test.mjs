// Hostile pages in Firefox ESR (the rules of tests/e2e/hostile.test.mjs): the
// page restyles, moves, covers Ringside's buttons and clicks them from its own
// scripts; none of it reaches the remote softphone, and the agent's own click
// on the untouched page does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, until, artifact } from '../e2e/lib/harness.mjs';
import { startSoftphone, controlClient } from '../e2e/lib/softphone.mjs';
import { launchFirefox, openExtensionPage, openWebPage, swState, callButtons, clickButton, confirmHeldDial } from './lib/firefox.mjs';

const PARIS = '+33123456789';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

async function withSetup(fn) {
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
  const remote = await startSoftphone({ user: PARIS, autoAnswer: true });
  const remoteEvents = await controlClient(remote.ctrl);
  const b = await launchFirefox({ host: true });
  try {
    const options = await openExtensionPage(b, 'options.html');
    const dialer = { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` };
    await options.evaluate((o) => chrome.storage.local.set({ options: o }), { dialer, defaultRegion: 'FR' });
    await until(async () => (await swState(options)).settings.dialer?.address === dialer.address, { what: 'the dialer set' });
    await until(async () => (await swState(options)).host.state === 'connected', { what: 'the host connected' });
    await fn({ b, options, remoteEvents });
  } finally {
    await b.close();
    remoteEvents.close();
    await agent.stop();
    await remote.stop();
  }
}

const calls = (remoteEvents) => remoteEvents.events.filter((e) => e.type.startsWith('CALL_'));

/** No call reached the remote softphone and none is live in the worker, after a settling time. */
async function assertNoCall(remoteEvents, options, what) {
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(calls(remoteEvents).map((e) => e.type), [], `${what}: the remote softphone saw a call`);
  assert.equal((await swState(options)).calls.live, null, `${what}: a call is live`);
}

async function openHostile(b) {
  const page = await openWebPage(b, `${emu.url}/pages/hostile-overlay.html`);
  await until(async () => (await callButtons(page)).some((x) => x.e164 === PARIS), { timeout: 10000, what: 'the real button' });
  return page;
}

/** The agent's click at a point: the pointer rests there, then clicks. */
async function clickAt(page, x, y) {
  await page.mouse.move(x - 20, y);
  await page.mouse.move(x, y, { steps: 4 });
  await new Promise((r) => setTimeout(r, 400));
  await page.mouse.down();
  await page.mouse.up();
}

test('Firefox: a hostile page cannot choose the call: hidden links unmarked; restyled, moved, covered buttons and page scripts\' clicks do not dial', async () => {
  await withSetup(async ({ b, options, remoteEvents }) => {
    let page = await openHostile(b);
    // Links and text the page hid get no button: only the real number has one.
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual(await page.evaluate(() => window.ringsideMarked()), [PARIS]);

    // 1. Restyled to cover the viewport, invisible: a click anywhere does nothing.
    const restyled = await page.evaluate(() => window.attack('restyle'));
    assert.equal(restyled.shadowRoot, false, 'the shadow root is closed to the page');
    assert.ok(restyled.width < 60 && restyled.height < 30, `restyled to ${restyled.width}x${restyled.height}`);
    await clickAt(page, 500, 350);
    await assertNoCall(remoteEvents, options, 'restyle');
    await page.close();

    // 2. Moved into a magnified, transparent layer over the whole page.
    page = await openHostile(b);
    assert.equal((await page.evaluate(() => window.attack('cover'))).found, true);
    await clickAt(page, 500, 350);
    await assertNoCall(remoteEvents, options, 'cover');
    await page.close();

    // 3. Nearly transparent, laid over the page's own "Claim your prize" button.
    page = await openHostile(b);
    await page.evaluate(() => window.attack('transparent'));
    const claim = await page.evaluate(() => {
      const r = document.getElementById('claim').getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    await clickAt(page, claim.x, claim.y);
    await assertNoCall(remoteEvents, options, 'transparent');
    await page.close();

    // 4. The page's own scripts click Ringside's element and what is drawn there.
    page = await openWebPage(b, `${emu.url}/pages/numbers.html`);
    await until(async () => (await callButtons(page)).some((x) => x.e164 === PARIS), { timeout: 10000, what: 'the button' });
    assert.deepEqual(await page.evaluate(() => window.syntheticClick()), { host: true, button: false });
    await assertNoCall(remoteEvents, options, 'synthetic click');
    await page.close();

    // The untouched page and the agent's own click on the real number: it calls.
    page = await openHostile(b);
    await page.screenshot({ path: artifact('firefox-hostile-untouched.png') });
    await clickButton(page, PARIS);
    await confirmHeldDial(b, PARIS);
    await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { timeout: 10000, what: 'the agent-clicked call' });
  });
});

test('Firefox: a page script cannot give a call button the focus and have the agent press Enter', async () => {
  await withSetup(async ({ b, options, remoteEvents }) => {
    const page = await openHostile(b);
    const r = await page.evaluate(() => window.attack('focus'));
    assert.equal(r.found, true);
    await page.keyboard.press('Enter');
    await page.keyboard.press(' ');
    await assertNoCall(remoteEvents, options, 'focus');
  });
});

// Firefox has no IntersectionObserver v2 (`trackVisibility`), the check that
// catches an opaque decoy laid over the button with `pointer-events: none`.
// So every page dial waits for the agent's confirmation in the popup, which
// shows the real number: the click through the decoy rings nobody, and the
// agent who did not mean it cancels.
test('Firefox: an opaque decoy over the button that lets clicks through does not dial; the popup shows the real number to confirm', async () => {
  await withSetup(async ({ b, options, remoteEvents }) => {
    const page = await openHostile(b);
    const under = (await callButtons(page)).find((x) => x.e164 === PARIS);
    await page.evaluate(() => window.attack('decoy'));
    await new Promise((r) => setTimeout(r, 400));
    await page.screenshot({ path: artifact('firefox-hostile-decoy.png') });
    await clickAt(page, under.x + 10, under.y + under.height / 2);
    await assertNoCall(remoteEvents, options, 'decoy');
    const held = await until(async () => (await swState(options)).calls.confirm, { what: 'the held dial' });
    assert.equal(held.number, PARIS, 'the real number is what the agent is asked about');
    assert.equal(held.risk, 'unchecked_click');
    // The agent did not mean it: Cancel, and still nothing rings.
    const popup = await openExtensionPage(b, 'popup.html');
    await until(async () => popup.evaluate(() => Boolean(document.querySelector('[data-testid=confirm-dial]'))), { what: 'the card' });
    const cancel = await popup.$('[data-testid=confirm-dial] [data-action=cancel-dial]');
    assert.ok(cancel, 'a Cancel button on the card');
    await cancel.click();
    await until(async () => (await swState(options)).calls.confirm === null, { what: 'the held dial cancelled' });
    await assertNoCall(remoteEvents, options, 'cancelled decoy dial');
  });
});
