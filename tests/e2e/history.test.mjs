// The call history, the call desk kept across a browser crash, and the
// keyboard shortcuts, end to end: real headless Chromium with the unpacked
// extension, the real host and Secret Service, two real baresip softphones on
// loopback, and the emulator's Google (sign-in, contacts) and phone platform.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launch, openExtensionPage, startEmulator, swState, until, artifact, freshDirs } from './lib/harness.mjs';
import { startSoftphone, controlClient } from './lib/softphone.mjs';
import { clickButton } from './lib/buttons.mjs';
import { ANA, provider, google, signInGoogle, phase, dumpStorage } from './lib/auth.mjs';

// The Paris number on tests/pages/numbers.html, as the remote party's account.
const PARIS = '+33123456789';
const MARIE = 'Marie Curie';

let emu;
before(async () => {
  emu = await startEmulator();
  // The agent's contacts: one of them has the Paris number.
  await emu.control('POST', '/google/people/generate', { contacts: 3, directory: 0 });
  await emu.control('PATCH', '/google/people/contacts/c1', {
    names: [{ unstructuredName: MARIE }],
    phoneNumbers: [{ value: '+33 1 23 45 67 89', type: 'work' }],
  });
});
after(() => emu?.stop());

async function withPhones(fn) {
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
  const remote = await startSoftphone({ user: PARIS, autoAnswer: true });
  const remoteEvents = await controlClient(remote.ctrl);
  const dialer = { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` };
  try {
    await fn({ agent, remote, remoteEvents, dialer });
  } finally {
    remoteEvents.close();
    await agent.stop();
    await remote.stop();
  }
}

function policyFor(dialer) {
  return {
    identityProviders: [google(emu)],
    googleApiRoot: `${emu.url}/googleapis`,
    platformUrl: `${emu.url}/platform`,
    dialer,
    defaultRegion: 'FR',
  };
}

/** Ana signed in, her contacts synced, the popup open. */
async function signedIn(dialer, dirs = freshDirs()) {
  await provider(emu, '/oidc', { auto: ANA.email });
  await emu.control('PUT', '/platform/agents', [{ login_email: ANA.email, name: ANA.name }]);
  await emu.control('PUT', '/platform/method', { method: 'google' });
  const b = await launch({ host: true, dirs, policy: policyFor(dialer) });
  const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
  await signInGoogle(b, popup);
  await until(async () => (await swState(popup)).contacts.count >= 3, { timeout: 20000, what: 'contacts synced' });
  return { b, popup };
}

const count = (remoteEvents, type) => remoteEvents.events.filter((e) => e.type === type).length;

/** The history's entries as the popup lists them: name, detail, wrap-up. */
function entries(popup) {
  return popup.getByTestId('history-entry').evaluateAll((els) => els.map((el) => ({
    who: el.querySelector('.history-name').textContent,
    detail: el.querySelector('[data-testid=history-detail]').textContent,
    wrapup: el.querySelector('[data-testid=history-wrapup]')?.textContent ?? null,
  })));
}

async function search(popup, text) {
  await popup.getByRole('searchbox', { name: 'Search calls' }).fill(text);
  await until(async () => (await popup.getByTestId('history-list').getAttribute('data-query')) === text, { what: `history for ${text}` });
  return (await entries(popup)).map((e) => e.who);
}

test('the history lists three calls with names, outcomes, durations and wrap-ups; search, call back and show contact work; sign-out clears it', async () => {
  await withPhones(async ({ agent, remoteEvents, dialer }) => {
    const { b, popup } = await signedIn(dialer);
    try {
      // 1: outgoing, answered, wrapped up.
      const page = await b.context.newPage();
      await page.goto(`${emu.url}/pages/numbers.html`);
      await clickButton(page, 'Call 01 23 45 67 89');
      await until(() => count(remoteEvents, 'CALL_ESTABLISHED') === 1, { timeout: 10000, what: 'call 1 answered' });
      await until(async () => (await swState(popup)).calls.live?.phase === 'established', { what: 'call 1 established' });
      await popup.getByRole('button', { name: 'Hang up' }).click();
      await popup.getByTestId('wrapup').waitFor();
      await popup.getByLabel('Tags').fill('billing');
      await popup.getByLabel('Note').fill('Wants a refund');
      await popup.getByRole('button', { name: 'Save wrap-up' }).click();
      await until(async () => (await emu.control('GET', '/wrapups')).length === 1, { what: 'wrap-up 1 sent' });

      // 2: incoming, declined (missed).
      remoteEvents.command('dial', agent.uri);
      await until(async () => (await swState(popup)).calls.live?.phase === 'incoming', { timeout: 8000, what: 'call 2 ringing' });
      await popup.getByRole('button', { name: 'Decline' }).click();
      await until(async () => (await swState(popup)).calls.live == null, { what: 'call 2 ended' });

      // 3: outgoing from the history's own "call back" button, answered.
      await until(async () => (await popup.getByTestId('history-entry').count()) === 2, { what: 'two calls listed' });
      await popup.getByRole('button', { name: `Call ${MARIE} again` }).first().click();
      await until(() => count(remoteEvents, 'CALL_ESTABLISHED') === 2, { timeout: 10000, what: 'call 3 answered (call back)' });
      await until(async () => (await swState(popup)).calls.live?.phase === 'established', { what: 'call 3 established' });
      await popup.getByRole('button', { name: 'Hang up' }).click();
      await until(async () => (await popup.getByTestId('history-entry').count()) === 3, { what: 'three calls listed' });

      const list = await entries(popup);
      assert.deepEqual(list.map((e) => e.who), [MARIE, MARIE, MARIE], 'the contact name on every call');
      assert.match(list[0].detail, /outgoing · answered · 0:0\d/);
      assert.match(list[1].detail, /incoming · missed/);
      assert.match(list[2].detail, /outgoing · answered · 0:\d\d/);
      assert.equal(list[2].wrapup, 'billing — Wants a refund');
      await popup.screenshot({ path: artifact('popup-history.png') });
      // Icons are inline SVG; each button has its accessible name.
      assert.equal(await popup.locator('[data-testid=history-entry] button svg[aria-hidden=true]').count(), 6);

      // Search: a tag, the note, a number fragment, nothing.
      assert.deepEqual(await search(popup, 'billing'), [MARIE]);
      assert.deepEqual(await search(popup, 'refund'), [MARIE]);
      assert.equal((await search(popup, '4567')).length, 3);
      assert.deepEqual(await search(popup, 'nobody'), []);
      await popup.getByTestId('history-none').waitFor();
      await search(popup, '');

      // Show contact: the side panel is asked for Marie.
      const before = (await swState(popup)).panel_request?.[0] ?? 0;
      await popup.getByRole('button', { name: `Show contact ${MARIE}` }).first().click();
      await until(async () => (await swState(popup)).panel_request?.[0] === before + 1, { what: 'the side panel asked' });
      assert.deepEqual((await swState(popup)).panel_request[1], { phone: PARIS });

      // Keyboard: the search field and the buttons are reachable.
      await popup.getByRole('searchbox', { name: 'Search calls' }).focus();
      await popup.keyboard.press('Tab');
      assert.match(await popup.evaluate(() => document.activeElement.getAttribute('aria-label')), /^Call Marie Curie again$/);

      // Sign-out clears it (and IndexedDB keeps no call).
      const options = await openExtensionPage(b, 'options.html');
      await options.getByRole('button', { name: 'Sign out' }).click();
      await until(async () => (await phase(popup)) === 'signed_out', { what: 'signed out' });
      await until(async () => (await popup.getByTestId('history-entry').count()) === 0, { what: 'history cleared' });
      const stored = JSON.parse(await dumpStorage(popup));
      assert.deepEqual(stored.idb['ringside-calls/history'], []);
    } finally {
      await b.close();
    }
  });
});

/** The pid of the Chromium browser process running on `profile`. */
function browserPid(profile) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  // /usr/bin/chromium is a shell script that starts /usr/lib/chromium/chromium:
  // the browser is the binary's process without a --type (not a renderer).
  const line = out.split('\n').find((l) => l.includes(`--user-data-dir=${profile}`) && !l.includes('--type=')
    && /^\s*\d+\s+\S*\/chromium\/chromium\s/.test(l));
  assert.ok(line, 'the browser process');
  return Number(line.trim().split(/\s+/)[0]);
}

test('Chromium killed with a call waiting for its wrap-up: after a relaunch on the same profile the wrap-up is there and reaches the platform', async () => {
  await withPhones(async ({ remoteEvents, dialer }) => {
    const dirs = freshDirs();
    let { b, popup } = await signedIn(dialer, dirs);
    const sentBefore = (await emu.control('GET', '/wrapups')).length;
    try {
      const page = await b.context.newPage();
      await page.goto(`${emu.url}/pages/numbers.html`);
      await clickButton(page, 'Call 01 23 45 67 89');
      await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { timeout: 10000, what: 'the call answered' });
      await until(async () => (await swState(popup)).calls.live?.phase === 'established', { what: 'established' });
      await popup.getByRole('button', { name: 'Hang up' }).click();
      await popup.getByTestId('wrapup').waitFor();
      // Kept in IndexedDB (storage.session dies with the browser).
      await until(async () => JSON.parse(await dumpStorage(popup)).idb['ringside-calls/meta']
        ?.some((v) => typeof v === 'string' && v.includes(PARIS)), { what: 'the desk kept' });

      const pid = browserPid(dirs.profile);
      const swBefore = await b.sw.evaluate(() => performance.timeOrigin);
      process.kill(pid, 'SIGKILL');
      await until(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, { what: 'the browser gone' });
      await b.close({ keep: true }).catch(() => {});
      assert.equal((await emu.control('GET', '/wrapups')).length, sentBefore, 'nothing sent before the relaunch');

      await emu.control('DELETE', '/requests');
      b = await launch({ host: true, dirs, policy: policyFor(dialer) });
      popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
      assert.notEqual(await b.sw.evaluate(() => performance.timeOrigin), swBefore, 'a new browser and worker');
      await popup.getByTestId('wrapup').waitFor({ timeout: 10000 });
      assert.match(await popup.getByTestId('wrapup').textContent(), /01 23 45 67 89/);
      // The agent's session comes back through the host's refresh token.
      await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in again' });
      await until(async () => (await emu.control('GET', '/requests'))
        .some((r) => r.method === 'POST' && r.path === '/platform/v1/sessions' && r.status === 200),
      { what: 'a new platform session after the restart' });
      // The history has the call too.
      await until(async () => (await popup.getByTestId('history-entry').count()) === 1, { what: 'the call in the history' });
      await popup.getByLabel('Tags').fill('after-crash');
      await popup.getByRole('button', { name: 'Save wrap-up' }).click();
      await popup.getByTestId('wrapup-saved').waitFor();
      // The platform session came back with the session (the refreshed ID
      // token presented again, once the policy naming the platform is read),
      // so the wrap-up goes at once, not to the outbox.
      assert.doesNotMatch(await popup.getByTestId('wrapup-saved').textContent(), /could not be reached/);
      const sent = await until(async () => {
        const w = await emu.control('GET', '/wrapups');
        return w.length === sentBefore + 1 && w[sentBefore];
      }, { timeout: 15000, what: 'the wrap-up at the platform' });
      assert.deepEqual(sent.tags, ['after-crash']);
      assert.equal(sent.call.number, PARIS);
      assert.equal(sent.call.answered, true);
      assert.equal(sent.agent, ANA.email, 'filed under the agent who took the call');
      await until(async () => (await popup.getByTestId('wrapup').count()) === 0, { what: 'nothing left to wrap up' });
      assert.equal(JSON.parse(await dumpStorage(popup)).idb['ringside-calls/meta']
        .some((v) => typeof v === 'string' && v.includes(PARIS)), false, 'the kept desk is empty');
    } finally {
      await b.close();
    }
  });
});

test('shortcuts: the commands answer, mute, hold and hang up a call and open the dial pad; the options page lists them and how to change them', async () => {
  await withPhones(async ({ agent, remoteEvents, dialer }) => {
    const b = await launch({ host: true, policy: { dialer, defaultRegion: 'FR' } });
    try {
      const options = await openExtensionPage(b, 'options.html');
      await until(async () => (await swState(options)).host.state === 'connected', { what: 'host connected' });
      // The real listener is registered for chrome.commands.onCommand (sw.js);
      // headless Chromium has no keyboard focus to send the keys, so the test
      // calls the same function the listener calls, with the command's name.
      remoteEvents.command('dial', agent.uri);
      await until(async () => (await swState(options)).calls.live?.phase === 'incoming', { timeout: 8000, what: 'ringing' });
      await b.sw.evaluate(() => self.ringside.onCommand('answer-call'));
      await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'answered by the shortcut' });
      await until(async () => (await swState(options)).calls.live?.phase === 'established', { what: 'established' });
      // Mute and hold, each on and off again, as the popup's toggles do.
      await b.sw.evaluate(() => self.ringside.onCommand('toggle-mute'));
      await until(async () => (await swState(options)).calls.live?.muted === true, { what: 'muted by the shortcut' });
      await b.sw.evaluate(() => self.ringside.onCommand('toggle-mute'));
      await until(async () => !(await swState(options)).calls.live?.muted, { what: 'unmuted by the shortcut' });
      await b.sw.evaluate(() => self.ringside.onCommand('toggle-hold'));
      await until(async () => (await swState(options)).calls.live?.held === true, { what: 'held by the shortcut' });
      await b.sw.evaluate(() => self.ringside.onCommand('toggle-hold'));
      await until(async () => !(await swState(options)).calls.live?.held, { what: 'resumed by the shortcut' });
      await b.sw.evaluate(() => self.ringside.onCommand('hang-up'));
      await remoteEvents.waitFor((e) => e.type === 'CALL_CLOSED', { what: 'hung up by the shortcut' });
      await until(async () => (await swState(options)).calls.live == null, { what: 'no live call' });
      // Open the dial pad: the worker asks the browser to open the popup.
      const opened = await b.sw.evaluate(async () => {
        const real = chrome.action.openPopup;
        let asked = 0;
        chrome.action.openPopup = (...a) => {
          asked += 1;
          return real.apply(chrome.action, a).catch(() => {});
        };
        try {
          await self.ringside.onCommand('open-dialpad');
          await new Promise((r) => setTimeout(r, 100));
        } finally {
          chrome.action.openPopup = real;
        }
        return asked;
      });
      assert.equal(opened, 1, 'the popup (with its dial pad) was asked for');

      // The options page: every command, its key, and how to change them.
      await options.reload();
      const section = options.getByTestId('shortcuts');
      await section.getByRole('heading', { name: 'Keyboard shortcuts' }).waitFor();
      const rows = await section.locator('.shortcut-row').evaluateAll((els) => els.map((el) => [el.dataset.command, el.querySelector('dd').textContent]));
      assert.deepEqual(rows.map((r) => r[0]), ['answer-call', 'hang-up', 'toggle-mute', 'toggle-hold', 'open-dialpad']);
      await until(async () => (await section.getByTestId('shortcut-key').first().textContent()) !== 'Not set', { what: 'keys read' });
      const keys = await section.getByTestId('shortcut-key').allTextContents();
      assert.deepEqual(keys, ['Alt+Shift+Y', 'Alt+Shift+H', 'Alt+Shift+M', 'Alt+Shift+L', 'Not set']);
      assert.match(await section.getByTestId('shortcuts-how').textContent(), /chrome:\/\/extensions\/shortcuts/);
    } finally {
      await b.close();
    }
  });
});
