// End-to-end: the extension and the native host in real headless Chromium.
// Each test gets a fresh profile and home; the host is the release binary in
// dist/, registered exactly as a person would (`ringside-host install`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  launch, openExtensionPage, swState, until, artifact, startEmulator, installHost, EXTENSION_ID,
  POLICY_DIR, canWritePolicy,
} from './lib/harness.mjs';

let emu;
before(async () => { emu = await startEmulator(); });
after(() => emu?.stop());

const POPUP = { width: 360, height: 320 };

test('popup shows the host connected after `ringside-host install --profile-dir`', async () => {
  const b = await launch({ host: true });
  try {
    assert.equal(b.extensionId, EXTENSION_ID, 'the manifest key fixes the id');
    const popup = await openExtensionPage(b, 'popup.html', POPUP);
    const card = popup.getByTestId('host-card');
    await card.getByText('Connected to the Ringside host 0.1.0').waitFor({ timeout: 5000 });
    assert.equal(await card.getAttribute('role'), 'status');
    assert.equal(await popup.locator('html').getAttribute('lang'), 'en-US');
    // The settings control is a real button with a name, reachable by keyboard.
    await popup.keyboard.press('Tab');
    assert.equal(await popup.evaluate(() => document.activeElement.textContent), 'Settings');
    const state = await swState(popup);
    assert.equal(state.host.state, 'connected');
    assert.deepEqual(state.host.info.capabilities, ['ping', 'dial', 'detect', 'auth', 'mail']);
    await popup.screenshot({ path: artifact('popup-connected.png') });
  } finally {
    await b.close();
  }
});

test('popup speaks the browser language (French)', async () => {
  const b = await launch({ host: true, lang: 'fr-FR', env: { LANGUAGE: 'fr', LC_ALL: 'fr_FR.UTF-8' } });
  try {
    const popup = await openExtensionPage(b, 'popup.html', POPUP);
    const lang = await popup.evaluate(() => chrome.i18n.getUILanguage());
    if (!lang.startsWith('fr')) {
      // Chromium picks its UI language from the environment; say so rather than pass silently.
      assert.fail(`Chromium ran with UI language ${lang}, not fr`);
    }
    await popup.getByText("Connecté à l'hôte Ringside 0.1.0").waitFor({ timeout: 5000 });
    await popup.screenshot({ path: artifact('popup-connected-fr.png') });
  } finally {
    await b.close();
  }
});

test('without the host the popup says "not installed" with the exact command, and recovers after install', async () => {
  const b = await launch({ host: false });
  try {
    const popup = await openExtensionPage(b, 'popup.html', POPUP);
    await popup.getByText('The Ringside host is not installed').waitFor({ timeout: 5000 });
    const command = await popup.getByTestId('install-command').textContent();
    assert.equal(command, `ringside-host install --browser chromium --extension-id ${EXTENSION_ID}`);
    await popup.screenshot({ path: artifact('popup-not-installed.png') });
    assert.equal((await swState(popup)).host.state, 'not_installed');

    // The agent runs the install (for this profile) and presses "Retry now" with
    // the keyboard. (Without it the next automatic try is 30 s away.)
    installHost(b.dirs);
    const retry = popup.getByRole('button', { name: 'Retry now' });
    await retry.focus();
    await popup.keyboard.press('Enter');
    await popup.getByText('Connected to the Ringside host 0.1.0').waitFor({ timeout: 5000 });
  } finally {
    await b.close();
  }
});

test('host killed from outside: the service worker reconnects within 2 s and the popup shows it', async () => {
  const b = await launch({ host: true });
  try {
    const popup = await openExtensionPage(b, 'popup.html', POPUP);
    const first = await until(async () => {
      const s = await swState(popup);
      return s.host.state === 'connected' && s;
    }, { what: 'first connection' });
    const oldPid = first.host.info.pid;
    assert.ok(existsSync(`/proc/${oldPid}`), 'the reported pid is a live process');
    const killedAt = Date.now();
    process.kill(oldPid, 'SIGKILL');
    const second = await until(async () => {
      const s = await swState(popup);
      return s.host.state === 'connected' && s.host.info.pid !== oldPid && s;
    }, { timeout: 5000, interval: 10, what: 'reconnection with a new host process' });
    const elapsed = Date.now() - killedAt;
    assert.ok(elapsed < 2000, `reconnected after ${elapsed} ms`);
    assert.equal(second.stats.drops, 1);
    assert.equal(second.stats.connects, 2);
    assert.equal(second.stats.last_error, 'Native host has exited.');
    await popup.getByText('Connected to the Ringside host 0.1.0').waitFor({ timeout: 1000 });

    // The options page shows the same in its diagnostics.
    const options = await openExtensionPage(b, 'options.html');
    await until(async () => (await options.getByTestId('diag-pid').textContent()) === String(second.host.info.pid),
      { what: 'diagnostics pid' });
    assert.equal(await options.getByTestId('diag-drops').textContent(), '1');
  } finally {
    await b.close();
  }
});

test('the content script runs on an ordinary page and on a strict-CSP page', async () => {
  const b = await launch({ host: true });
  try {
    const errors = [];
    const ordinary = await b.context.newPage();
    ordinary.on('pageerror', (e) => errors.push(String(e)));
    await ordinary.goto(`${emu.url}/pages/ordinary.html`);
    const strict = await b.context.newPage();
    strict.on('pageerror', (e) => errors.push(String(e)));
    await strict.goto(`${emu.url}/pages/ordinary.strict.html`);

    // The CSP really is in force: the strict page's inline script was blocked.
    assert.equal(await ordinary.evaluate(() => document.body.dataset.pageScript), 'ran');
    assert.equal(await strict.evaluate(() => document.body.dataset.inlineScript), undefined);

    const options = await openExtensionPage(b, 'options.html');
    const pages = await until(async () => {
      const s = await swState(options);
      return s.pages.length >= 2 && s.pages;
    }, { what: 'both content scripts to check in' });
    const origin = new URL(emu.url).origin;
    assert.ok(pages.every((p) => p.origin === origin && p.frame === 0));
    // One page lets WebAssembly compile; the strict one does not, and the script still ran.
    assert.deepEqual(pages.map((p) => p.wasm).sort(), [false, true]);
    // The options page lists them.
    await options.locator('[data-testid="pages"] li[data-wasm="no"]').waitFor();
    assert.deepEqual(errors, []);
    // The content script left the page alone.
    assert.equal(await strict.evaluate(() => document.body.innerText.includes('+44 20 7946 0018')), true);
  } finally {
    await b.close();
  }
});

test('a host that refuses this extension (not in its allow-list) is reported with the fix', async () => {
  const b = await launch({ host: false });
  try {
    installHost(b.dirs);
    // An admin's config that no longer lists this extension.
    const cfgPath = path.join(b.dirs.config, 'ringside', 'host.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.allowed_origins = [];
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const popup = await openExtensionPage(b, 'popup.html', POPUP);
    await popup.getByText('The Ringside host refused this extension').waitFor({ timeout: 5000 });
    const text = await popup.getByTestId('host-card').innerText();
    assert.match(text, new RegExp(`chrome-extension://${EXTENSION_ID}/ is not in this host's allow-list`));
    assert.match(text, /ringside-host install --browser chromium/);
  } finally {
    await b.close();
  }
});

test('a host blocked by browser policy shows "blocked by policy"', { skip: !canWritePolicy() && `cannot write ${POLICY_DIR} (needs root)` }, async () => {
  const policy = path.join(POLICY_DIR, 'ringside-e2e-block.json');
  writeFileSync(policy, JSON.stringify({ NativeMessagingBlocklist: ['com.ringside.host'] }));
  let b;
  try {
    b = await launch({ host: true });
    const popup = await openExtensionPage(b, 'popup.html', POPUP);
    await popup.getByText("Your organization's policy blocks the Ringside host").waitFor({ timeout: 5000 });
    assert.match(await popup.getByTestId('host-card').innerText(), /NativeMessagingAllowlist/);
    assert.equal((await swState(popup)).host.state, 'blocked');
    await popup.screenshot({ path: artifact('popup-blocked.png') });
  } finally {
    rmSync(policy, { force: true });
    await b?.close();
  }
});

test('options page shows the extension id and the redirect URI to register', async () => {
  const b = await launch({ host: true });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await options.getByTestId('extension-id').waitFor();
    assert.equal(await options.getByTestId('extension-id').textContent(), EXTENSION_ID);
    assert.equal(await options.getByTestId('redirect-uri').textContent(), `https://${EXTENSION_ID}.chromiumapp.org/`);
    // Copy buttons have specific accessible names.
    await options.getByRole('button', { name: 'Copy redirect URI' }).waitFor();
    await options.getByTestId('diag-state').getByText('connected').waitFor({ timeout: 5000 });
    await options.screenshot({ path: artifact('options.png'), fullPage: true });
  } finally {
    await b.close();
  }
});

test('messages from web pages are refused by the service worker', async () => {
  const b = await launch({ host: true });
  try {
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/ordinary.html`);
    // A page cannot message the extension at all (no externally_connectable) ...
    const fromPage = await page.evaluate(() => typeof chrome !== 'undefined' && !!chrome.runtime?.sendMessage);
    assert.equal(fromPage, false);
    // ... and a content-script-shaped sender asking for state is refused.
    const options = await openExtensionPage(b, 'options.html');
    const reply = await options.evaluate(() => chrome.runtime.sendMessage({ type: 'content.hello', wasm: true }));
    assert.match(reply.error, /untrusted sender/);
  } finally {
    await b.close();
  }
});
