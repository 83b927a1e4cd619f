// Enterprise deployment, shared by the deployment suite and the bench: package
// Ringside with scripts/package, serve updates.xml and the CRXs on loopback,
// write Chromium's managed policy (force-install + the generated configuration),
// install the host's Debian package, and launch Chromium with no extension
// flags so the browser installs Ringside itself, as on an agent's machine.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, CHROMIUM, EXTENSION_ID, POLICY_DIR, freshDirs, envFor } from './harness.mjs';

export const DEPLOY_POLICY = path.join(POLICY_DIR, 'ringside-e2e-deploy.json');
export const SYSTEM_MANIFEST = '/etc/chromium/native-messaging-hosts/com.ringside.host.json';

/** Whether this machine lets the suite write policy and install a package (root). */
export function canDeploy() {
  return process.getuid?.() === 0;
}

/**
 * Serves `/updates.xml` and `/ringside-<version>.crx` on loopback. `publish`
 * makes a packaged version the one updates.xml announces.
 */
export async function startUpdateServer() {
  const files = new Map();
  const seen = [];
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://localhost').pathname;
    seen.push(p);
    const f = files.get(p);
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-cache' }).end(f.body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    seen,
    publish(pkg) {
      files.set('/updates.xml', { type: 'application/xml', body: readFileSync(path.join(pkg.dir, 'updates.xml')) });
      files.set(`/ringside-${pkg.version}.crx`, {
        type: 'application/x-chrome-extension',
        body: readFileSync(path.join(pkg.dir, `ringside-${pkg.version}.crx`)),
      });
    },
    /** Serves one more file (Firefox's .xpi). */
    serve(route, type, body) {
      files.set(route, { type, body });
    },
    stop() {
      server.close();
    },
  };
}

/** `scripts/package --dev --skip-build` of one version, for `base`, with a managed configuration. */
export function packageVersion(version, base, config) {
  const work = mkdtempSync(path.join(tmpdir(), `ringside-package-${version}-`));
  const configFile = path.join(work, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const dir = path.join(work, 'out');
  execFileSync(path.join(ROOT, 'scripts', 'package'),
    // --dev: the committed key, a loopback http base URL and the build made for the emulator.
    ['--dev', '--skip-build', '--version', version, '--base-url', base, '--config', configFile, '--out', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  return { version, dir, work };
}

/**
 * Writes Chromium's managed policy: the Linux policy file scripts/package
 * generated, plus what automation and this suite need (`extra`), with
 * `configOverride` merged into Ringside's configuration.
 */
export function writeDeployPolicy(pkg, { extra = {}, configOverride = {} } = {}) {
  const policy = JSON.parse(readFileSync(path.join(pkg.dir, 'deploy', 'policies', 'linux', 'chromium', 'ringside.json'), 'utf8'));
  Object.assign(policy['3rdparty'].extensions[EXTENSION_ID], configOverride);
  // Playwright drives the browser over the DevTools protocol, which policy
  // forbids for force-installed extensions unless this is 1.
  Object.assign(policy, { DeveloperToolsAvailability: 1 }, extra);
  // A fresh machine has Chromium but no policy directory yet.
  mkdirSync(POLICY_DIR, { recursive: true });
  writeFileSync(DEPLOY_POLICY, JSON.stringify(policy, null, 2));
  return policy;
}

export function removeDeployPolicy() {
  rmSync(DEPLOY_POLICY, { force: true });
}

/** `dpkg -i` of the host package the way IT installs it; returns dpkg's output. */
export function installHostPackage(pkg) {
  const deb = execFileSync('sh', ['-c', `ls ${pkg.dir}/ringside-host_*.deb`], { encoding: 'utf8' }).trim();
  return execFileSync('dpkg', ['-i', deb], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function purgeHostPackage() {
  try {
    execFileSync('dpkg', ['--purge', 'ringside-host'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch {
    // Not installed.
  }
}

/**
 * Launches Chromium with no extension flags: Ringside comes from the policy's
 * force-install list. Background networking stays on (the extension updater
 * needs it). Resolves once Ringside's service worker runs.
 */
export async function launchManaged({ dirs = freshDirs('ringside-managed'), timeout = 60000 } = {}) {
  const context = await chromium.launchPersistentContext(dirs.profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync'],
    ignoreDefaultArgs: ['--disable-extensions', '--disable-component-extensions-with-background-pages', '--disable-background-networking'],
    env: { ...envFor(dirs), LANGUAGE: 'en' },
    locale: 'en-US',
    viewport: { width: 1000, height: 700 },
  });
  const ours = (w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`);
  const sw = context.serviceWorkers().find(ours)
    ?? await context.waitForEvent('serviceworker', { predicate: ours, timeout });
  return {
    context,
    sw,
    extensionId: EXTENSION_ID,
    dirs,
    async close() {
      await context.close();
      rmSync(dirs.base, { recursive: true, force: true });
    },
  };
}
