// scripts/demo's browser half. Starts the emulator, registers the host for a
// fresh profile, and opens Chromium with Ringside: headed when a display is
// available (until you close it), otherwise headless, walking the main
// screens and writing screenshots under target/demo/.
import { rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { launch, openExtensionPage, startEmulator, swState, until, ROOT } from '../e2e/lib/harness.mjs';
import { startSoftphone, controlClient } from '../e2e/lib/softphone.mjs';
import { buttonCentre, clickButton } from '../e2e/lib/buttons.mjs';

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
// Two real baresip softphones on loopback: the agent's (Ringside drives it
// through ctrl_tcp) and a remote party that answers automatically as the
// Paris number on the demo page.
const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
const remote = await startSoftphone({ user: '+33123456789', autoAnswer: true });
const remoteEvents = await controlClient(remote.ctrl);
console.log(`softphones: agent ctrl_tcp 127.0.0.1:${agent.ctrl}, remote ${remote.uri}`);
const stopPhones = async () => {
  remoteEvents.close();
  await agent.stop();
  await remote.stop();
};
const headed = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
// The phone platform is the admin's policy (removed when the demo exits).
const b = await launch({ host: true, dirs, headless: !headed, policy: { platformUrl: `${emu.url}/platform` } });
console.log(`extension ${b.extensionId} loaded; native host registered for ${dirs.profile}`);

const shots = [];
async function shot(page, name, opts = {}) {
  const file = path.join(out, `${name}.png`);
  await page.screenshot({ path: file, ...opts });
  shots.push(file);
}

// The agent's settings, as the options page saves them.
const setup = await openExtensionPage(b, 'options.html');
await setup.evaluate((o) => chrome.storage.local.set({ options: o }), {
  dialer: { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` },
  defaultRegion: 'FR',
});
await setup.close();
const site = await b.context.newPage();
await site.goto(`${emu.url}/pages/numbers.html`);
const popup = await openExtensionPage(b, 'popup.html', { width: 360, height: 420 });
await until(async () => (await swState(popup)).host.state === 'connected', { what: 'the host to connect' });

if (headed) {
  const options = await openExtensionPage(b, 'options.html');
  await options.bringToFront();
  console.log('Chromium is open with Ringside. Close the browser window to end the demo.');
  await new Promise((resolve) => b.context.on('close', resolve));
  await stopPhones();
  emu.stop();
  process.exit(0);
}

await buttonCentre(site, 'Call 01 23 45 67 89');
await shot(site, '1-web-page-with-call-buttons');
await popup.getByText('Connected to the Ringside host').waitFor();
await shot(popup, '2-popup-connected');
// Click to call: the remote softphone answers; the popup shows the call.
await site.bringToFront();
await clickButton(site, 'Call 01 23 45 67 89');
await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the remote softphone to answer' });
await popup.reload();
await popup.getByRole('heading', { name: 'On a call' }).waitFor();
await popup.waitForTimeout(1200);
await shot(popup, '2b-popup-on-a-call');
await popup.getByRole('button', { name: 'Hang up' }).click();
await popup.getByLabel('Tags').fill('demo');
await popup.getByLabel('Note').fill('Called from the demo page.');
await shot(popup, '2c-popup-wrap-up');
await popup.getByRole('button', { name: 'Save wrap-up' }).click();
// The demo does not sign in: a wrap-up for a call nobody was signed in for
// stays in this browser (the platform takes wrap-ups only with an agent's
// session, docs/security.md).
await popup.getByText('Saved in this browser only: nobody was signed in to Ringside during this call').waitFor();
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
await stopPhones();
emu.stop();
console.log('\nScreenshots:');
for (const s of shots) console.log(`  ${s}`);
