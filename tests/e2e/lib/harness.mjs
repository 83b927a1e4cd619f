// Shared by the end-to-end tests, the demo and the bench: start the emulator,
// make a fresh profile (with or without the host registered), launch Debian's
// Chromium with the unpacked extension, and find its service worker.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, accessSync, constants, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(new URL('../../..', import.meta.url).pathname);
export const DIST = path.join(ROOT, 'dist');
export const EXTENSION_DIR = path.join(DIST, 'extension');
export const HOST_BIN = path.join(DIST, 'ringside-host');
export const EMULATOR_BIN = path.join(ROOT, 'target', 'release', 'ringside-emulator');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const EXTENSION_ID = 'fempdkhheodefkjhkbekalfieneojckb';
export const ARTIFACTS = path.join(ROOT, 'target', 'e2e');

/** Starts the emulator on a free loopback port; resolves to { url, stop }. */
export async function startEmulator(args = []) {
  const child = spawn(EMULATOR_BIN, ['--port', '0', '--pages', path.join(ROOT, 'tests', 'pages'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = readline.createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
    rl.once('line', (line) => resolve(JSON.parse(line).url));
  });
  return {
    url,
    child,
    async control(method, route, body) {
      const r = await fetch(`${url}/control${route}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!r.ok) throw new Error(`${method} ${route}: ${r.status} ${await r.text()}`);
      return r.headers.get('content-type')?.includes('json') ? r.json() : r.text();
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}

/** A fresh home + profile. `home` isolates the host's user config (XDG_CONFIG_HOME). */
export function freshDirs(label = 'ringside') {
  const base = mkdtempSync(path.join(tmpdir(), `${label}-`));
  const dirs = {
    base,
    profile: path.join(base, 'profile'),
    home: path.join(base, 'home'),
    config: path.join(base, 'home', '.config'),
  };
  mkdirSync(dirs.profile, { recursive: true });
  mkdirSync(dirs.config, { recursive: true });
  return dirs;
}

/** The environment the browser (and so the host it starts) runs with. */
export function envFor(dirs) {
  return { ...process.env, HOME: dirs.home, XDG_CONFIG_HOME: dirs.config };
}

/**
 * `ringside-host install --browser chromium --profile-dir <profile> --dev`, as a developer would
 * run it (the test build is the development build); `extra` may name `--extension-id` instead.
 */
export function installHost(dirs, extra = []) {
  const id = extra.includes('--extension-id') ? [] : ['--dev'];
  return execFileSync(HOST_BIN, ['install', '--browser', 'chromium', '--profile-dir', dirs.profile, ...id, ...extra], {
    env: envFor(dirs),
    encoding: 'utf8',
  });
}

/** The flags Debian's Chromium needs to run headless as root on these machines. */
export function chromiumArgs({ extensionDir = EXTENSION_DIR } = {}) {
  return [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--disable-extensions-except=${extensionDir}`,
    `--load-extension=${extensionDir}`,
  ];
}

/**
 * Launches Chromium with Ringside. Returns { context, sw, extensionId, dirs, close }.
 * `host: true` registers the host for this profile first. `policy`: Ringside's
 * managed configuration, written (SETTINGS_POLICY) before the browser starts,
 * which is much faster than a change at runtime; removed by `close`.
 */
export async function launch({ host = true, dirs = freshDirs(), headless = true, lang = 'en-US', env = {}, policy = null } = {}) {
  if (host) installHost(dirs);
  if (policy) writePolicy(policy);
  const context = await chromium.launchPersistentContext(dirs.profile, {
    executablePath: CHROMIUM,
    // Chromium >= 132 maps --headless to the new headless mode, which runs extensions.
    headless,
    args: chromiumArgs(),
    ignoreDefaultArgs: ['--disable-extensions', '--disable-component-extensions-with-background-pages'],
    env: { ...envFor(dirs), LANGUAGE: lang.split('-')[0], ...env },
    locale: lang,
    viewport: { width: 1000, height: 700 },
  });
  let [sw] = context.serviceWorkers();
  if (!sw) sw = await context.waitForEvent('serviceworker', { timeout: 15000 });
  const extensionId = new URL(sw.url()).host;
  const b = {
    context,
    sw,
    extensionId,
    dirs,
    async close({ keep = false } = {}) {
      try {
        await context.close();
      } finally {
        // Whatever `launch({ policy })` or `configure` wrote goes with the browser.
        removePolicy();
        if (!keep) rmSync(dirs.base, { recursive: true, force: true });
      }
    },
  };
  if (policy) {
    // Managed storage may answer before Chromium has read the folder: wait for the worker.
    const page = await openExtensionPage(b, 'options.html');
    try {
      await settingsApplied(page, policy, { timeout: 15000 });
    } catch (e) {
      await b.close();
      throw e;
    } finally {
      await page.close().catch(() => {});
    }
  }
  return b;
}

/** Chromium's Linux managed-policy folder (tests write policy files there and remove them). */
export const POLICY_DIR = '/etc/chromium/policies/managed';
export function canWritePolicy() {
  try {
    mkdirSync(POLICY_DIR, { recursive: true });
    accessSync(POLICY_DIR, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

// Ringside's settings as an admin sets them: Chromium's managed policy, the
// extension's `3rdparty` configuration (read into chrome.storage.managed).
// Keys that route tokens, passwords or calls are policy-only
// (docs/policy-reference.md): values written to storage.local `options` are
// ignored and reported. Chromium reads the folder at launch (the worker has it
// within about a second) and watches it afterwards, but applies a change only
// once the file has stayed untouched for its settle delay (several seconds;
// docs/security.md, "How the tests configure Ringside now", has the measurement): write it before
// `launch` where a test can. Every file written here is removed when its
// browser closes and in any case when the test process exits, since a policy
// left behind would change every later test on this machine.

/** The suites' settings policy (one at a time: e2e runs hold a lock). */
export const SETTINGS_POLICY = path.join(POLICY_DIR, 'ringside-e2e-settings.json');

const policiesWritten = new Set();
process.on('exit', () => {
  for (const file of policiesWritten) rmSync(file, { force: true });
});

/** Writes Ringside's managed configuration atomically (Chromium never reads half a file). */
export function writePolicy(config, file = SETTINGS_POLICY) {
  mkdirSync(POLICY_DIR, { recursive: true });
  // Chromium reads every *.json in the folder; the .tmp name is not one.
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ '3rdparty': { extensions: { [EXTENSION_ID]: config } } }));
  policiesWritten.add(file);
  renameSync(tmp, file);
}

export function removePolicy(file = SETTINGS_POLICY) {
  rmSync(file, { force: true });
  policiesWritten.delete(file);
}

/** Waits until the worker's settings (its `state` message) show `config` applied. */
export async function settingsApplied(page, config, { timeout = 30000 } = {}) {
  await until(async () => applied((await swState(page)).settings, config), { timeout, interval: 100, what: 'the policy applied' });
}

/** `actual` (the worker's merged settings) holds every value of `expected` (as policy wrote it). */
function covers(actual, expected) {
  if (typeof expected === 'string') {
    const norm = (v) => v.trim().replace(/\/+$/, '').toLowerCase();
    return typeof actual === 'string' && norm(actual) === norm(expected);
  }
  if (expected === null || typeof expected !== 'object') return actual === expected;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => covers(actual[i], e));
  }
  return actual !== null && typeof actual === 'object' && Object.entries(expected).every(([k, v]) => covers(actual[k], v));
}

/**
 * Whether merged settings have applied `config`: each key locked with its
 * value (or reported as an invalid policy), and no other key still locked.
 */
export function applied(settings, config) {
  const reported = (key) => settings.problems.some((p) => p.key === key && p.source === 'policy');
  for (const [key, value] of Object.entries(config)) {
    if (reported(key)) continue;
    if (!settings.locked.includes(key)) return false;
    // The dialer's merged form nests its SIP settings: adapter and address tell it apart.
    const expected = key === 'dialer' ? { adapter: value.adapter, address: value.address ?? null } : value;
    // A dialer with no address (tel, url, platform) has none in the state.
    const actual = key === 'dialer' && settings.dialer ? { ...settings.dialer, address: settings.dialer.address ?? null } : settings[key];
    if (!covers(actual, expected)) return false;
  }
  return settings.locked.every((key) => key in config);
}

/** Opens an extension page (popup.html, options.html, ...) as a tab. */
export async function openExtensionPage(b, page, viewport) {
  const p = await b.context.newPage();
  if (viewport) await p.setViewportSize(viewport);
  await p.goto(`chrome-extension://${b.extensionId}/${page}`);
  return p;
}

/** Asks the service worker for its state, the way the options page does. */
export async function swState(page) {
  return page.evaluate(() => chrome.runtime.sendMessage({ type: 'state' }));
}

/** Polls `fn` until it returns a truthy value or `timeout` ms pass. */
export async function until(fn, { timeout = 5000, interval = 25, what = 'condition' } = {}) {
  const start = Date.now();
  let last;
  while (Date.now() - start < timeout) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/**
 * Runs `expression` in Ringside's content-script world of `page` (the
 * extension's isolated world), reached over CDP: what a compromised renderer
 * can do as the content script.
 */
export async function inContentScript(b, page, expression) {
  const cdp = await b.context.newCDPSession(page);
  const worlds = [];
  cdp.on('Runtime.executionContextCreated', ({ context }) => worlds.push(context));
  await cdp.send('Runtime.enable');
  const world = await until(() => worlds.find((c) => c.origin === `chrome-extension://${EXTENSION_ID}` || c.name === 'Ringside'),
    { what: "Ringside's content-script world" });
  const r = await cdp.send('Runtime.evaluate', { expression, contextId: world.id, awaitPromise: true, returnByValue: true });
  await cdp.detach();
  if (r.exceptionDetails) return { error: r.exceptionDetails.exception?.description ?? r.exceptionDetails.text };
  return { value: r.result.value };
}
