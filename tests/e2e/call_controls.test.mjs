// Call controls end to end (issue 22): real Chromium with the extension, the
// real native host, and three real baresip softphones on loopback: the
// agent's (a 440 Hz tone as its microphone, so its RTP and DTMF flow), the
// remote party's and a third party's (for the second call and transfers),
// whose own ctrl_tcp events prove what reached them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, openExtensionPage, startEmulator, swState, until, artifact, canWritePolicy, POLICY_DIR,
} from './lib/harness.mjs';
import { startSoftphone, controlClient } from './lib/softphone.mjs';
import { buttonNames, clickButton } from './lib/buttons.mjs';

const PARIS = '+33123456789';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

async function withPhones(fn, { thirdAnswers = true } = {}) {
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false, tone: true });
  const remote = await startSoftphone({ user: PARIS, autoAnswer: true });
  const third = await startSoftphone({ user: 'third', autoAnswer: thirdAnswers });
  const remoteEvents = await controlClient(remote.ctrl);
  const thirdEvents = await controlClient(third.ctrl);
  const dialer = { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` };
  try {
    await fn({ agent, remote, third, remoteEvents, thirdEvents, dialer });
  } finally {
    remoteEvents.close();
    thirdEvents.close();
    await agent.stop();
    await remote.stop();
    await third.stop();
  }
}

async function setOptions(b, options) {
  const page = await openExtensionPage(b, 'options.html');
  await page.evaluate((o) => chrome.storage.local.set({ options: o }), options);
  await until(async () => (await swState(page)).settings.dialer, { what: 'settings applied' });
  await until(async () => (await swState(page)).host.state === 'connected', { what: 'host connected' });
  return page;
}

/** The re-INVITE offers a phone received on call `id` after it was established: its holds and resumes. */
function reinvites(events, id) {
  const est = events.findIndex((e) => e.type === 'CALL_ESTABLISHED' && e.id === id);
  if (est < 0) return 0;
  return events.slice(est + 1).filter((e) => e.type === 'CALL_REMOTE_SDP' && e.id === id && e.param === 'offer').length;
}

/** The DTMF digits a phone received, in order. */
function digits(events) {
  return events.filter((e) => e.type === 'CALL_DTMF_START').map((e) => e.param).join('');
}

/** The remote calls the agent, who answers in the popup; resolves with the call's id. */
async function remoteCallsAgent(popup, from, events, agent) {
  from.command('dial', agent.uri);
  await popup.getByRole('heading', { name: 'Incoming call' }).waitFor();
  await popup.getByRole('button', { name: 'Answer', exact: true }).click();
  const est = await events.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the call connected' });
  await popup.getByRole('button', { name: 'Hold' }).waitFor();
  return est.id;
}

test('an extension found with the number is sent as DTMF after the pause; hold, mute and the keypad reach the remote', async () => {
  await withPhones(async ({ remoteEvents, dialer }) => {
    const b = await launch({ host: true });
    try {
      await setOptions(b, { dialer, defaultRegion: 'FR', dtmfPauseMs: 300 });
      const page = await b.context.newPage();
      await page.goto(`${emu.url}/pages/extension.html`);
      const name = await until(async () => (await buttonNames(page)).find((n) => n.startsWith('Call ')), {
        timeout: 8000,
        what: 'the call button',
      });
      await clickButton(page, name);
      const est = await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the remote to answer' });
      // The extension (poste 227) arrives as the remote's own DTMF events.
      await until(() => digits(remoteEvents.events) === '227', { timeout: 8000, what: 'DTMF 227 at the remote' });

      const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 700 });
      const hold = popup.getByRole('button', { name: 'Hold' });
      await hold.waitFor();
      assert.equal(await hold.getAttribute('aria-pressed'), 'false');
      await hold.click();
      // The remote's own softphone gets the hold (a re-INVITE offer).
      await until(() => reinvites(remoteEvents.events, est.id) === 1, { what: 'the hold at the remote' });
      await popup.getByTestId('call-held').waitFor();
      assert.equal(await popup.getByRole('button', { name: 'Hold' }).getAttribute('aria-pressed'), 'true');
      await popup.screenshot({ path: artifact('popup-call-held.png') });
      await popup.getByRole('button', { name: 'Hold' }).click();
      await until(() => reinvites(remoteEvents.events, est.id) === 2, { what: 'the resume at the remote' });
      await until(async () => (await popup.getByTestId('call-held').count()) === 0, { what: 'on hold gone' });

      await popup.getByRole('button', { name: 'Mute' }).click();
      await popup.getByTestId('call-muted').waitFor();
      assert.equal(await popup.getByRole('button', { name: 'Mute' }).getAttribute('aria-pressed'), 'true');
      assert.equal((await swState(popup)).calls.live.muted, true);
      await popup.getByRole('button', { name: 'Mute' }).click();
      await until(async () => (await popup.getByTestId('call-muted').count()) === 0, { what: 'unmuted' });

      // The keypad, by keyboard: focus the 5 and press Enter, then #.
      await popup.getByRole('button', { name: 'Send 5' }).focus();
      await popup.keyboard.press('Enter');
      await popup.getByRole('button', { name: 'Send #' }).click();
      await until(() => digits(remoteEvents.events) === '2275#', { timeout: 8000, what: 'keypad digits at the remote' });

      await popup.getByRole('button', { name: 'Hang up' }).click();
      await remoteEvents.waitFor((e) => e.type === 'CALL_CLOSED', { what: 'the call to end' });
    } finally {
      await b.close();
    }
  });
});

test('a second call shows a notification and a card; answering holds the first; swap; ending one resumes nothing', async () => {
  await withPhones(async ({ agent, remoteEvents, thirdEvents, dialer }) => {
    const b = await launch({ host: true });
    try {
      const options = await setOptions(b, { dialer });
      const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 800 });
      const first = await remoteCallsAgent(popup, remoteEvents, remoteEvents, agent);
      thirdEvents.command('dial', agent.uri);
      const card = popup.getByTestId('second-call');
      await card.waitFor();
      assert.equal(await card.getAttribute('data-phase'), 'incoming');
      await until(
        async () => Object.keys(await options.evaluate(() => chrome.notifications.getAll()))
          .some((k) => k.startsWith('ringside-incoming:')),
        { what: 'the second call notification' },
      );
      await popup.screenshot({ path: artifact('popup-second-call.png') });
      await popup.getByRole('button', { name: 'Answer and hold the current call' }).click();
      const second = await thirdEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the third party connected' });
      await until(() => reinvites(remoteEvents.events, first) === 1, { what: 'the first call held at the remote' });
      await until(async () => (await card.getAttribute('data-phase')) === 'held', { what: 'the first call as held' });

      // Swap: the third party is held, the remote resumed; and back.
      await popup.getByRole('button', { name: 'Swap calls' }).click();
      await until(() => reinvites(thirdEvents.events, second.id) === 1, { what: 'the third party held' });
      await until(() => reinvites(remoteEvents.events, first) === 2, { what: 'the remote resumed' });
      await popup.getByRole('button', { name: 'Swap calls' }).click();
      await until(() => reinvites(remoteEvents.events, first) === 3, { what: 'the remote held again' });
      await until(() => reinvites(thirdEvents.events, second.id) === 2, { what: 'the third party resumed' });

      // The agent hangs up the third party: the remote stays on hold
      // (baresip 1.0 resumes the previous call by itself; Ringside holds it
      // again at once: one re-INVITE each).
      await until(async () => {
        const live = (await swState(popup)).calls.live;
        return live && !live.held && live.number.includes('third');
      }, { what: 'the third party live' });
      await popup.locator('[data-testid=live-call]').getByRole('button', { name: 'Hang up' }).click();
      await thirdEvents.waitFor((e) => e.type === 'CALL_CLOSED', { what: 'the third party gone' });
      await popup.getByTestId('call-held').waitFor();
      await until(() => reinvites(remoteEvents.events, first) === 5, { what: 'the remote held again' });
      await popup.waitForTimeout(500);
      assert.equal(reinvites(remoteEvents.events, first), 5, 'nothing else resumed the remote');
      assert.equal((await swState(popup)).calls.live.held, true);
      assert.equal(await popup.getByTestId('second-call').count(), 0);
      await popup.getByRole('button', { name: 'Hold' }).click();
      await until(() => reinvites(remoteEvents.events, first) === 6, { what: 'the agent resumes the remote' });
      await until(async () => (await popup.getByTestId('call-held').count()) === 0, { what: 'resumed in the popup' });
    } finally {
      await b.close();
    }
  }, { thirdAnswers: true });
});

test('do not disturb declines an incoming call and shows in the popup and the toolbar badge', async () => {
  await withPhones(async ({ agent, remoteEvents, dialer }) => {
    const b = await launch({ host: true });
    try {
      await setOptions(b, { dialer });
      const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
      const sw = popup.getByRole('switch', { name: 'Do not disturb' });
      await sw.focus();
      await popup.keyboard.press('Space');
      await popup.getByTestId('dnd-on').waitFor();
      assert.equal(await popup.evaluate(() => chrome.action.getBadgeText({})), 'DND');
      remoteEvents.command('dial', agent.uri);
      const closed = await remoteEvents.waitFor((e) => e.type === 'CALL_CLOSED', { timeout: 8000, what: 'the call declined' });
      assert.ok(!remoteEvents.events.some((e) => e.type === 'CALL_ESTABLISHED'), 'never connected');
      assert.ok(closed);
      await popup.getByText('Calls declined since: 1').waitFor();
      assert.equal((await swState(popup)).calls.live ?? null, null);
      await popup.getByRole('switch', { name: 'Do not disturb' }).click();
      await until(async () => (await popup.evaluate(() => chrome.action.getBadgeText({}))) === '', { what: 'badge cleared' });
    } finally {
      await b.close();
    }
  });
});

test('policy can forbid do not disturb', { skip: !canWritePolicy() && `cannot write ${POLICY_DIR} (needs root)` }, async () => {
  const b = await launch({ host: true, policy: { dndAllowed: false } });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
    assert.equal((await swState(popup)).settings.dndAllowed, false);
    await popup.locator('h1').waitFor();
    assert.equal(await popup.getByRole('switch', { name: 'Do not disturb' }).count(), 0);
  } finally {
    await b.close();
  }
});

test('blind transfer: the remote is connected to the third party', async () => {
  await withPhones(async ({ agent, third, remoteEvents, thirdEvents, dialer }) => {
    const b = await launch({ host: true });
    try {
      await setOptions(b, { dialer });
      const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 700 });
      await remoteCallsAgent(popup, remoteEvents, remoteEvents, agent);
      await popup.getByLabel('Transfer to (number or SIP address)').fill(third.uri);
      await popup.getByRole('button', { name: 'Transfer', exact: true }).click();
      await remoteEvents.waitFor((e) => e.type === 'TRANSFER', { what: 'the REFER at the remote' });
      const at3 = await thirdEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { timeout: 8000, what: 'the third party connected' });
      assert.match(at3.peeruri, new RegExp(`^sip:\\${PARIS}@`));
      await popup.getByTestId('wrapup').waitFor();
      assert.equal((await swState(popup)).calls.live ?? null, null);
    } finally {
      await b.close();
    }
  });
});

test('attended transfer: consult the third party, return to the caller, then complete', async () => {
  await withPhones(async ({ agent, third, remoteEvents, thirdEvents, dialer }) => {
    const b = await launch({ host: true });
    try {
      await setOptions(b, { dialer });
      const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 800 });
      const first = await remoteCallsAgent(popup, remoteEvents, remoteEvents, agent);
      await popup.getByLabel('Transfer to (number or SIP address)').fill(third.uri);
      await popup.getByRole('button', { name: 'Consult first' }).click();
      await until(() => reinvites(remoteEvents.events, first) === 1, { what: 'the caller held' });
      const consult = await thirdEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the consultation' });
      assert.match(consult.peeruri, /^sip:agent@/);
      await popup.getByRole('button', { name: 'Back to the caller' }).click();
      await thirdEvents.waitFor((e) => e.type === 'CALL_CLOSED' && e.id === consult.id, { what: 'the consultation ended' });
      await until(() => reinvites(remoteEvents.events, first) === 2, { what: 'the caller resumed' });

      await popup.getByLabel('Transfer to (number or SIP address)').fill(third.uri);
      await popup.getByRole('button', { name: 'Consult first' }).click();
      const again = await thirdEvents.waitFor(
        (e) => e.type === 'CALL_ESTABLISHED' && e.id !== consult.id, { what: 'the second consultation' });
      await popup.getByRole('button', { name: 'Complete transfer' }).click();
      const joined = await thirdEvents.waitFor(
        (e) => e.type === 'CALL_ESTABLISHED' && e.id !== consult.id && e.id !== again.id,
        { timeout: 8000, what: 'the caller connected to the third party' },
      );
      assert.match(joined.peeruri, new RegExp(`^sip:\\${PARIS}@`));
      await until(async () => !(await swState(popup)).calls.live, { what: 'the agent free' });
    } finally {
      await b.close();
    }
  });
});
