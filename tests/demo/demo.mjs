// scripts/demo's browser half. Starts the emulator, registers the host for a
// fresh profile, and opens Chromium with Ringside: headed when a display is
// available (until you close it), otherwise headless, walking the main
// screens and writing screenshots under target/demo/.
import { rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { launch, openExtensionPage, startEmulator, swState, until, ROOT } from '../e2e/lib/harness.mjs';

const out = path.join(ROOT, 'target', 'demo');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const dirs = {
  base: path.join(out, 'state'),
  profile: path.join(out, 'state', 'profile'),
  home: path.join(out, 'state', 'home'),
  config: path.join(out, 'state', 'home', '.config'),
};
mkdirSync(dirs.profile, { recursive: true });
mkdirSync(dirs.config, { recursive: true });

const emu = await startEmulator();
console.log(`emulator: ${emu.url}`);
const headed = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const b = await launch({ host: true, dirs, headless: !headed });
console.log(`extension ${b.extensionId} loaded; native host registered for ${dirs.profile}`);

const shots = [];
async function shot(page, name, opts = {}) {
  const file = path.join(out, `${name}.png`);
  await page.screenshot({ path: file, ...opts });
  shots.push(file);
}

const site = await b.context.newPage();
await site.goto(`${emu.url}/pages/ordinary.html`);
const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 320 });
await until(async () => (await swState(popup)).host.state === 'connected', { what: 'the host to connect' });

if (headed) {
  const options = await openExtensionPage(b, 'options.html');
  await options.bringToFront();
  console.log('Chromium is open with Ringside. Close the browser window to end the demo.');
  await new Promise((resolve) => b.context.on('close', resolve));
  emu.stop();
  process.exit(0);
}

await shot(site, '1-web-page');
await popup.getByText('Connected to the Ringside host').waitFor();
await shot(popup, '2-popup-connected');
const options = await openExtensionPage(b, 'options.html');
await options.getByTestId('diag-state').getByText('connected').waitFor();
await options.locator('[data-testid="pages"] li').first().waitFor();
await shot(options, '3-options', { fullPage: true });
const panel = await openExtensionPage(b, 'sidepanel.html', { width: 400, height: 500 });
await panel.locator('.empty').waitFor();
await shot(panel, '4-side-panel');

// What an agent sees when the host is not there: uninstall it and retry.
const { execFileSync } = await import('node:child_process');
execFileSync(path.join(ROOT, 'dist', 'ringside-host'),
  ['uninstall', '--browser', 'chromium', '--profile-dir', dirs.profile],
  { env: { ...process.env, HOME: dirs.home, XDG_CONFIG_HOME: dirs.config } });
const pid = (await swState(popup)).host.info.pid;
process.kill(pid, 'SIGKILL');
await popup.getByText('The Ringside host is not installed').waitFor({ timeout: 10000 });
await shot(popup, '5-popup-host-not-installed');

await b.close({ keep: true });
emu.stop();
console.log('\nScreenshots:');
for (const s of shots) console.log(`  ${s}`);
