// Settings have owners, end to end (issue 18 §4). Browser storage is writable
// from any content-script context, so keys that route tokens, passwords or
// calls come from policy only. Here a content script's own context (the
// extension's isolated world in a web page, reached over CDP as a compromised
// renderer would) writes `options` pointing the Google API root, the platform
// URL and an identity provider at a loopback listener this test starts: the
// agent signs in and uses the side panel, and the listener receives nothing,
// while the emulator (the admin's policy) gets the traffic. The options page
// reports each ignored value, and offers no editable platform URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { launch, openExtensionPage, startEmulator, swState, until, artifact, inContentScript } from './lib/harness.mjs';
import { ANA, provider, google, signInGoogle, phase } from './lib/auth.mjs';

let emu;
let listener;
const seen = [];

before(async () => {
  emu = await startEmulator();
  await provider(emu, '/oidc', { auto: ANA.email });
  // The attacker's server: it records every request, and answers as little as possible.
  listener = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization ?? null });
    res.writeHead(404).end();
  });
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
});

after(() => {
  listener?.close();
  emu?.stop();
});

test('options written from a content script cannot route tokens: the API root, platform URL and provider they name get no request', async () => {
  const evil = `http://127.0.0.1:${listener.address().port}`;
  const b = await launch({
    host: true,
    policy: { identityProviders: [google(emu)], googleApiRoot: `${emu.url}/googleapis` },
  });
  try {
    // A page with numbers, so Ringside's content script runs in it.
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/numbers.html`);
    const tampered = {
      googleApiRoot: `${evil}/googleapis`,
      platformUrl: `${evil}/platform`,
      identityProviders: [{ kind: 'google', issuer: `${evil}/google`, clientId: 'ringside-e2e' }],
    };
    const wrote = await inContentScript(b, page, `chrome.storage.local.set({ options: ${JSON.stringify(tampered)} }).then(() => 'written')`);
    assert.deepEqual(wrote, { value: 'written' }, 'a content-script context can write storage.local (the threat)');
    // storage.session (the access tokens) stays out of its reach.
    const session = await inContentScript(b, page, 'chrome.storage.session.get(null).then((v) => JSON.stringify(v))');
    assert.ok(session.error, `storage.session refused to the content script (got ${JSON.stringify(session)})`);

    const options = await openExtensionPage(b, 'options.html');
    await until(async () => (await swState(options)).raw_options.googleApiRoot === tampered.googleApiRoot, { what: 'the worker read the options' });
    const state = await swState(options);
    assert.equal(state.settings.googleApiRoot, `${emu.url}/googleapis`, "the policy's API root applies");
    assert.equal(state.settings.platformUrl, null, 'no platform URL: policy sets none');
    assert.deepEqual(state.settings.identityProviders.map((p) => p.issuer), [`${emu.url}/google`]);
    // The options page says why each was ignored, and has no editable platform URL.
    await options.reload();
    const problems = options.getByTestId('setting-problem');
    await problems.first().waitFor();
    const texts = await problems.allTextContents();
    for (const key of ['identityProviders', 'platformUrl', 'googleApiRoot']) {
      assert.ok(
        texts.includes(`${key} is set by your administrator only: the value saved in this browser was ignored.`),
        `${key} reported: ${JSON.stringify(texts)}`,
      );
    }
    assert.equal(await options.locator('#opt-platform').count(), 0, 'no platform URL field');
    await options.screenshot({ path: artifact('options-tampered.png'), fullPage: true });

    // Sign in (the ID token would go to a platform URL) and use Google's APIs
    // (the bearer token goes to the API root).
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
    assert.equal(await popup.getByRole('button', { name: 'Sign in with Google' }).count(), 1, 'one provider: the policy\'s');
    await emu.control('DELETE', '/requests');
    await signInGoogle(b, popup);
    const panel = await openExtensionPage(b, 'sidepanel.html', { width: 420, height: 700 });
    await panel.getByLabel('Find a contact').fill('+34 612 34 56 78');
    await panel.getByLabel('Find a contact').press('Enter');
    await until(async () => (await emu.control('GET', '/requests')).some((r) => r.path.startsWith('/googleapis/')),
      { timeout: 15000, what: "a Google API request at the policy's root" });
    assert.equal(await phase(popup), 'signed_in');
    // Give anything misrouted time to arrive.
    await panel.waitForTimeout(1500);
    assert.deepEqual(seen, [], 'the listener named by the tampered options received no request (and no token)');
  } finally {
    await b.close();
  }
});

test('a softphone address from the options page must be on this computer; the same address from policy is the admin\'s choice', async () => {
  const b = await launch({ host: false });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await options.evaluate(() => chrome.storage.local.set({ options: { dialer: { adapter: 'baresip', address: '192.0.2.10:4444' } } }));
    await until(async () => (await swState(options)).raw_options.dialer, { what: 'the worker read the options' });
    const state = await swState(options);
    assert.equal(state.settings.dialer, null, 'the remote softphone address is not used');
    await options.reload();
    const problem = options.getByTestId('setting-problem');
    await problem.waitFor();
    assert.match(await problem.textContent(), /Setting dialer is invalid and was ignored: `192\.0\.2\.10:4444` is not on this computer/);
  } finally {
    await b.close();
  }
  const managed = await launch({ host: false, policy: { dialer: { adapter: 'baresip', address: '192.0.2.10:4444' } } });
  try {
    const options = await openExtensionPage(managed, 'options.html');
    const state = await swState(options);
    assert.equal(state.settings.dialer.address, '192.0.2.10:4444');
    assert.deepEqual(state.settings.problems, []);
  } finally {
    await managed.close();
  }
});

test('the options page shows a platform URL set by policy read-only, and saving the form never stores one', async () => {
  const platformUrl = `${emu.url}/platform`;
  const b = await launch({ host: false, policy: { platformUrl } });
  try {
    const options = await openExtensionPage(b, 'options.html');
    const field = options.getByLabel('Phone platform URL');
    await field.waitFor();
    assert.equal(await field.inputValue(), platformUrl);
    assert.equal(await field.isDisabled(), true);
    assert.match(await options.locator('#opt-platform-locked').textContent(), /Set by your administrator/);
    await options.getByLabel('Default country').fill('FR');
    await options.getByRole('button', { name: 'Save settings', exact: true }).click();
    await until(async () => (await swState(options)).raw_options.defaultRegion === 'FR', { what: 'the form saved' });
    assert.deepEqual(Object.keys((await swState(options)).raw_options), ['defaultRegion'], 'only the agent\'s own keys are saved');
  } finally {
    await b.close();
  }
});
