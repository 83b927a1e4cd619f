// Enterprise deployment end to end, as IT does it on a Linux fleet: the CRX,
// updates.xml, policy file and Debian package all come from scripts/package;
// the policy goes into Chromium's managed-policy folder, the package is
// installed with dpkg, and the browser (no extension flags) force-installs
// Ringside from a loopback update URL. Everything is removed afterwards: a
// forcelist entry would stop the other suites from loading the extension
// unpacked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { startEmulator, openExtensionPage, swState, until, artifact, EXTENSION_ID, HOST_BIN, ROOT } from './lib/harness.mjs';
import { provider, google, secretFor, signInGoogle, ANA } from './lib/auth.mjs';
import {
  canDeploy, startUpdateServer, packageVersion, writeDeployPolicy, removeDeployPolicy, installHostPackage,
  purgeHostPackage, launchManaged, SYSTEM_MANIFEST,
} from './lib/deploy.mjs';

const FIREFOX_SYSTEM_MANIFEST = '/usr/lib/mozilla/native-messaging-hosts/com.ringside.host.json';
const skip = !canDeploy() && 'needs root: writes /etc/chromium/policies and installs a Debian package';
let emu;
let updates;
let v1;
let v2;
let b;

before(async () => {
  if (skip) return;
  removeDeployPolicy();
  purgeHostPackage();
  emu = await startEmulator();
  await provider(emu, '/oidc', { auto: ANA.email });
  updates = await startUpdateServer();
  // What an admin would write: the emulator plays Google.
  const config = {
    identityProviders: [google(emu)],
    signInMethod: 'google',
    dialer: { adapter: 'tel' },
    siteBlockList: ['bank.example.com'],
    language: 'en',
  };
  v1 = packageVersion('1.0.0', updates.base, config);
  v2 = packageVersion('1.0.1', updates.base, config);
  updates.publish(v1);
  writeDeployPolicy(v1, {
    // Only a system-level host may count on this machine.
    extra: { NativeMessagingUserLevelHosts: false },
    // Valid JSON for Chromium's schema check, invalid for Ringside: the options page must say so.
    configOverride: { signOutGraceMinutes: 999999 },
  });
  installHostPackage(v1);
});

after(async () => {
  await b?.close().catch(() => {});
  removeDeployPolicy();
  purgeHostPackage();
  updates?.stop();
  emu?.stop();
});

test('the packed CRX is force-installed from the update URL and reports install type admin', { skip }, async () => {
  b = await launchManaged();
  assert.ok(updates.seen.includes('/updates.xml'), 'the browser asked the update URL');
  assert.ok(updates.seen.includes('/ringside-1.0.0.crx'), 'and downloaded the CRX');
  const self = await b.sw.evaluate(() => chrome.management.getSelf());
  assert.equal(self.id, EXTENSION_ID);
  assert.equal(self.installType, 'admin');
  assert.equal(self.version, '1.0.0');
  // Later updates are checked at the manifest's update_url; the store zip carries none.
  const manifest = await b.sw.evaluate(() => chrome.runtime.getManifest());
  assert.equal(manifest.update_url, `${updates.base}/updates.xml`);
  const zipped = JSON.parse(execFileSync('unzip', ['-p', `${v1.dir}/ringside-1.0.0.zip`, 'manifest.json'], { encoding: 'utf8' }));
  assert.equal(zipped.version, '1.0.0');
  assert.deepEqual([zipped.update_url, zipped.key], [undefined, undefined]);
  // Firefox's forms: the same manifest in an .xpi, and policies.json force-installing it.
  const xpi = JSON.parse(execFileSync('unzip', ['-p', `${v1.dir}/ringside-1.0.0.xpi`, 'manifest.json'], { encoding: 'utf8' }));
  assert.equal(xpi.browser_specific_settings.gecko.id, 'ringside@ringside.dev');
  const ff = JSON.parse(readFileSync(`${v1.dir}/deploy/policies/firefox/policies.json`, 'utf8')).policies;
  assert.deepEqual(ff.ExtensionSettings['ringside@ringside.dev'], {
    installation_mode: 'force_installed', install_url: `${updates.base}/ringside-1.0.0.xpi`,
  });
  const chromiumPolicy = JSON.parse(readFileSync(`${v1.dir}/deploy/policies/linux/chromium/ringside.json`, 'utf8'));
  assert.deepEqual(ff['3rdparty'].Extensions['ringside@ringside.dev'], chromiumPolicy['3rdparty'].extensions[EXTENSION_ID]);
  const options = await openExtensionPage(b, 'options.html');
  const installed = options.getByTestId('install-type');
  await installed.waitFor();
  assert.equal(await installed.getAttribute('data-install-type'), 'admin');
  assert.match(await installed.textContent(), /Installed and configured by your organization/);
  await options.close();
});

test('it reads its managed configuration; policy values show locked, an invalid one is reported in the options page', { skip }, async () => {
  const options = await openExtensionPage(b, 'options.html');
  const state = await until(async () => {
    const s = await swState(options);
    return s.settings.locked.includes('identityProviders') && s;
  }, { timeout: 10000, what: 'managed configuration loaded' });
  assert.deepEqual(
    [...state.settings.locked].sort(),
    ['dialer', 'identityProviders', 'language', 'signInMethod', 'siteBlockList'],
  );
  assert.equal(state.settings.identityProviders[0].issuer, `${emu.url}/google`);
  assert.equal(state.settings.signOutGraceMinutes, null, 'the invalid value is ignored');
  const problem = options.getByTestId('setting-problem');
  await problem.waitFor();
  assert.equal(
    await problem.textContent(),
    'Policy signOutGraceMinutes is invalid and was ignored: expected whole minutes from 0 to 10080',
  );
  // The softphone choice is locked with the administrator's value, and says so to a screen reader.
  const softphone = options.getByRole('combobox', { name: 'Softphone' });
  assert.ok(await softphone.isDisabled());
  assert.equal(await softphone.inputValue(), 'tel');
  assert.equal(await softphone.getAttribute('aria-describedby'), 'opt-adapter-locked');
  assert.equal(await options.locator('#opt-adapter-locked').textContent(), 'Set by your administrator');
  await options.screenshot({ path: artifact('options-managed.png'), fullPage: true });
  await options.close();
});

test('the Debian package registered a system-level host, which the browser finds with user-level hosts turned off', { skip }, async () => {
  const manifest = JSON.parse(readFileSync(SYSTEM_MANIFEST, 'utf8'));
  assert.equal(manifest.path, '/usr/bin/ringside-host');
  assert.deepEqual(manifest.allowed_origins, [`chrome-extension://${EXTENSION_ID}/`]);
  for (const dir of ['/etc/opt/chrome', '/etc/opt/edge']) {
    assert.ok(existsSync(`${dir}/native-messaging-hosts/com.ringside.host.json`), `${dir} registration`);
  }
  // Firefox's, for the add-on id of the same manifest.
  const firefox = JSON.parse(readFileSync(FIREFOX_SYSTEM_MANIFEST, 'utf8'));
  assert.deepEqual(firefox.allowed_extensions, ['ringside@ringside.dev']);
  const popup = await openExtensionPage(b, 'popup.html');
  await until(async () => (await swState(popup)).host.state === 'connected', { timeout: 10000, what: 'system host connected' });
  // doctor finds the system registration healthy (its exit code also covers
  // the softphone, which this suite does not run).
  const doctor = spawnSync('/usr/bin/ringside-host', ['doctor'], { encoding: 'utf8', env: { ...process.env, HOME: b.dirs.home, XDG_CONFIG_HOME: b.dirs.config } }).stdout;
  assert.match(doctor, /\[ok\] Chromium \(system\): \/etc\/chromium\/native-messaging-hosts\/com\.ringside\.host\.json/, doctor);
  await popup.close();
});

test('it signs in through the policy\'s provider against the emulator; the host keeps the refresh token', { skip }, async () => {
  const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
  await signInGoogle(b, popup);
  assert.equal(await popup.getByTestId('profile-email').textContent(), ANA.email);
  const refresh = secretFor(`${emu.url}/google`, 'ringside-e2e');
  assert.ok(refresh && refresh.length > 20, 'the system-level host stored the refresh token');
  await popup.close();
});

test('a newer version served by the update URL is picked up', { skip }, async () => {
  updates.publish(v2);
  // The worker may reload into the update before this answer comes back.
  const check = await b.sw.evaluate(() => chrome.runtime.requestUpdateCheck())
    .catch((e) => ({ status: 'worker restarted', error: String(e) }));
  assert.ok(['update_available', 'worker restarted'].includes(check.status), JSON.stringify(check));
  if (check.version) assert.equal(check.version, '1.0.1');
  // No call is live, so the worker reloads into the new version at once.
  const version = await until(async () => {
    for (const w of b.context.serviceWorkers()) {
      if (!w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`)) continue;
      const v = await w.evaluate(() => chrome.runtime.getManifest().version).catch(() => null);
      if (v === '1.0.1') return v;
    }
    return null;
  }, { timeout: 30000, interval: 200, what: 'version 1.0.1 running' });
  assert.equal(version, '1.0.1');
  assert.ok(updates.seen.includes('/ringside-1.0.1.crx'));
});

test('purging the package removes the system registration', { skip }, async () => {
  await b.close();
  b = null;
  purgeHostPackage();
  assert.ok(!existsSync(SYSTEM_MANIFEST), 'manifest removed');
  assert.ok(!existsSync(FIREFOX_SYSTEM_MANIFEST), "Firefox's manifest removed");
  assert.ok(!existsSync('/usr/bin/ringside-host'), 'binary removed');
  assert.ok(!existsSync('/etc/ringside/host.json'), 'host config removed on purge');
  assert.ok(existsSync(HOST_BIN), 'the build itself is untouched');
});

// The release path refuses the development defaults: the committed key (anyone
// can sign an "update" with it) and an http base URL. Each refusal says what
// to pass instead; --dev (used above) allows them and builds for the emulator.
test('scripts/package without --dev refuses the committed key and an http base URL, and says what to pass', () => {
  const run = (args) => spawnSync(path.join(ROOT, 'scripts', 'package'), ['--skip-build', '--out', path.join(tmpdir(), 'ringside-refused'), ...args], { encoding: 'utf8' });
  const noKey = run([]);
  assert.equal(noKey.status, 2, noKey.stderr);
  assert.match(noKey.stderr, /pass --key <your signing key>\.pem .*\n.*or --dev/);
  const devKey = run(['--key', path.join(ROOT, 'keys', 'dev-extension-key.pem'), '--base-url', 'https://deploy.example.com']);
  assert.equal(devKey.status, 2, devKey.stderr);
  assert.match(devKey.stderr, /is the committed development key.*\n.*pass --key <your own key>\.pem, or --dev/);
  const own = path.join(mkdtempSync(path.join(tmpdir(), 'ringside-key-')), 'own.pem');
  execFileSync('openssl', ['genrsa', '-out', own, '2048'], { stdio: 'ignore' });
  const http = run(['--key', own, '--base-url', 'http://deploy.example.com']);
  assert.equal(http.status, 2, http.stderr);
  assert.match(http.stderr, /pass --base-url https:\/\/.*or --dev/s);
  // With an own key and https, the refusal left is the flavour: this dist/ is the emulator build.
  const flavour = run(['--key', own, '--base-url', 'https://deploy.example.com']);
  assert.equal(flavour.status, 2, flavour.stderr);
  assert.match(flavour.stderr, /holds the emulator build, this package needs the release one/);
  rmSync(path.dirname(own), { recursive: true, force: true });
});
