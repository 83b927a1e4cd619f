// Session revocation end to end: real Chromium, the real host and Secret
// Service, two real baresip softphones, and the emulator's providers and
// platform. Each cause is driven through the emulator's control API (or the
// admin's policy), and what every surface shows is checked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launch, openExtensionPage, startEmulator, swState, until, artifact } from './lib/harness.mjs';
import { startSoftphone, controlClient } from './lib/softphone.mjs';
import { clickButton, axText } from './lib/buttons.mjs';
import { ANA, TENANT, provider, google, configure, secretFor, phase, notice, signInGoogle, clickSignIn } from './lib/auth.mjs';

// The Paris number on tests/pages/numbers.html, as the remote party's account.
const PARIS = '+33123456789';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

async function signedInBrowser(extra = {}) {
  await provider(emu, '/oidc', { auto: ANA.email });
  await emu.control('PUT', '/platform/agents', [{ login_email: ANA.email, name: ANA.name }]);
  await emu.control('PUT', '/platform/method', { method: 'google' });
  // The admin's policy, there before the browser starts.
  const b = await launch({
    host: true,
    ...extra.launch,
    policy: { identityProviders: [google(emu)], platformUrl: `${emu.url}/platform`, ...extra.options },
  });
  const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
  await signInGoogle(b, popup);
  return { b, popup };
}

test('a call survives a platform revocation; the wrap-up written while signed out reaches the platform after the next sign-in', async () => {
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
  const remote = await startSoftphone({ user: PARIS, autoAnswer: true });
  const remoteEvents = await controlClient(remote.ctrl);
  const dialer = { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` };
  const { b, popup } = await signedInBrowser({ options: { dialer, defaultRegion: 'FR' } });
  try {
    await until(() => secretFor(`${emu.url}/google`, 'ringside-e2e'), { what: 'the refresh token stored' });
    const panel = await openExtensionPage(b, 'sidepanel.html');
    const options = await openExtensionPage(b, 'options.html');
    await until(async () => (await phase(panel)) === 'signed_in' && (await phase(options)) === 'signed_in', { what: 'every surface signed in' });
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/numbers.html`);
    await clickButton(page, 'Call 01 23 45 67 89');
    await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { timeout: 10000, what: 'the remote answered' });
    await until(async () => (await popup.getByTestId('live-call').getAttribute('data-phase').catch(() => null)) === 'established',
      { what: 'the popup shows the call' });

    const revokedAt = Date.now();
    await emu.control('POST', '/platform/revoke-sessions', { login_email: ANA.email });
    for (const [name, surface] of [['popup', popup], ['side panel', panel], ['options page', options]]) {
      await until(async () => (await phase(surface)) === 'signed_out', { timeout: 4000, interval: 20, what: `the ${name} signed out` });
      const elapsed = Date.now() - revokedAt;
      assert.ok(elapsed <= 2000, `every surface within 2 s (${name} after ${elapsed} ms)`);
    }
    assert.equal((await notice(popup)).key, 'revokedByPlatform');
    assert.equal(await popup.getByTestId('call-note').textContent(), 'Your current call goes on until someone hangs up.');
    await popup.screenshot({ path: artifact('popup-revoked-in-call.png') });
    // Tokens purged: the Secret Service entry is gone.
    await until(() => secretFor(`${emu.url}/google`, 'ringside-e2e') === null, { what: 'the secret purged' });
    // The call goes on: the remote has not seen it close, the popup still shows it.
    await page.waitForTimeout(500);
    assert.ok(!remoteEvents.events.some((e) => e.type === 'CALL_CLOSED'), 'the remote still has the call');
    assert.equal(await popup.getByTestId('live-call').getAttribute('data-phase'), 'established');

    // The agent hangs up, writes the wrap-up; it is queued, not sent.
    await popup.getByRole('button', { name: 'Hang up' }).click();
    await remoteEvents.waitFor((e) => e.type === 'CALL_CLOSED', { what: 'the call closed' });
    await popup.getByTestId('wrapup').waitFor();
    await popup.getByLabel('Tags').fill('revoked-mid-call');
    await popup.getByLabel('Note').fill('Written after the sign-out.');
    await popup.getByRole('button', { name: 'Save wrap-up' }).click();
    await popup.getByTestId('wrapup-saved').waitFor();
    assert.deepEqual(await emu.control('GET', '/wrapups'), []);

    // A new call is refused while signed out, with the message.
    await clickButton(page, 'Call 01 23 45 67 89');
    await until(async () => (await axText(page)).includes('Sign in to Ringside to make calls'), { what: 'the sign-in message beside the button' });

    // Signing in again delivers the wrap-up.
    await signInGoogle(b, popup);
    const delivered = await until(async () => {
      const w = await emu.control('GET', '/wrapups');
      return w.length === 1 && w;
    }, { timeout: 8000, what: 'the wrap-up delivered' });
    assert.equal(delivered[0].note, 'Written after the sign-out.');
    assert.deepEqual(delivered[0].tags, ['revoked-mid-call']);
    // Sent with Ana's new platform session: the platform files it under her.
    assert.equal(delivered[0].agent, ANA.email);
  } finally {
    remoteEvents.close();
    await b.close();
    await agent.stop();
    await remote.stop();
  }
});

test("wrap-ups carry the agent's platform session and wait in their own agent's outbox: B signing in never sends A's, a 401 keeps it queued and says so, A's goes when A signs in", async () => {
  const BO = { email: 'bo@example.com', name: 'Bo Berg', hd: 'example.com' };
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
  const remote = await startSoftphone({ user: PARIS, autoAnswer: true });
  const remoteEvents = await controlClient(remote.ctrl);
  const dialer = { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` };
  await emu.control('POST', '/reset');
  await provider(emu, '/oidc', { users: [ANA, BO], auto: ANA.email });
  await emu.control('PUT', '/platform/agents', [{ login_email: ANA.email, name: ANA.name }, { login_email: BO.email, name: BO.name }]);
  await emu.control('PUT', '/platform/method', { method: 'google' });
  const b = await launch({ host: true });
  try {
    await configure(b, { identityProviders: [google(emu)], platformUrl: `${emu.url}/platform`, dialer, defaultRegion: 'FR' });
    // The platform refuses a wrap-up without a session, as it refuses its other requests.
    const anonymous = await fetch(`${emu.url}/platform/v1/wrapups`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ call: { id: 'forged-1' }, tags: [], note: 'no session' }),
    });
    assert.equal(anonymous.status, 401);
    assert.equal((await anonymous.json()).error.code, 'session_required');
    assert.deepEqual(await emu.control('GET', '/wrapups'), []);

    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
    const options = await openExtensionPage(b, 'options.html');
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/numbers.html`);
    const callAndHangUp = async () => {
      remoteEvents.events.splice(0);
      await page.bringToFront();
      await clickButton(page, 'Call 01 23 45 67 89');
      await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { timeout: 10000, what: 'the remote answered' });
      await until(async () => (await popup.getByTestId('live-call').getAttribute('data-phase').catch(() => null)) === 'established',
        { what: 'the popup shows the call' });
      await popup.getByRole('button', { name: 'Hang up' }).click();
      await remoteEvents.waitFor((e) => e.type === 'CALL_CLOSED', { what: 'the call closed' });
      await popup.getByTestId('wrapup').waitFor();
    };
    const saveWrapup = async (tags, note) => {
      await popup.getByLabel('Tags').fill(tags);
      await popup.getByLabel('Note').fill(note);
      await popup.getByRole('button', { name: 'Save wrap-up' }).click();
      const saved = popup.getByTestId('wrapup-saved');
      await saved.waitFor();
      return saved.textContent();
    };
    const signOut = async () => {
      await options.getByRole('button', { name: 'Sign out' }).click();
      await until(async () => (await phase(popup)) === 'signed_out', { what: 'signed out' });
    };
    const outboxes = () => options.evaluate(async () => {
      const all = await chrome.storage.local.get(null);
      return Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('wrapupOutbox')));
    });

    // Ana's call; she signs out before writing its wrap-up: it waits in her outbox.
    await signInGoogle(b, popup);
    const ana = (await swState(popup)).auth.profile;
    const anaOutbox = `wrapupOutbox ${ana.issuer} ${ana.subject}`;
    await callAndHangUp();
    await signOut();
    assert.match(await saveWrapup('ana-call', "Ana's note."), /signed out.*sent after you sign in/);
    assert.deepEqual(Object.keys(await outboxes()), [anaOutbox], 'one outbox, keyed by issuer and subject');
    assert.equal((await outboxes())[anaOutbox].length, 1);

    // Bo signs in on the same browser: Ana's wrap-up is not sent.
    await emu.control('PUT', '/oidc/consent', { auto: BO.email });
    await emu.control('DELETE', '/requests');
    await signInGoogle(b, popup);
    assert.equal((await swState(popup)).auth.profile.email, BO.email);
    await page.waitForTimeout(1500);
    const posted = (await emu.control('GET', '/requests')).filter((r) => r.path === '/platform/v1/wrapups');
    assert.deepEqual(posted, [], "nothing was posted for Ana while Bo is signed in");
    assert.deepEqual(await emu.control('GET', '/wrapups'), []);

    // Bo's own call goes at once, with his session, filed under him.
    await callAndHangUp();
    assert.equal(await saveWrapup('sale, follow-up', 'Wants a quote by Friday.'), 'Wrap-up saved to your phone system.');
    const bos = await emu.control('GET', '/wrapups');
    assert.equal(bos.length, 1);
    assert.equal(bos[0].agent, BO.email);
    assert.deepEqual(bos[0].tags, ['sale', 'follow-up']);
    assert.equal(bos[0].note, 'Wants a quote by Friday.');
    assert.equal(bos[0].call.number, PARIS);
    assert.equal(bos[0].call.direction, 'outgoing');
    assert.equal(bos[0].call.answered, true);
    assert.equal(bos[0].call.agent, undefined, 'the body names no agent: the session does');
    assert.equal((await outboxes())[anaOutbox].length, 1, "Ana's wrap-up still waits for her");

    // Ana signs in again, but the platform answers 401: it stays queued, and she is told.
    await signOut();
    await emu.control('PUT', '/faults', [{
      path_prefix: '/platform/v1/wrapups', status: 401,
      body: { error: { code: 'session_revoked', message: 'This session was revoked or has ended. Sign in again.' } }, count: 1,
    }]);
    await emu.control('PUT', '/oidc/consent', { auto: ANA.email });
    await signInGoogle(b, popup);
    const refused = popup.getByTestId('wrapup-saved');
    await until(async () => /refused the wrap-up: your session with it is no longer valid/.test((await refused.textContent().catch(() => '')) ?? ''),
      { timeout: 8000, what: 'the agent told about the 401' });
    assert.deepEqual(await emu.control('GET', '/faults'), [], 'the 401 was served');
    assert.equal((await emu.control('GET', '/wrapups')).length, 1, 'only Bo\'s');
    assert.equal((await outboxes())[anaOutbox].length, 1, 'kept after the 401');
    await popup.screenshot({ path: artifact('popup-wrapup-unauthorized.png') });

    // Her next sign-in delivers it, under her name; her outbox is empty.
    await signOut();
    await signInGoogle(b, popup);
    const delivered = await until(async () => {
      const w = await emu.control('GET', '/wrapups');
      return w.length === 2 && w;
    }, { timeout: 8000, what: "Ana's wrap-up delivered" });
    assert.equal(delivered[1].agent, ANA.email);
    assert.equal(delivered[1].note, "Ana's note.");
    assert.deepEqual(delivered[1].tags, ['ana-call']);
    await until(async () => !(anaOutbox in (await outboxes())), { what: "Ana's outbox emptied" });
  } finally {
    remoteEvents.close();
    await b.close();
    await agent.stop();
    await remote.stop();
  }
});

test('an API 401 after a silent refresh, refresh refused with invalid_grant, the refresh token gone from the Secret Service, and an agent removed by the platform each sign out with their own message', async () => {
  const { b, popup } = await signedInBrowser();
  try {
    const options = await openExtensionPage(b, 'options.html');
    // An API (userinfo, read after each refresh) answers 401 twice: once
    // before and once after a silent refresh.
    await emu.control('PUT', '/faults', [{ path_prefix: '/google/v1/userinfo', status: 401, body: { error: 'invalid_token' }, count: 2 }]);
    await options.getByRole('button', { name: 'Refresh sign-in now' }).click();
    await until(async () => (await phase(popup)) === 'signed_out', { what: 'signed out after a 401 that survived a refresh' });
    assert.equal((await notice(popup)).key, 'revokedUnauthorized');
    assert.deepEqual(await emu.control('GET', '/faults'), [], 'both 401s were served');
    await signInGoogle(b, popup);

    await emu.control('POST', '/oidc/revoke-user', { email: ANA.email });
    await options.getByRole('button', { name: 'Refresh sign-in now' }).click();
    await until(async () => (await phase(popup)) === 'signed_out', { what: 'signed out after invalid_grant' });
    assert.equal((await notice(popup)).key, 'revokedGrant');
    assert.equal(secretFor(`${emu.url}/google`, 'ringside-e2e'), null);

    // The refresh token disappears from the Secret Service.
    await signInGoogle(b, popup);
    await until(() => secretFor(`${emu.url}/google`, 'ringside-e2e'), { what: 'stored again' });
    execFileSync('secret-tool', ['clear', 'service', 'ringside', 'username', `${emu.url}/google ringside-e2e`]);
    await options.getByRole('button', { name: 'Refresh sign-in now' }).click();
    await until(async () => (await phase(popup)) === 'signed_out', { what: 'signed out after the secret vanished' });
    const gone = await notice(popup);
    assert.equal(gone.key, 'sessionStoreEmpty');
    assert.match(gone.text, /no longer in your computer's password store/);

    await signInGoogle(b, popup);
    await emu.control('POST', '/platform/remove-agent', { login_email: ANA.email });
    await until(async () => (await phase(popup)) === 'signed_out', { what: 'signed out after removal' });
    const n = await notice(popup);
    assert.equal(n.key, 'revokedAgentRemoved');
    assert.match(n.text, /no longer an agent/);
    await until(async () => (await phase(options)) === 'signed_out', { what: 'the options page follows' });
  } finally {
    await b.close();
  }
});

test('a sign-in method change counts down a 1-minute grace period, survives a browser restart and a host crash, and signs out on time', async () => {
  let { b, popup } = await signedInBrowser({ options: { signOutGraceMinutes: 1 } });
  const dirs = b.dirs;
  try {
    // The admin switches the company to Microsoft: the policy changes while the browser runs.
    const changed = {
      identityProviders: [google(emu)], platformUrl: `${emu.url}/platform`, signOutGraceMinutes: 1, signInMethod: 'microsoft',
    };
    const writtenAt = Date.now();
    await configure(b, changed);
    const appliedAt = Date.now();
    const countdown = popup.getByTestId('sign-out-countdown');
    await countdown.waitFor({ timeout: 4000 });
    assert.match(await countdown.textContent(), /You will be signed out in (1:00|0:5\d)\./);
    assert.equal(await phase(popup), 'signed_in', 'still signed in during the grace period');
    const deadline = (await swState(popup)).auth.pending_sign_out.at_ms;
    // The grace period runs from when the worker saw the change (Chromium reads a
    // changed policy file after a settle delay), between the write and its detection.
    assert.ok(deadline >= writtenAt + 60_000 - 500 && deadline <= appliedAt + 60_000 + 500,
      `deadline ${deadline - writtenAt} ms after the policy was written, ${deadline - appliedAt} ms after it was seen applied`);
    await popup.screenshot({ path: artifact('popup-countdown.png') });

    // The browser restarts during the grace period: the countdown goes on.
    await b.close({ keep: true });
    b = await launch({ host: true, dirs, policy: changed });
    popup = await openExtensionPage(b, 'popup.html');
    await popup.getByTestId('sign-out-countdown').waitFor({ timeout: 10000 });
    assert.equal((await swState(popup)).auth.pending_sign_out.at_ms, deadline, 'the same deadline');

    // The host crashes during it too.
    const pid = (await swState(popup)).host.info?.pid;
    assert.ok(pid, 'the host runs');
    process.kill(pid, 'SIGKILL');

    await until(async () => (await phase(popup)) === 'signed_out', { timeout: 70_000, interval: 100, what: 'the sign-out at the deadline' });
    const late = Date.now() - deadline;
    assert.ok(late >= -500 && late < 2500, `signed out ${late} ms after the deadline`);
    assert.equal((await notice(popup)).key, 'revokedMethodChanged');
    // The host (restarted by the worker) deleted the secret store entry.
    await until(() => secretFor(`${emu.url}/google`, 'ringside-e2e') === null, { timeout: 5000, what: 'the secret purged' });
  } finally {
    await b.close();
  }
});

test('a Microsoft claims challenge is answered by signing in again with the claims; when the agent cannot, the session ends', async () => {
  const li = { email: 'li@contoso.com', name: 'Li Wei' };
  await provider(emu, '/oidc-microsoft', { users: [li], auto: li.email });
  const b = await launch({
    host: true,
    policy: { identityProviders: [{ kind: 'microsoft', issuer: `${emu.url}/microsoft/${TENANT}/v2.0`, clientId: 'ringside-e2e', tenant: TENANT }] },
  });
  try {
    const popup = await openExtensionPage(b, 'popup.html');
    await clickSignIn(b, popup, 'Sign in with Microsoft');
    await until(async () => (await phase(popup)) === 'signed_in', { timeout: 15000, what: 'signed in' });
    const options = await openExtensionPage(b, 'options.html');
    // Graph's answer to a token that continuous access evaluation revoked.
    const claims = Buffer.from('{"access_token":{"nbf":{"essential":true,"value":"1763800000"}}}').toString('base64');
    const fault = {
      path_prefix: `/microsoft/${TENANT}/oidc/userinfo`,
      status: 401,
      body: { error: { code: 'InvalidAuthenticationToken', message: 'Continuous access evaluation resulted in challenge' } },
      www_authenticate: `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${claims}"`,
      count: 1,
    };
    await emu.control('PUT', '/faults', [fault]);
    await emu.control('DELETE', '/requests');
    await options.getByRole('button', { name: 'Refresh sign-in now' }).click();
    await until(async () => (await emu.control('GET', '/requests')).some((r) => r.path.endsWith('/oidc/userinfo') && r.status === 200),
      { timeout: 15000, what: 'userinfo answered after the new sign-in' });
    const seen = (await emu.control('GET', '/requests')).map((r) => r.path);
    assert.ok(seen.some((p) => p.endsWith('/oauth2/v2.0/authorize')), 'signed in again to answer the challenge');
    assert.equal(await phase(popup), 'signed_in');

    // This time the agent closes the provider's window.
    await emu.control('PUT', '/oidc-microsoft/consent', { auto: null });
    await emu.control('PUT', '/faults', [fault]);
    const opened = b.context.waitForEvent('page', { timeout: 10000 });
    await options.getByRole('button', { name: 'Refresh sign-in now' }).click();
    const consent = await opened;
    assert.match(consent.url(), /[?&]claims=/, 'the claims go to the provider');
    assert.match(consent.url(), /login_hint=li%40contoso\.com/);
    await consent.close();
    await until(async () => (await phase(popup)) === 'signed_out', { timeout: 10000, what: 'signed out' });
    assert.equal((await notice(popup)).key, 'revokedClaims');
  } finally {
    await b.close();
  }
});

test('the platform announces a sign-in method change with its time: countdown, then sign-out; a privileged agent keeps the session', async () => {
  const { b, popup } = await signedInBrowser();
  try {
    await emu.control('PUT', '/platform/method', { method: 'microsoft', effective_in_ms: 4000 });
    await popup.getByTestId('sign-out-countdown').waitFor({ timeout: 3000 });
    await until(async () => (await phase(popup)) === 'signed_out', { timeout: 10000, what: 'signed out at the announced time' });
    assert.equal((await notice(popup)).key, 'revokedMethodChanged');
  } finally {
    await emu.control('PUT', '/platform/method', { method: 'google' });
    await b.close();
  }
  const privileged = await signedInBrowser({ options: { privilegedUsers: [ANA.email] } });
  try {
    await emu.control('PUT', '/platform/method', { method: 'microsoft', effective_in_ms: 2000 });
    const n = await notice(privileged.popup);
    assert.equal(n.key, 'methodChangedKept');
    await privileged.popup.waitForTimeout(3000);
    assert.equal(await phase(privileged.popup), 'signed_in');
  } finally {
    await emu.control('PUT', '/platform/method', { method: 'google' });
    await privileged.b.close();
  }
});

test('signing out during a sign-out countdown ends it: the next session is not signed out by the old deadline', async () => {
  const { b, popup } = await signedInBrowser();
  try {
    await emu.control('PUT', '/platform/method', { method: 'microsoft', effective_in_ms: 6000 });
    const deadline = Date.now() + 6000;
    await popup.getByTestId('sign-out-countdown').waitFor({ timeout: 3000 });
    const options = await openExtensionPage(b, 'options.html');
    await options.getByRole('button', { name: 'Sign out' }).click();
    await until(async () => (await phase(popup)) === 'signed_out', { what: 'signed out by the agent' });
    assert.equal((await notice(popup)).key, 'signedOut');
    assert.equal(await popup.getByTestId('sign-out-countdown').count(), 0, 'no countdown after the sign-out');
    const stored = await options.evaluate(async () => (await chrome.storage.local.get('pendingSignOut')).pendingSignOut ?? null);
    assert.equal(stored, null, 'the pending sign-out is gone from storage too');

    // The company goes back to Google sign-in; the same agent signs in again.
    await emu.control('PUT', '/platform/method', { method: 'google' });
    await signInGoogle(b, popup);
    // Past the old deadline, the new session is still there.
    await popup.waitForTimeout(Math.max(0, deadline - Date.now()) + 2500);
    assert.equal(await phase(popup), 'signed_in', 'the old countdown did not sign the new session out');
    assert.equal(await popup.getByTestId('sign-out-countdown').count(), 0);
  } finally {
    await emu.control('PUT', '/platform/method', { method: 'google' });
    await b.close();
  }
});
