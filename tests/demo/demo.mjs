// scripts/demo's browser half. Starts the emulator, registers the host for a
// fresh profile, and opens Chromium with Ringside set up as an administrator
// would (policy: the phone platform, the emulator's Google as the identity
// provider, its Google APIs): headed when a display is available (sign in
// and out yourself, until you close it), otherwise headless, signing in as
// the demo agent, calling, wrapping up, and walking the side panel with a
// contact's emails, documents, events and meeting badge, writing screenshots
// under target/demo/.
import { rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { launch, openExtensionPage, startEmulator, swState, until, ROOT } from '../e2e/lib/harness.mjs';
import { startSoftphone, controlClient } from '../e2e/lib/softphone.mjs';
import { buttonCentre, clickButton } from '../e2e/lib/buttons.mjs';
import { provider, google, signInGoogle } from '../e2e/lib/auth.mjs';

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

// The demo agent, invited by the phone platform, with a Google account at
// the emulator's provider, and the customer on the demo page: Paris, 01 23
// 45 67 89, the number the remote softphone answers as. Emails, documents
// and events they share with the agent, one meeting going on now.
const AGENT = { email: 'demo.agent@example.com', name: 'Dana Demo', hd: 'example.com' };
const CUSTOMER = 'claire.martin@lumiere.example';
const HOUR = 3600_000;
const now = Date.now();
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const both = [AGENT.email, CUSTOMER];
// Headed: the person clicks through the provider's consent page themselves.
await provider(emu, '/oidc', { users: [AGENT], auto: headed ? null : AGENT.email });
await emu.control('PUT', '/platform/agents', [{ login_email: AGENT.email, name: AGENT.name }]);
await emu.control('PUT', '/platform/method', { method: 'google' });
const CLAIRE = {
  resourceName: 'people/demo1',
  names: [{ displayName: 'Claire Martin', metadata: { primary: true } }],
  emailAddresses: [{ value: CUSTOMER }],
  phoneNumbers: [{ value: '01 23 45 67 89', canonicalForm: '+33123456789' }],
  organizations: [{ name: 'Lumière SARL', title: 'Head of purchasing' }],
};
// The agent's contacts, as sign-in syncs them (People connections) and as
// the side panel looks them up.
await emu.control('PUT', '/google/people', { contacts: [CLAIRE] });
await emu.control('PUT', '/google/fixtures', {
  contacts: [CLAIRE],
  messages: [
    { id: 'd1', from: CUSTOMER, to: [AGENT.email], subject: 'Question about invoice 1042', date_ms: now - 26 * HOUR },
    { id: 'd2', from: AGENT.email, to: [CUSTOMER], subject: 'Re: Question about invoice 1042', date_ms: now - 20 * HOUR },
    { id: 'd3', from: CUSTOMER, to: [AGENT.email], subject: 'Delivery for next week', date_ms: now - 2 * HOUR },
  ],
  files: [
    { id: 'df1', name: 'Lumière — price list 2027', modified_time: iso(now - 3 * 24 * HOUR), owners: [AGENT.email], readers: [CUSTOMER] },
    { id: 'df2', name: 'Framework contract (draft)', modified_time: iso(now - 24 * HOUR), owners: [CUSTOMER], writers: [AGENT.email] },
  ],
  events: [
    { id: 'de1', summary: 'Quarterly review', start: iso(now - 7 * 24 * HOUR), end: iso(now - 7 * 24 * HOUR + HOUR), attendees: both },
    { id: 'de2', summary: 'Delivery planning', start: iso(now - 20 * 60_000), end: iso(now + 40 * 60_000), attendees: both },
  ],
});

// The admin's policy (removed when the demo exits).
const b = await launch({
  host: true,
  dirs,
  headless: !headed,
  policy: {
    platformUrl: `${emu.url}/platform`,
    identityProviders: [google(emu, { clientId: 'ringside-e2e' })],
    googleApiRoot: `${emu.url}/googleapis`,
  },
});
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
  console.log('Chromium is open with Ringside. Sign in from the popup as');
  console.log(`${AGENT.name} <${AGENT.email}> (the emulator's consent page), call the numbers`);
  console.log('on the demo page, open the side panel. Close the browser window to end the demo.');
  await new Promise((resolve) => b.context.on('close', resolve));
  await stopPhones();
  emu.stop();
  process.exit(0);
}

await buttonCentre(site, 'Call 01 23 45 67 89');
await shot(site, '1-web-page-with-call-buttons');
await popup.getByText('Connected to the Ringside host').waitFor();
await shot(popup, '2-popup-connected');
// Sign in as the demo agent; the contacts sync.
await signInGoogle(b, popup);
await until(async () => (await popup.getByTestId('contacts-status').getAttribute('data-state')) === 'synced',
  { timeout: 20000, what: 'the contacts to sync' });
await shot(popup, '2a-popup-signed-in');
// Click to call: the remote softphone answers; the popup shows the call.
await site.bringToFront();
await clickButton(site, 'Call 01 23 45 67 89');
await remoteEvents.waitFor((e) => e.type === 'CALL_ESTABLISHED', { what: 'the remote softphone to answer' });
await popup.reload();
await popup.getByRole('heading', { name: 'On a call' }).waitFor();
// Caller ID from the synced contacts, although People gave her number only
// in national form (no canonicalForm): the worker made it E.164.
await popup.getByTestId('call-contact').getByText('Claire Martin').waitFor({ timeout: 5000 });
await popup.waitForTimeout(1200);
await shot(popup, '2b-popup-on-a-call');
await popup.getByRole('button', { name: 'Hang up' }).click();
await popup.getByLabel('Tags').fill('demo');
await popup.getByLabel('Note').fill('Called from the demo page.');
await shot(popup, '2c-popup-wrap-up');
await popup.getByRole('button', { name: 'Save wrap-up' }).click();
// Signed in: the wrap-up goes to the phone platform with the agent's session.
await popup.getByText('Wrap-up saved to your phone system.').waitFor();
const options = await openExtensionPage(b, 'options.html');
await options.getByTestId('diag-state').getByText('connected').waitFor();
await options.locator('[data-testid="pages"] li').first().waitFor();
await shot(options, '3-options', { fullPage: true });
// The side panel: the customer by phone number, then each section
// connected (the emulator's consent is automatic here).
const panel = await openExtensionPage(b, 'sidepanel.html', { width: 420, height: 1000 });
await panel.getByLabel('Find a contact').fill('01 23 45 67 89');
await panel.getByLabel('Find a contact').press('Enter');
const card = panel.getByTestId('contact-card');
await card.getByRole('heading', { name: 'Claire Martin' }).waitFor({ timeout: 15000 });
for (const [section, button, item, count] of [
  ['gmail', 'Connect Gmail', 'shared-email', 3],
  ['drive', 'Connect Drive', 'shared-doc', 2],
  ['calendar', 'Connect Calendar', 'shared-event', 2],
]) {
  const s = panel.getByTestId(`section-${section}`);
  await s.getByRole('button', { name: button, exact: true }).click({ timeout: 15000 });
  await until(async () => (await s.getByTestId(item).count()) === count, { timeout: 20000, what: `${count} ${item}` });
}
await card.getByTestId('meeting-badge').waitFor({ timeout: 10000 });
await shot(panel, '4-side-panel-contact', { fullPage: true });
const platformWrapups = (await emu.control('GET', '/requests')).filter((r) => r.path === '/platform/v1/wrapups');
console.log(`the platform received ${platformWrapups.length} wrap-up(s)`);

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
