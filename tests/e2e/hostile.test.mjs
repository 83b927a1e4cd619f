// Hostile pages, end to end (issue 18): real headless Chromium with the
// extension, the real native host, two real baresip softphones on loopback
// (the remote party's own events prove whether a call reached it), and pages
// that attack Ringside, served by the emulator. The page is the attacker: it
// restyles, moves, covers and hides Ringside's buttons, tries to focus them,
// shows costly numbers and sends Ringside megabytes of text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openExtensionPage, startEmulator, swState, until, artifact, inContentScript } from './lib/harness.mjs';
import { startSoftphone, controlClient } from './lib/softphone.mjs';
import { buttonCentre, clickButton, tabTo, focusedName } from './lib/buttons.mjs';

const PARIS = '+33123456789';
const PREMIUM = '+449098790000';
const REAL = 'Call 01 23 45 67 89';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

/** The agent's softphone and a remote party (`user`), and a browser set up to call through them. */
async function withSetup(user, fn) {
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
  const remote = await startSoftphone({ user, autoAnswer: true });
  const remoteEvents = await controlClient(remote.ctrl);
  const b = await launch({ host: true });
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

async function openPage(b, file) {
  const page = await b.context.newPage();
  await page.goto(`${emu.url}/pages/${file}`);
  await buttonCentre(page, REAL, { timeout: 10000 });
  return page;
}

/** The agent's click at a point: the pointer rests there, then clicks. */
async function clickAt(page, x, y) {
  await page.mouse.move(x, y, { steps: 4 });
  await page.waitForTimeout(400);
  await page.mouse.down();
  await page.mouse.up();
}

test('a hostile page cannot choose the call: hidden links are not marked, and restyled, moved, transparent or covered buttons do not dial', async () => {
  await withSetup(PARIS, async ({ b, options, remoteEvents }) => {
    // Links and text the page hid get no button: only the real number has one.
    let page = await openPage(b, 'hostile-overlay.html');
    await page.waitForTimeout(700);
    assert.deepEqual(await page.evaluate(() => window.ringsideMarked()), [PARIS]);

    // 1. The page restyles Ringside's element to cover the viewport, invisible:
    // the shadow root's !important rules win, and a click anywhere does nothing.
    const restyled = await page.evaluate(() => window.attack('restyle'));
    assert.equal(restyled.shadowRoot, false, 'the shadow root is closed to the page');
    assert.ok(restyled.width < 60 && restyled.height < 30, `restyled to ${restyled.width}x${restyled.height}`);
    await clickAt(page, 500, 350);
    await assertNoCall(remoteEvents, options, 'restyle');

    // 2. The page moves the element into a magnified, transparent layer over
    // the whole page; the agent clicks in the middle.
    await page.reload();
    await buttonCentre(page, REAL);
    await page.waitForTimeout(300);
    assert.equal((await page.evaluate(() => window.attack('cover'))).found, true);
    await clickAt(page, 500, 350);
    await assertNoCall(remoteEvents, options, 'cover');

    // 3. The button stays beside its number, but the page makes them nearly
    // transparent and lays them over its own "Claim your prize" button.
    await page.reload();
    await buttonCentre(page, REAL);
    await page.waitForTimeout(300);
    await page.evaluate(() => window.attack('transparent'));
    const claim = await page.locator('#claim').boundingBox();
    await clickAt(page, claim.x + claim.width / 2, claim.y + claim.height / 2);
    await assertNoCall(remoteEvents, options, 'transparent');

    // 4. An opaque decoy over the button that lets clicks through to it.
    await page.reload();
    const under = await buttonCentre(page, REAL);
    await page.waitForTimeout(300);
    await page.evaluate(() => window.attack('decoy'));
    await page.waitForTimeout(400); // the browser's occlusion check runs at most every 100 ms
    await page.screenshot({ path: artifact('hostile-decoy.png') });
    await clickAt(page, under.x, under.y);
    await assertNoCall(remoteEvents, options, 'decoy');

    // The same page, untouched, and the agent's own click on the real number: it calls.
    await page.close();
    page = await openPage(b, 'hostile-overlay.html');
    await page.screenshot({ path: artifact('hostile-overlay-untouched.png') });
    await clickButton(page, REAL);
    await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the agent-clicked call' });
  });
});

test('a hostile page cannot give a call button the focus and get the agent to press Space or Enter', async () => {
  await withSetup(PARIS, async ({ b, options, remoteEvents }) => {
    const page = await openPage(b, 'hostile-focus.html');
    const tried = await page.evaluate(() => window.attack('focus'));
    assert.equal(tried.shadowRoot, false);
    assert.notEqual(await focusedName(page), REAL, 'the page put the focus on the call button');
    await page.keyboard.press('Space');
    await page.keyboard.press('Enter');
    await assertNoCall(remoteEvents, options, 'focus');
    // The agent's own Tab to the button, then Space: it calls.
    await page.locator('h1').click();
    await tabTo(page, REAL);
    await page.keyboard.press('Space');
    await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the keyboard call' });
  });
});

test('a premium-rate number from a page is dialled only after the agent confirms it in the popup, by keyboard', async () => {
  await withSetup(PREMIUM, async ({ b, options, remoteEvents }) => {
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/hostile-premium.html`);
    await clickButton(page, 'Call +44 909 879 0000');
    await assertNoCall(remoteEvents, options, 'unconfirmed premium number');
    const held = await until(async () => (await swState(options)).calls.confirm, { what: 'the held dial' });
    assert.equal(held.number, PREMIUM);
    assert.equal(held.risk, 'premium_rate');
    assert.equal(held.origin, new URL(emu.url).origin);

    // The popup shows the real number, why, and who asked.
    let popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
    let card = popup.getByTestId('confirm-dial');
    await card.waitFor();
    assert.equal(await popup.getByTestId('confirm-target').textContent(), PREMIUM);
    assert.match(await card.textContent(), /premium-rate number/);
    assert.match(await card.textContent(), new RegExp(`Asked by ${new URL(emu.url).origin.replace(/[.]/g, '\\.')}`));
    // So does a notification with Call / Cancel. Headless Chromium has no
    // notification centre: the worker's own onButtonClicked listener is
    // called with Cancel's index, and nothing is dialled.
    const nid = await until(
      async () => Object.keys(await options.evaluate(() => chrome.notifications.getAll())).find((k) => k.startsWith('ringside-confirm:')),
      { what: 'the confirmation notification' },
    );
    await b.sw.evaluate((id) => self.ringside.onNotificationButton(id, 1), nid);
    await until(async () => (await card.count()) === 0, { what: 'the card gone' });
    await assertNoCall(remoteEvents, options, 'cancelled premium number');
    await popup.close();

    // Asked again (after the same-site pause); confirmed with the keyboard alone.
    await page.waitForTimeout(3100);
    await clickButton(page, 'Call +44 909 879 0000');
    await until(async () => (await swState(options)).calls.confirm, { what: 'the held dial again' });
    popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
    card = popup.getByTestId('confirm-dial');
    await card.waitFor();
    await popup.screenshot({ path: artifact('popup-confirm-premium.png') });
    assert.deepEqual(calls(remoteEvents), []);
    let reached = false;
    for (let i = 0; i < 15 && !reached; i++) {
      await popup.keyboard.press('Tab');
      reached = await popup.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'Call +449098790000');
    }
    assert.ok(reached, 'Tab reaches the confirmation');
    await popup.keyboard.press('Enter');
    await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the confirmed premium call' });
    assert.equal((await swState(options)).calls.confirm, null);
  });
});

test('a long text node is read in slices: every number in it is marked once, with its own digits, also across slice edges', async () => {
  const b = await launch({ host: true });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await options.evaluate((o) => chrome.storage.local.set({ options: o }), { dialer: { adapter: 'tel' }, defaultRegion: 'FR' });
    await until(async () => (await swState(options)).settings.dialer, { what: 'settings applied' });
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/long-text.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'yes');
    const expected = await page.evaluate(() => window.expected);
    assert.ok(expected.length > 40, `${expected.length} numbers on the page`);
    assert.ok((await page.evaluate(() => window.straddling)) >= 6, 'numbers cross the slice edges');
    const marked = () => page.evaluate(() => [...document.querySelectorAll('#long ringside-call')].map((h) => h.dataset.e164));
    await until(async () => (await marked()).length >= expected.length, { timeout: 15000, what: 'every number marked' });
    await page.waitForTimeout(700);
    assert.deepEqual(await marked(), expected);
    // Each button sits right after the number it dials.
    const pairs = await page.evaluate(() =>
      [...document.querySelectorAll('#long ringside-call')].map((h) => [h.previousSibling.data, h.dataset.e164]),
    );
    for (const [text, e164] of pairs) {
      assert.equal(`+33${text.replace(/\D/g, '').slice(1)}`, e164, `"${text}" → ${e164}`);
    }
  } finally {
    await b.close();
  }
});

test('a compromised page cannot open the side panel where Ringside is off: contact.show obeys the site rules', async () => {
  const origin = new URL(emu.url).origin;
  const b = await launch({ host: true, policy: { siteBlockList: [new URL(emu.url).hostname] } });
  try {
    const options = await openExtensionPage(b, 'options.html');
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/numbers.html`);
    await until(async () => (await swState(options)).pages.some((p) => p.origin === origin), { what: 'the page said hello' });
    // A compromised renderer speaks as the content script: it asks for the
    // contact panel on a site the administrator blocked.
    const r = await inContentScript(b, page, "chrome.runtime.sendMessage({ type: 'contact.show', number: '+33123456789' })");
    assert.equal(r.value?.ok, false, JSON.stringify(r));
    assert.equal(r.value.key, 'errSiteBlocked');
    assert.equal((await swState(options)).panel_request, null, 'the side panel was asked for');
  } finally {
    await b.close();
  }
});

for (const [file, what] of [
  ['hostile-giant.html', 'a 2 MB text node'],
  ['hostile-links.html', '25,000 tel: links'],
]) {
  test(`a page with ${what} does not stop the host: same process, the real number marked, and a call connects`, async () => {
    await withSetup(PARIS, async ({ b, options, remoteEvents }) => {
      const before = (await swState(options)).host;
      const page = await b.context.newPage();
      await page.goto(`${emu.url}/pages/${file}`);
      await page.waitForFunction(() => document.body.dataset.ready === 'yes');
      await buttonCentre(page, REAL, { timeout: 20000 });
      // Every request of the page's scan has been answered or refused.
      await until(
        async () => (await swState(options)).pages.some((p) => p.origin === new URL(emu.url).origin && p.marked != null),
        { timeout: 60000, what: 'the scan to finish' },
      );
      const after = (await swState(options)).host;
      assert.equal(after.state, 'connected');
      assert.equal(after.info.pid, before.info.pid, 'the host process changed');
      assert.equal(after.stats?.drops ?? 0, before.stats?.drops ?? 0, 'the host link dropped');
      await clickButton(page, REAL);
      await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { timeout: 15000, what: 'the call after the big page' });
    });
  });
}
