// Click-to-call end to end: real headless Chromium with the unpacked extension,
// the real native host, and two real baresip softphones on loopback (the
// agent's, driven by the host through ctrl_tcp, and the remote party's, whose
// own events prove what reached it). The emulator serves the pages and the
// phone platform's wrap-up endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  launch, openExtensionPage, startEmulator, swState, until, artifact, POLICY_DIR, canWritePolicy, EXTENSION_ID,
} from './lib/harness.mjs';
import { startSoftphone, controlClient, freePort } from './lib/softphone.mjs';
import { buttonNames, buttonCentre, clickButton, focusedName, tabTo, axText } from './lib/buttons.mjs';

// The Paris number on the test page, as the remote party's account.
const PARIS = '+33123456789';
// Main document: 2 in the paragraph, 1 tel: link, 3 in the table, 1 in the
// shadow root, 1 row added after load. The iframe holds 1 more.
const EXPECTED_MAIN = 8;
const EXPECTED_FRAME = 1;

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

/** Call buttons in a frame, open shadow roots included (toasts excluded). */
function countButtons(frame) {
  return frame.evaluate(() => {
    const walk = (root) => {
      let n = root.querySelectorAll('ringside-call:not([data-ringside-toast])').length;
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) n += walk(el.shadowRoot);
      return n;
    };
    return walk(document);
  });
}

/** The agent's settings, as the options page stores them. */
async function setOptions(b, options) {
  const page = await openExtensionPage(b, 'options.html');
  await page.evaluate((o) => chrome.storage.local.set({ options: o }), options);
  await until(async () => (await swState(page)).settings.dialer, { what: 'settings applied' });
  await page.close();
}

async function withPhones(fn) {
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
  const remote = await startSoftphone({ user: PARIS, autoAnswer: true });
  const remoteEvents = await controlClient(remote.ctrl);
  // The agent's softphone, dialling numbers at the remote party's address.
  const dialer = { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` };
  try {
    await fn({ agent, remote, remoteEvents, dialer });
  } finally {
    remoteEvents.close();
    await agent.stop();
    await remote.stop();
  }
}

async function openNumbers(b, file = 'numbers.html') {
  const page = await b.context.newPage();
  await page.goto(`${emu.url}/pages/${file}`);
  await page.waitForFunction(() => document.body.dataset.rowsAdded === 'yes');
  return page;
}

for (const file of ['numbers.html', 'numbers.strict.html']) {
  test(`numbers are marked in text, tables, shadow roots, iframes and later rows, not in lookalikes or skipped elements (${file})`, async () => {
    const b = await launch({ host: true });
    try {
      await setOptions(b, { dialer: { adapter: 'tel' }, defaultRegion: 'FR' });
      const page = await openNumbers(b, file);
      await until(async () => (await countButtons(page)) === EXPECTED_MAIN, {
        timeout: 8000,
        what: `${EXPECTED_MAIN} buttons`,
      });
      const frame = page.frames().find((f) => f.url().endsWith('/numbers-frame.html'));
      assert.ok(frame, 'the iframe loaded');
      await until(async () => (await countButtons(frame)) === EXPECTED_FRAME, { what: 'the iframe button' });
      // Settle: no late extra buttons (lookalikes, skipped elements, duplicates).
      await page.waitForTimeout(700);
      assert.equal(await countButtons(page), EXPECTED_MAIN);
      // Accessible names in the agent's language (the accessibility tree: the
      // buttons' shadow roots are closed to the page), and what each dials.
      const names = await buttonNames(page);
      for (const name of [
        'Call 01 23 45 67 89',
        'Call +44 20 7946 0018',
        'Call (201) 555-0123',
        'Call +49 30 12345678',
        'Call +33 6 12 34 56 78',
        'Call +61 2 1234 5678',
      ]) {
        assert.equal(names.filter((n) => n === name).length, 1, name);
      }
      const dialled = await page.evaluate(() => {
        const out = [];
        const walk = (root) => {
          for (const el of root.querySelectorAll('ringside-call')) out.push(el.dataset.e164);
          for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
        };
        walk(document);
        return out.sort();
      });
      assert.deepEqual(dialled, [
        '+12015550123', '+33123456789', '+33612345678', '+34612345678',
        '+390212345678', '+442079460018', '+493012345678', '+61212345678',
      ]);
      // The page's own text is untouched (buttons live in their own shadow roots).
      assert.equal(
        await page.locator('#plain').textContent(),
        'Call our Paris office on 01 23 45 67 89 or London on +44 20 7946 0018.',
      );
      assert.equal(await page.locator('#lookalikes ringside-call').count(), 0);
      assert.equal(await page.locator('#skipped ringside-call, [contenteditable] ringside-call, [data-ringside-ignore] ringside-call, [hidden] ringside-call').count(), 0);
      // Keyboard: Tab reaches a call button.
      await page.locator('h1').click();
      let focused = '';
      for (let i = 0; i < 6 && !focused.startsWith('Call '); i++) {
        await page.keyboard.press('Tab');
        focused = await focusedName(page);
      }
      assert.equal(focused, 'Call 01 23 45 67 89');
      if (file === 'numbers.html') await page.screenshot({ path: artifact('numbers-marked.png') });
      // The strict page really is strict: its CSP blocks WebAssembly there.
      const state = await swState(await openExtensionPage(b, 'options.html'));
      const main = state.pages.find((p) => p.origin === new URL(emu.url).origin && p.frame === 0 && p.marked != null);
      assert.ok(main, 'the page reported its scan');
      assert.equal(main.wasm, file === 'numbers.html', 'WebAssembly compiles only on the non-strict page');
    } finally {
      await b.close();
    }
  });
}

test('a number added later inside pre, code, button or textarea is not marked; one added beside them is', async () => {
  const b = await launch({ host: true });
  try {
    await setOptions(b, { dialer: { adapter: 'tel' }, defaultRegion: 'FR' });
    const page = await openNumbers(b);
    await until(async () => (await countButtons(page)) === EXPECTED_MAIN, { what: 'buttons' });
    // Skipped elements with no number yet, then numbers appended inside them
    // (text nodes and an element each: every kind of mutation root), and one
    // number in an ordinary paragraph, all in one task: the same scan reads
    // them all, so once the paragraph's number is marked the others would be.
    await page.evaluate(() => {
      const box = document.createElement('div');
      box.id = 'later';
      box.innerHTML = '<pre>log</pre><p><code>x</code></p><button type="button">Press</button><textarea aria-label="Later notes"></textarea>';
      document.body.append(box);
    });
    await page.evaluate(() => {
      const box = document.getElementById('later');
      for (const el of box.querySelectorAll('pre, code, button, textarea')) {
        el.append(document.createTextNode(' +33 1 23 45 67 89 '));
        const span = document.createElement('span');
        span.textContent = '06 12 34 56 78';
        el.append(span);
      }
      const p = document.createElement('p');
      p.id = 'later-plain';
      p.textContent = 'New: +44 20 7946 0018';
      box.append(p);
    });
    await until(async () => (await page.locator('#later-plain ringside-call').count()) === 1, {
      what: 'the ordinary number added later marked',
    });
    assert.equal(await page.locator('#later pre ringside-call, #later code ringside-call, #later button ringside-call, #later textarea ringside-call').count(), 0);
    assert.equal(await countButtons(page), EXPECTED_MAIN + 1);
  } finally {
    await b.close();
  }
});

test('a click dials the remote softphone; the popup shows the call, hangs up, and keeps the wrap-up of a call nobody was signed in for in the browser, never sent', async () => {
  await withPhones(async ({ agent, remote, remoteEvents }) => {
    // The platform (which receives wrap-ups) is the admin's policy.
    const b = await launch({ host: true, policy: { platformUrl: `${emu.url}/platform` } });
    try {
      // The agent sets up the softphone in the options page, by keyboard and form.
      const options = await openExtensionPage(b, 'options.html');
      await options.getByLabel('Softphone').selectOption('baresip');
      await options.getByLabel('Control address').fill(`127.0.0.1:${agent.ctrl}`);
      await options.getByLabel('SIP domain').fill(`127.0.0.1:${remote.sip}`);
      await options.getByLabel('Default country').fill('FR');
      // The platform URL shows, read-only: policy only.
      assert.equal(await options.getByLabel('Phone platform URL').inputValue(), `${emu.url}/platform`);
      assert.equal(await options.getByLabel('Phone platform URL').isDisabled(), true);
      await options.getByRole('button', { name: 'Save settings' }).click();
      await until(async () => (await swState(options)).settings.dialer?.address === `127.0.0.1:${agent.ctrl}`, {
        what: 'saved dialer',
      });
      const page = await openNumbers(b);
      await clickButton(page, 'Call 01 23 45 67 89');
      const established = await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', {
        what: 'the remote softphone to answer',
      });
      assert.match(established.peeruri, /agent@127\.0\.0\.1/);
      const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
      const live = popup.getByTestId('live-call');
      await until(async () => (await live.getAttribute('data-phase').catch(() => null)) === 'established', {
        what: 'popup shows the call established',
      });
      await popup.getByRole('heading', { name: 'On a call' }).waitFor();
      assert.match(await live.textContent(), /01 23 45 67 89/);
      await popup.screenshot({ path: artifact('popup-call.png') });
      await popup.getByRole('button', { name: 'Hang up' }).click();
      await remoteEvents.waitFor((e) => e.type === 'CALL_CLOSED', { what: 'the remote to see the call end' });
      const wrap = popup.getByTestId('wrapup');
      await wrap.waitFor();
      // The service worker may be stopped at any time (MV3); the pending
      // wrap-up must survive it. Stop it through the DevTools protocol.
      const pidBefore = (await swState(popup)).host.info.pid;
      const cdp = await b.context.newCDPSession(popup);
      const { targetInfos } = await cdp.send('Target.getTargets');
      const worker = targetInfos.find((t) => t.type === 'service_worker' && t.url.endsWith('/sw.js'));
      await cdp.send('Target.closeTarget', { targetId: worker.targetId });
      await popup.reload();
      // A new worker means a new native port, so a new host process.
      await until(async () => (await swState(popup)).host.info?.pid !== pidBefore, { what: 'a restarted worker' });
      await popup.getByTestId('wrapup').waitFor();
      await popup.getByLabel('Tags').fill('sale, follow-up');
      await popup.getByLabel('Note').fill('Wants a quote by Friday.');
      await popup.screenshot({ path: artifact('popup-wrapup.png') });
      await popup.getByRole('button', { name: 'Save wrap-up' }).click();
      // A platform is configured, but nobody is signed in: there is no agent
      // (and no platform session) to send it as, so it stays here. (A signed-in
      // agent's wrap-up reaching the platform with their session:
      // revocation.test.mjs.)
      await popup.getByText('Saved in this browser only: nobody was signed in to Ringside during this call, so it is not sent to your phone system.').waitFor();
      assert.deepEqual(await emu.control('GET', '/wrapups'), []);
      const kept = await popup.evaluate(() => chrome.storage.local.get('wrapups'));
      assert.equal(kept.wrapups.length, 1);
      assert.deepEqual(kept.wrapups[0].tags, ['sale', 'follow-up']);
      assert.equal(kept.wrapups[0].note, 'Wants a quote by Friday.');
      assert.equal(kept.wrapups[0].call.number, PARIS);
      assert.equal(kept.wrapups[0].call.answered, true);
      assert.equal(kept.wrapups[0].call.direction, 'outgoing');
      await emu.control('POST', '/reset');
    } finally {
      await b.close();
    }
  });
});

test('softphone down: the page and the popup say so and what to do; no call is left behind', async () => {
  const closedPort = await freePort();
  const b = await launch({ host: true });
  try {
    await setOptions(b, { dialer: { adapter: 'baresip', address: `127.0.0.1:${closedPort}` }, defaultRegion: 'FR' });
    const page = await openNumbers(b);
    await clickButton(page, 'Call 01 23 45 67 89');
    // The message beside the button (in its closed shadow root: read as a
    // screen reader would).
    await until(async () => /softphone is not running or not reachable, so 01 23 45 67 89 was not called\. Start it, then try again\./.test(await axText(page)), {
      what: 'the message beside the button',
    });
    const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
    const notice = popup.getByTestId('call-notice');
    await notice.waitFor();
    assert.match(await notice.textContent(), /not reachable at 127\.0\.0\.1:\d+/);
    assert.equal(await popup.getByTestId('live-call').count(), 0);
    await popup.getByRole('button', { name: 'Dismiss' }).click();
    await until(async () => (await popup.getByTestId('call-notice').count()) === 0, { what: 'notice dismissed' });
  } finally {
    await b.close();
  }
});

test("a page script's synthetic click starts no call", async () => {
  await withPhones(async ({ remoteEvents, dialer }) => {
    const b = await launch({ host: true });
    try {
      await setOptions(b, { dialer, defaultRegion: 'FR' });
      const page = await openNumbers(b);
      await buttonCentre(page, 'Call 01 23 45 67 89');
      // The page's own script cannot reach the button (closed shadow root);
      // it clicks the element Ringside added, and whatever is at its place.
      assert.deepEqual(await page.evaluate(() => window.syntheticClick()), { host: true, button: false });
      await page.waitForTimeout(1500);
      assert.equal(remoteEvents.events.filter((e) => e.type.startsWith('CALL_')).length, 0);
      const state = await swState(await openExtensionPage(b, 'options.html'));
      assert.equal(state.calls.live, null);
      // The same button, reached and pressed by the agent with the keyboard, does call.
      await page.locator('h1').click();
      await tabTo(page, 'Call 01 23 45 67 89');
      await page.keyboard.press('Enter');
      await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the keyboard-started call' });
    } finally {
      await b.close();
    }
  });
});

test('an incoming call shows a notification; accepting it connects the call', async () => {
  await withPhones(async ({ agent, remoteEvents, dialer }) => {
    const b = await launch({ host: true });
    try {
      await setOptions(b, { dialer });
      const options = await openExtensionPage(b, 'options.html');
      await until(async () => (await swState(options)).host.state === 'connected', { what: 'host connected' });
      // No call was placed yet: the host hears this call because the worker
      // configures the dialer on connect and the host then opens ctrl_tcp.
      remoteEvents.command('dial', agent.uri);
      await until(async () => (await swState(options)).calls.live?.phase === 'incoming', {
        timeout: 8000,
        what: 'the incoming call in the worker',
      });
      const id = await until(
        async () => {
          const ids = await options.evaluate(() => chrome.notifications.getAll());
          return Object.keys(ids).find((k) => k.startsWith('ringside-incoming:'));
        },
        { what: 'the incoming-call notification' },
      );
      const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
      await popup.getByRole('heading', { name: 'Incoming call' }).waitFor();
      // Headless Chromium has no notification centre to click; the worker's
      // own onButtonClicked listener is called with the Accept button's index.
      await b.sw.evaluate((nid) => self.ringside.onNotificationButton(nid, 0), id);
      await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the remote to be connected' });
      await until(async () => (await swState(options)).calls.live?.phase === 'established', { what: 'established' });
      await popup.getByRole('button', { name: 'Hang up' }).click();
      await remoteEvents.waitFor((e) => e.type === 'CALL_CLOSED', { what: 'the call to end' });
      await popup.getByTestId('wrapup').waitFor();
      assert.match(await popup.getByTestId('wrapup').textContent(), /Incoming call, 0:0\d/);
    } finally {
      await b.close();
    }
  });
});

test('the popup switches call buttons off and on for the current site', async () => {
  const b = await launch({ host: true });
  try {
    await setOptions(b, { dialer: { adapter: 'tel' }, defaultRegion: 'FR' });
    const page = await openNumbers(b);
    await until(async () => (await countButtons(page)) === EXPECTED_MAIN, { what: 'buttons' });
    const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
    // The popup opened as a tab is the active tab; bring the page forward so
    // the popup's "current site" is the page, as when opened from the toolbar.
    await page.bringToFront();
    await popup.reload();
    const origin = new URL(emu.url).origin;
    const sw = popup.getByRole('switch', { name: `Call buttons on ${origin}` });
    await sw.waitFor();
    assert.equal(await sw.isChecked(), true);
    await sw.press('Space');
    await until(async () => (await countButtons(page)) === 0, { what: 'buttons removed' });
    await popup.reload();
    await popup.getByRole('switch', { name: `Call buttons on ${origin}` }).click();
    await until(async () => (await countButtons(page)) === EXPECTED_MAIN, { what: 'buttons back' });
  } finally {
    await b.close();
  }
});

test('policy: a blocked site gets no buttons and says why; invalid policy values are reported, valid ones lock the form', { skip: !canWritePolicy() && `cannot write ${POLICY_DIR} (needs root)` }, async () => {
  const policy = path.join(POLICY_DIR, 'ringside-e2e-sites.json');
  writeFileSync(policy, JSON.stringify({
    '3rdparty': {
      extensions: {
        [EXTENSION_ID]: {
          siteBlockList: ['127.0.0.1'],
          dialer: { adapter: 'baresip', address: 'no-port-here' },
          defaultRegion: 'FR',
        },
      },
    },
  }));
  const b = await launch({ host: true });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await until(async () => (await swState(options)).settings.siteBlockList.length === 1, {
      timeout: 10000,
      what: 'the policy to apply',
    });
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/numbers.html`);
    await page.waitForFunction(() => document.body.dataset.rowsAdded === 'yes');
    await page.waitForTimeout(1000);
    assert.equal(await countButtons(page), 0);
    const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
    await page.bringToFront();
    await popup.reload();
    const origin = new URL(emu.url).origin;
    await popup.getByText(`Your administrator has turned off click-to-call on ${origin}.`).waitFor();
    // No per-site switch (do not disturb has its own).
    assert.equal(await popup.getByRole('switch', { name: /^Call buttons on / }).count(), 0);
    await options.reload();
    const problem = options.getByTestId('setting-problem');
    await problem.waitFor();
    assert.match(await problem.textContent(), /Policy dialer is invalid and was ignored: `no-port-here` is not host:port/);
    const region = options.getByLabel('Default country');
    assert.equal(await region.inputValue(), 'FR');
    assert.equal(await region.isDisabled(), true);
    assert.match(await options.locator('#opt-region-locked').textContent(), /Set by your administrator/);
    // The dialer policy was invalid, so the agent may still set one.
    assert.equal(await options.getByLabel('Control address').isDisabled(), false);
    await options.screenshot({ path: artifact('options-policy.png'), fullPage: true });
  } finally {
    rmSync(policy, { force: true });
    await b.close();
  }
});

test('policy: a forced language (de) wins over the browser\'s (en) in the options page and its title', { skip: !canWritePolicy() && `cannot write ${POLICY_DIR} (needs root)` }, async () => {
  const policy = path.join(POLICY_DIR, 'ringside-e2e-language.json');
  writeFileSync(policy, JSON.stringify({ '3rdparty': { extensions: { [EXTENSION_ID]: { language: 'de' } } } }));
  const b = await launch({ host: true, lang: 'en-US' });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await until(async () => (await swState(options)).settings.language === 'de', { timeout: 10000, what: 'the policy to apply' });
    await options.getByRole('heading', { name: 'Anrufe', exact: true }).waitFor();
    assert.equal(await options.locator('html').getAttribute('lang'), 'de');
    assert.equal(await options.title(), 'Ringside-Einstellungen');
    assert.match(await options.getByTestId('install-type').textContent(), /Entwicklungsversion/);
  } finally {
    rmSync(policy, { force: true });
    await b.close();
  }
});

test("call buttons speak the agent's language (French)", async () => {
  const b = await launch({ host: true, lang: 'fr-FR' });
  try {
    await setOptions(b, { dialer: { adapter: 'tel' } });
    const page = await openNumbers(b);
    // No defaultRegion: the browser language (fr-FR) makes national French numbers parse.
    await buttonCentre(page, 'Appeler le 01 23 45 67 89');
    assert.equal((await buttonNames(page)).filter((n) => n === 'Appeler le +44 20 7946 0018').length, 1);
  } finally {
    await b.close();
  }
});
