// Firefox deployment end to end: scripts/package's .xpi and policies.json.
// The policy file goes to Firefox's machine-wide /etc/firefox/policies/ (and
// is removed after); Firefox, started with no add-on, installs Ringside from
// the policy's URL (ExtensionSettings, force_installed) and hands it the
// policy's settings (3rdparty.Extensions). Release Firefox installs only
// Mozilla-signed add-ons; ESR lets this test turn that check off
// (xpinstall.signatures.required), which an admin never does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEmulator, until } from '../e2e/lib/harness.mjs';
import { canDeploy, packageVersion, startUpdateServer } from '../e2e/lib/deploy.mjs';
import {
  launchFirefox, openExtensionPage, openWebPage, swState, textOf, callButtons, GECKO_ID,
} from './lib/firefox.mjs';

const POLICIES_DIR = '/etc/firefox/policies';
const POLICIES = `${POLICIES_DIR}/policies.json`;
const skip = !canDeploy() && `needs root: writes ${POLICIES}`;

let updates;
let pkg;
let emu;
before(async () => {
  if (skip) return;
  emu = await startEmulator();
  updates = await startUpdateServer();
  pkg = packageVersion('1.0.0', updates.base, { platformUrl: 'http://127.0.0.1:9/platform' });
});
after(() => {
  rmSync(POLICIES, { force: true });
  updates?.stop();
  emu?.stop();
  if (pkg) rmSync(pkg.work, { recursive: true, force: true });
});
process.on('exit', () => rmSync(POLICIES, { force: true }));

test('Firefox: policies.json from scripts/package force-installs the .xpi from its URL, with the settings locked and buttons in pages', { skip }, async () => {
  updates.serve('/ringside-1.0.0.xpi', 'application/x-xpinstall', readFileSync(path.join(pkg.dir, 'ringside-1.0.0.xpi')));
  mkdirSync(POLICIES_DIR, { recursive: true });
  writeFileSync(`${POLICIES}.tmp`, readFileSync(path.join(pkg.dir, 'deploy', 'policies', 'firefox', 'policies.json')));
  renameSync(`${POLICIES}.tmp`, POLICIES);
  const b = await launchFirefox({ host: false, install: false, prefs: { 'xpinstall.signatures.required': false } });
  try {
    const options = await until(async () => {
      try {
        return await openExtensionPage(b, 'options.html');
      } catch {
        return null;
      }
    }, { timeout: 60000, interval: 1000, what: 'Ringside installed by policy' });
    assert.ok(updates.seen.includes('/ringside-1.0.0.xpi'), 'Firefox downloaded the .xpi');
    const self = await options.evaluate(() => chrome.management.getSelf());
    assert.deepEqual([self.id, self.version, self.installType], [GECKO_ID, '1.0.0', 'admin']);
    await until(async () => (await swState(options)).settings.locked.includes('platformUrl'), { timeout: 15000, what: 'the policy settings' });
    assert.match(await textOf(options, '#opt-platform-locked'), /Set by your administrator/);
    // Its content script runs in pages (host access granted at install).
    const page = await openWebPage(b, `${emu.url}/pages/numbers.html`);
    await until(async () => (await callButtons(page)).some((x) => x.e164 === '+442079460018'), {
      timeout: 15000, interval: 200, what: 'the London number marked',
    });
  } finally {
    rmSync(POLICIES, { force: true });
    await b.close();
  }
});
