// Shared by the end-to-end tests, the demo and the bench: start the emulator,
// make a fresh profile (with or without the host registered), launch Debian's
// Chromium with the unpacked extension, and find its service worker.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, accessSync, constants } from 'node:fs';
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
 * `host: true` registers the host for this profile first.
 */
export async function launch({ host = true, dirs = freshDirs(), headless = true, lang = 'en-US', env = {} } = {}) {
  if (host) installHost(dirs);
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
  return {
    context,
    sw,
    extensionId,
    dirs,
    async close({ keep = false } = {}) {
      await context.close();
      if (!keep) rmSync(dirs.base, { recursive: true, force: true });
    },
  };
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
