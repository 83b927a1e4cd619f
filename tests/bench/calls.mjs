// Click-to-call bench: a call button clicked in a real page to the INVITE seen
// by a real remote softphone (docs/bench.md).
import { openExtensionPage, startEmulator, swState, until } from '../e2e/lib/harness.mjs';
import { startSoftphone, controlClient } from '../e2e/lib/softphone.mjs';
import { buttonCentre } from '../e2e/lib/buttons.mjs';

// The Paris number on tests/pages/numbers.html, as the remote party's account.
const PARIS = '+33123456789';
const CALLS = Number(process.env.RINGSIDE_BENCH_CALLS || 20);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.round((s.length - 1) * p)].toFixed(1);
};

/** `b` is a launched browser (harness launch()). Adds click_to_invite_* keys to `report`. */
export async function benchClickToInvite(b, report) {
  let emu, agent, remote, remoteEvents, ext;
  try {
    emu = await startEmulator();
    agent = await startSoftphone({ user: 'agent', autoAnswer: false });
    // Manual answer: the remote reports CALL_INCOMING when the INVITE arrives.
    remote = await startSoftphone({ user: PARIS, autoAnswer: false });
    remoteEvents = await controlClient(remote.ctrl);
    ext = await openExtensionPage(b, 'options.html');
    await ext.evaluate(
      (o) => chrome.storage.local.set({ options: o }),
      { dialer: { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` }, defaultRegion: 'FR' },
    );
    await until(async () => (await swState(ext)).settings.dialer?.address === `127.0.0.1:${agent.ctrl}`, {
      what: 'the dialer settings',
    });
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/numbers.html`);
    // The button is in a closed shadow root: found in the accessibility tree.
    const box = await buttonCentre(page, 'Call 01 23 45 67 89');
    // The agent's click: the pointer rests on the button (a click counts only
    // after it rested there, unmoved, for 150 ms), then presses. The time runs
    // from the press, as the agent feels it.
    const times = [];
    // One call first, not counted: the host may still be connecting to the
    // agent's softphone, and the first dial warms up every hop.
    for (let i = -1; i < CALLS; i++) {
      const before = remoteEvents.events.length;
      const after = (e) => remoteEvents.events.indexOf(e) >= before;
      await page.mouse.move(box.x + 1, box.y, { steps: 2 });
      await page.mouse.move(box.x, box.y);
      await page.waitForTimeout(300);
      const t0 = performance.now();
      await page.mouse.down();
      await page.mouse.up();
      const invite = await remoteEvents.waitFor((e) => e.type === 'CALL_INCOMING' && after(e), {
        timeout: 10000,
        what: `the INVITE of call ${i}`,
      });
      if (i >= 0) times.push(invite.at - t0);
      remoteEvents.command('hangup');
      await remoteEvents.waitFor((e) => e.type === 'CALL_CLOSED' && after(e), { what: `call ${i} to close` });
      await until(async () => (await swState(ext)).calls.live === null, { what: `call ${i} gone from the worker` });
    }
    report.click_to_invite_ms_p50 = pct(times, 0.5);
    report.click_to_invite_ms_p90 = pct(times, 0.9);
    report.click_to_invite_calls = times.length;
    await page.close();
  } finally {
    await ext?.close().catch(() => {});
    remoteEvents?.close();
    await agent?.stop();
    await remote?.stop();
    emu?.stop();
  }
}

/**
 * A click on Hold in the popup to the remote softphone's own hold event (the
 * re-INVITE offer it receives). Adds hold_to_remote_* keys to `report`.
 */
export async function benchHoldToRemote(b, report) {
  let agent, remote, remoteEvents, ext, popup;
  try {
    agent = await startSoftphone({ user: 'agent', autoAnswer: false });
    remote = await startSoftphone({ user: PARIS, autoAnswer: true });
    remoteEvents = await controlClient(remote.ctrl);
    ext = await openExtensionPage(b, 'options.html');
    await ext.evaluate(
      (o) => chrome.storage.local.set({ options: o }),
      { dialer: { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` }, defaultRegion: 'FR' },
    );
    await until(async () => (await swState(ext)).host.state === 'connected'
      && (await swState(ext)).settings.dialer?.address === `127.0.0.1:${agent.ctrl}`, { what: 'the dialer settings' });
    popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 700 });
    remoteEvents.command('dial', agent.uri);
    await popup.getByRole('button', { name: 'Answer', exact: true }).click();
    const est = await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the call' });
    const hold = popup.getByRole('button', { name: 'Hold' });
    await hold.waitFor();
    const offers = () => remoteEvents.events.filter((e) => e.type === 'CALL_REMOTE_SDP' && e.id === est.id && e.param === 'offer' && e.at > est.at);
    const times = [];
    for (let i = -1; i < CALLS; i++) {
      for (const measured of [true, false]) {
        // Hold (measured), then resume (not measured).
        const n = offers().length;
        const pressed = measured ? 'false' : 'true';
        await until(async () => (await hold.getAttribute('aria-pressed')) === pressed, { what: 'the button state' });
        // Re-rendering may move the button: measured before each press.
        const box = await hold.boundingBox();
        await popup.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        const t0 = performance.now();
        await popup.mouse.down();
        await popup.mouse.up();
        await until(async () => offers().length > n, { timeout: 10000, what: `the remote's re-INVITE ${i}` });
        if (measured && i >= 0) times.push(offers()[n].at - t0);
      }
    }
    report.hold_to_remote_ms_p50 = pct(times, 0.5);
    report.hold_to_remote_ms_p90 = pct(times, 0.9);
    report.hold_to_remote_samples = times.length;
  } finally {
    await popup?.close().catch(() => {});
    await ext?.close().catch(() => {});
    remoteEvents?.close();
    await agent?.stop();
    await remote?.stop();
  }
}
