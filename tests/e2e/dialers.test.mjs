// Calling without the native host (issue 21): no host is registered in any
// of these browsers. The `tel` dialer opens tel: itself (a web page the test
// registers as the tel: handler shows what arrives), the `url` dialer opens
// the administrator's template with the number percent-encoded, and the
// `platform` dialer asks the emulated phone platform to place the call and
// follows it on the platform's event stream. A page's own script cannot make
// any of them dial.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openExtensionPage, startEmulator, swState, until, artifact, canWritePolicy, POLICY_DIR } from './lib/harness.mjs';
import { ANA, provider, google, setOptions, signInGoogle } from './lib/auth.mjs';
import { buttonCentre, clickButton } from './lib/buttons.mjs';

const PARIS = '+33123456789';
const PREMIUM = '+449098790000';
const REAL = 'Call 01 23 45 67 89';
const needsPolicy = { skip: !canWritePolicy() && `cannot write ${POLICY_DIR} (needs root)` };

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

async function openPage(b, file = 'numbers.html') {
  const page = await b.context.newPage();
  await page.goto(`${emu.url}/pages/${file}`);
  return page;
}

/** The URLs of the pages at dialed.html opened so far. */
function dialledPages(b) {
  return b.context.pages().map((p) => p.url()).filter((u) => u.includes('/pages/dialed.html'));
}

/** Registers dialed.html as the page's origin's tel: handler, as a web phone app would (accepted through the DevTools protocol). */
async function registerTelHandler(b, page) {
  const cdp = await b.context.newCDPSession(page);
  await cdp.send('Page.setRPHRegistrationMode', { mode: 'autoAccept' });
  await page.evaluate(() => navigator.registerProtocolHandler('tel', `${location.origin}/pages/dialed.html?tel=%s`));
  await cdp.detach();
}

/** Nothing dialled: no handler page, no call at the platform, nothing live, nothing handed off. */
async function assertNoCall(b, options, what) {
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(dialledPages(b), [], `${what}: a dialer page opened`);
  assert.deepEqual(await emu.control('GET', '/platform/calls'), [], `${what}: the platform placed a call`);
  const { calls } = await swState(options);
  assert.equal(calls.live, null, `${what}: a call is live`);
  assert.equal(calls.handedOff ?? null, null, `${what}: a call was handed off`);
}

test('tel without the host: a click opens tel: with the worker\'s number, which reaches the registered handler; a page script\'s click and a premium number do not', async () => {
  const b = await launch({ host: false });
  try {
    await setOptions(b, { defaultRegion: 'FR', dialer: { adapter: 'tel' } });
    const options = await openExtensionPage(b, 'options.html');
    await until(async () => (await swState(options)).host.state === 'not_installed', { what: 'no host found' });
    // The options page and the popup say where calls go, and what the host would add.
    await options.reload();
    assert.equal(await options.getByTestId('calls-go-where').textContent(), 'Calls open in your phone app.');
    assert.match(await options.getByTestId('calls-go-host').textContent(), /^Still working without the Ringside host: call buttons, calls/);
    const page = await openPage(b);
    await registerTelHandler(b, page);
    await buttonCentre(page, REAL);
    // The page's own script clicks Ringside's element and what is at its place: nothing.
    assert.deepEqual(await page.evaluate(() => window.syntheticClick()), { host: true, button: false });
    await assertNoCall(b, options, 'synthetic click');
    // The agent's click.
    await clickButton(page, REAL);
    const url = await until(() => dialledPages(b)[0], { what: 'the tel: handler page' });
    assert.equal(new URL(url).searchParams.get('tel'), `tel:${PARIS}`);
    assert.equal(page.url(), `${emu.url}/pages/numbers.html`, 'the page the agent clicked on stays');
    const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
    await popup.getByText('Call to 01 23 45 67 89 opened in your phone app.').waitFor();
    assert.equal(await popup.getByTestId('live-call').count(), 0);
    await popup.screenshot({ path: artifact('popup-tel-no-host.png') });
    for (const p of b.context.pages()) if (p.url().includes('/pages/dialed.html')) await p.close();

    // A premium-rate number from a page waits for the agent, also without the host.
    const premium = await openPage(b, 'hostile-premium.html');
    await clickButton(premium, 'Call +44 909 879 0000');
    const held = await until(async () => (await swState(options)).calls.confirm, { what: 'the held dial' });
    assert.equal(held.number, PREMIUM);
    assert.deepEqual(dialledPages(b), []);
    // Confirmed in Ringside's own notification: now it opens.
    await b.sw.evaluate((id) => self.ringside.onNotificationButton(`ringside-confirm:${id}`, 0), held.id);
    const confirmed = await until(() => dialledPages(b)[0], { what: 'the confirmed premium call' });
    assert.equal(new URL(confirmed).searchParams.get('tel'), `tel:${PREMIUM}`);
  } finally {
    await b.close();
  }
});

test('url without the host: a click opens the template with the number percent-encoded; a page script\'s click does not', needsPolicy, async () => {
  const template = `${emu.url}/pages/dialed.html?to={e164}&digits={digits}&ext={extension}`;
  const b = await launch({
    host: false,
    policy: { dialer: { adapter: 'url', urlTemplate: template, appName: 'Phone Web' }, defaultRegion: 'FR' },
  });
  try {
    const options = await openExtensionPage(b, 'options.html');
    assert.equal(await options.getByTestId('calls-go-where').textContent(), 'Calls open in Phone Web.');
    const page = await openPage(b);
    await buttonCentre(page, REAL);
    await page.evaluate(() => window.syntheticClick());
    await assertNoCall(b, options, 'synthetic click');
    await clickButton(page, REAL);
    const url = await until(() => dialledPages(b)[0], { what: 'the dialer page' });
    // The + percent-encoded: the raw query, not only its decoded value.
    assert.equal(new URL(url).search, '?to=%2B33123456789&digits=33123456789&ext=');
    assert.equal(page.url(), `${emu.url}/pages/numbers.html`);
    const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 600 });
    await popup.getByText('Call opened in Phone Web').waitFor();
  } finally {
    await b.close();
  }
});

for (const [what, policy, reason] of [
  ['a forbidden scheme', { dialer: { adapter: 'url', urlTemplate: 'javascript:alert({e164})' } }, /Policy dialer is invalid and was ignored: `javascript:` URLs are never allowed for calls/],
  ['a scheme the policy does not list', { dialer: { adapter: 'url', urlTemplate: 'dialpad://call?phone={e164}' }, dialerUrlSchemes: ['https'] }, /Policy dialer is invalid and was ignored: `dialpad:` is not one of the schemes dialerUrlSchemes allows \(https\)/],
  ['the number in the host part', { dialer: { adapter: 'url', urlTemplate: 'https://{digits}.example.com/call' } }, /Policy dialer is invalid and was ignored: .* puts the number in the host part/],
]) {
  test(`url: a template with ${what} is refused as invalid policy, and nothing opens it`, needsPolicy, async () => {
    const b = await launch({ host: false, policy: { ...policy, defaultRegion: 'FR' } });
    try {
      const options = await openExtensionPage(b, 'options.html');
      const state = await swState(options);
      assert.equal(state.settings.dialer, null);
      assert.ok(!state.settings.locked.includes('dialer'));
      const problem = options.getByTestId('setting-problem');
      await problem.waitFor();
      assert.match(await problem.textContent(), reason);
      // No dialer: the safe default, the browser's tel: (a page click opens no template).
      assert.equal(await options.getByTestId('calls-go-where').textContent(), 'Calls open in your phone app.');
    } finally {
      await b.close();
    }
  });
}

test('platform without the host: a click reaches the platform with the session, the popup follows the call from the event stream, hang up ends it there, and the wrap-up is saved', needsPolicy, async () => {
  await emu.control('POST', '/platform/reset');
  await provider(emu, '/oidc', { auto: ANA.email });
  await emu.control('PUT', '/platform/agents', [{ login_email: ANA.email, name: ANA.name }]);
  const b = await launch({
    host: false,
    policy: {
      identityProviders: [google(emu)],
      platformUrl: `${emu.url}/platform`,
      dialer: { adapter: 'platform' },
      defaultRegion: 'FR',
    },
  });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    await signInGoogle(b, popup);
    assert.equal(await popup.getByTestId('calls-go-where').textContent(), 'Your phone system calls you first, then the number.');
    const page = await openPage(b);
    await buttonCentre(page, REAL);
    await page.evaluate(() => window.syntheticClick());
    await assertNoCall(b, popup, 'synthetic click');

    await clickButton(page, REAL);
    const [call] = await until(async () => {
      const calls = await emu.control('GET', '/platform/calls');
      return calls.length ? calls : null;
    }, { what: 'the platform to get the call' });
    assert.deepEqual(call.request, { to: PARIS });
    assert.equal(call.agent, ANA.email);
    // Placed with the agent's own, live platform session.
    const me = await fetch(`${emu.url}/platform/v1/me`, { headers: { authorization: `Bearer ${call.session}` } });
    assert.equal((await me.json()).agent.login_email, ANA.email);

    await popup.bringToFront();
    const live = popup.getByTestId('live-call');
    const phaseIs = (p) => until(async () => (await live.getAttribute('data-phase').catch(() => null)) === p, { what: `the popup at ${p}` });
    await phaseIs('dialing');
    await popup.getByText('Your phone rings first: answer it to call the number.').waitFor();
    await emu.control('POST', `/platform/calls/${call.id}/agent-answers`);
    await phaseIs('ringing');
    await emu.control('POST', `/platform/calls/${call.id}/callee-answers`);
    await phaseIs('established');
    await popup.getByRole('heading', { name: 'On a call' }).waitFor();
    await popup.screenshot({ path: artifact('popup-platform-call.png') });
    await popup.getByRole('button', { name: 'Hang up' }).click();
    await until(async () => (await emu.control('GET', '/platform/calls'))[0].state === 'ended', { what: 'the call ended at the platform' });
    assert.equal((await emu.control('GET', '/platform/calls'))[0].reason, 'hung up by the agent');
    await popup.getByTestId('wrapup').waitFor();
    await popup.getByLabel('Tags').fill('platform');
    await popup.getByLabel('Note').fill('Called through the platform.');
    await popup.getByRole('button', { name: 'Save wrap-up' }).click();
    await popup.getByText('Wrap-up saved to your phone system.').waitFor();
    const [saved] = await emu.control('GET', '/wrapups');
    assert.equal(saved.agent, ANA.email);
    assert.equal(saved.call.number, PARIS);
    assert.equal(saved.call.answered, true);
    assert.equal(saved.call.softphoneCallId, call.id);
    assert.deepEqual(saved.tags, ['platform']);

    // The other party hangs up: the popup follows the platform's event.
    await page.bringToFront();
    await clickButton(page, REAL);
    const second = await until(async () => (await emu.control('GET', '/platform/calls'))[1], { what: 'the second call' });
    await emu.control('POST', `/platform/calls/${second.id}/agent-answers`);
    await emu.control('POST', `/platform/calls/${second.id}/callee-answers`);
    await popup.bringToFront();
    await phaseIs('established');
    await emu.control('POST', `/platform/calls/${second.id}/remote-hangup`);
    await popup.getByTestId('wrapup').waitFor();
    assert.equal((await swState(popup)).calls.live, null);
  } finally {
    await b.close();
    await emu.control('POST', '/platform/reset');
  }
});
