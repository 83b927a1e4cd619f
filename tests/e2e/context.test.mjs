// The contact sidebar end to end: real headless Chromium, the real host and
// Secret Service, the emulator playing Google (sign-in, People, Gmail,
// Drive, Calendar with scopes per token). The extension reaches the APIs only
// through the googleApiRoot policy, as an admin would set it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openExtensionPage, startEmulator, swState, until, artifact } from './lib/harness.mjs';
import { ANA, provider as setProvider, google as googleAt, setOptions, signInGoogle } from './lib/auth.mjs';
import { startSoftphone, controlClient } from './lib/softphone.mjs';
import { buttonCentre, buttonNames, tabTo } from './lib/buttons.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(() => emu?.stop());

const BOB = 'bob@contoso.com';
const BOB_PHONE = '+34612345678';
const HOUR = 3600_000;
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Fixtures around now: what each section must show, in order. */
function fixtures(now) {
  const messages = [];
  for (let i = 0; i < 9; i++) {
    // Bob's messages every other one, both directions; others in between.
    const withBob = i % 2 === 0;
    messages.push({
      id: `m${i}`,
      from: withBob && i % 4 === 0 ? BOB : ANA.email,
      to: [withBob ? (i % 4 === 0 ? ANA.email : BOB) : 'carol@example.com'],
      subject: withBob ? `Order ${i}` : `Lunch ${i}`,
      date_ms: now - (10 - i) * HOUR,
    });
  }
  const expectedEmails = [8, 6, 4, 2, 0].map((i) => `Order ${i}`);
  const files = [
    { id: 'f1', name: 'Price list', modified_time: iso(now - 5 * 24 * HOUR), owners: [ANA.email], readers: [BOB] },
    { id: 'f2', name: 'Contract draft', modified_time: iso(now - 1 * 24 * HOUR), owners: [BOB], writers: [ANA.email] },
    { id: 'f3', name: 'Meeting notes', modified_time: iso(now - 2 * 24 * HOUR), owners: [ANA.email], writers: [BOB] },
    { id: 'f4', name: 'Old quote', modified_time: iso(now - 30 * 24 * HOUR), owners: [ANA.email], readers: [BOB] },
    { id: 'f5', name: 'Private budget', modified_time: iso(now - HOUR), owners: [ANA.email] },
    { id: 'f6', name: 'Trashed offer', modified_time: iso(now - HOUR), owners: [ANA.email], readers: [BOB], trashed: true },
  ];
  const expectedDocs = ['Contract draft', 'Meeting notes', 'Price list'];
  const both = [ANA.email, BOB];
  const events = [
    { id: 'e1', summary: 'Intro call', start: iso(now - 10 * 24 * HOUR), end: iso(now - 10 * 24 * HOUR + HOUR), attendees: both },
    { id: 'e2', summary: 'Demo', start: iso(now - 3 * 24 * HOUR), end: iso(now - 3 * 24 * HOUR + HOUR), attendees: both },
    { id: 'e3', summary: 'Contract review', start: iso(now - 30 * 60_000), end: iso(now + 30 * 60_000), attendees: both },
    { id: 'e4', summary: 'Signature', start: iso(now + 2 * 24 * HOUR), end: iso(now + 2 * 24 * HOUR + HOUR), attendees: both },
    { id: 'e5', summary: 'Team sync', start: iso(now + HOUR), end: iso(now + 2 * HOUR), attendees: [ANA.email] },
  ];
  // Recent ones first (2 past), then what has not ended (3), by start.
  const expectedEvents = ['Intro call', 'Demo', 'Contract review', 'Signature'];
  const contacts = [{
    resourceName: 'people/c1',
    names: [{ displayName: 'Bob Stone', metadata: { primary: true } }],
    emailAddresses: [{ value: BOB }],
    phoneNumbers: [{ value: '+34 612 34 56 78', canonicalForm: BOB_PHONE }],
    organizations: [{ name: 'Contoso', title: 'Buyer' }],
  }];
  return { body: { contacts, messages, files, events }, expectedEmails, expectedDocs, expectedEvents };
}

/** Ringside with the emulator's Google as the admin's policy (written before the browser starts). */
async function launchSetUp({ auto = ANA.email } = {}) {
  await setProvider(emu, '/oidc', { auto });
  return launch({ host: true, policy: { identityProviders: [googleAt(emu)], googleApiRoot: `${emu.url}/googleapis` } });
}

async function titles(section, testid) {
  return section.locator(`[data-testid=${testid}] .item-title`).allTextContents();
}

test('sidebar: the contact by phone, Gmail consent clicked through, every section in order, 429 recovered, the meeting badge, Drive disconnected, the agent\'s own meeting', async () => {
  const now = Date.now();
  const fx = fixtures(now);
  await emu.control('PUT', '/google/fixtures', fx.body);
  await emu.control('PUT', '/faults', []);
  const b = await launchSetUp();
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
    await signInGoogle(b, popup);

    const panel = await openExtensionPage(b, 'sidepanel.html', { width: 420, height: 1100 });
    await panel.getByLabel('Find a contact').fill('+34 612 34 56 78');
    await panel.getByLabel('Find a contact').press('Enter');
    const card = panel.getByTestId('contact-card');
    await card.getByRole('heading', { name: 'Bob Stone' }).waitFor({ timeout: 15000 });
    assert.equal(await card.getByTestId('contact-org').textContent(), 'Buyer, Contoso');
    assert.match(await card.textContent(), /bob@contoso\.com/);

    // Nothing but contacts was asked at sign-in: each section offers Connect.
    const gmail = panel.getByTestId('section-gmail');
    const drive = panel.getByTestId('section-drive');
    const calendar = panel.getByTestId('section-calendar');
    for (const [s, name] of [[gmail, 'Connect Gmail'], [drive, 'Connect Drive'], [calendar, 'Connect Calendar']]) {
      await s.getByRole('button', { name, exact: true }).waitFor({ timeout: 15000 });
    }

    // Gmail: the consent page asks for Gmail alone and is clicked through.
    // The first list answers 429 with Retry-After: 1; the section retries.
    await emu.control('PUT', '/oidc/consent', { auto: null });
    await emu.control('PUT', '/faults', [{
      path_prefix: '/googleapis/gmail/v1/users/me/messages', status: 429, retry_after: 1, count: 1,
      body: { error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } },
    }]);
    await emu.control('DELETE', '/requests');
    const consentOpened = b.context.waitForEvent('page', { timeout: 10000 });
    await gmail.getByRole('button', { name: 'Connect Gmail', exact: true }).click();
    const consent = await consentOpened;
    await consent.getByText('Ringside wants to read your email messages and settings.').waitFor();
    await consent.getByRole('button', { name: `Continue as ${ANA.name} (${ANA.email})` }).click();
    await until(async () => (await gmail.getByTestId('shared-email').count()) === 5, { timeout: 20000, what: '5 shared emails' });
    assert.deepEqual(await titles(gmail, 'shared-email'), fx.expectedEmails);
    const seen = (await emu.control('GET', '/requests')).filter((r) => r.path === '/googleapis/gmail/v1/users/me/messages' && r.method === 'GET');
    assert.deepEqual(seen.map((r) => r.status), [429, 200], 'the 429 was retried once');
    assert.ok(seen[1].at_ms - seen[0].at_ms >= 900, `Retry-After honoured (${seen[1].at_ms - seen[0].at_ms} ms)`);
    const granted = await b.sw.evaluate(async () => (await chrome.storage.session.get('tokens')).tokens.scope);
    assert.match(granted, /gmail\.readonly/);
    assert.doesNotMatch(granted, /drive|calendar/);

    // Drive and Calendar (consent automatic from here).
    await emu.control('PUT', '/oidc/consent', { auto: ANA.email });
    await drive.getByRole('button', { name: 'Connect Drive', exact: true }).click();
    await until(async () => (await drive.getByTestId('shared-doc').count()) === 3, { timeout: 20000, what: '3 docs' });
    assert.deepEqual(await titles(drive, 'shared-doc'), fx.expectedDocs);
    await calendar.getByRole('button', { name: 'Connect Calendar' }).click();
    await until(async () => (await calendar.getByTestId('shared-event').count()) === fx.expectedEvents.length, {
      timeout: 20000, what: 'shared events',
    });
    assert.deepEqual(await titles(calendar, 'shared-event'), fx.expectedEvents);
    // Bob is in "Contract review" now, an event the agent shares.
    const badge = card.getByTestId('meeting-badge');
    await badge.waitFor({ timeout: 10000 });
    assert.equal(await badge.textContent(), 'In a meeting: Contract review');
    await panel.screenshot({ path: artifact('sidepanel-context.png'), fullPage: true });

    // The agent is in that meeting too: the popup says so.
    await popup.reload();
    const mine = popup.getByTestId('my-presence');
    await mine.waitFor({ timeout: 10000 });
    assert.equal(await mine.textContent(), 'You are in a meeting: Contract review');

    // Disconnect Drive from its gear: the note says what Google keeps, the
    // section offers Connect again, and Drive is not called any more.
    await drive.getByRole('button', { name: 'Disconnect Drive' }).click();
    await drive.getByTestId('section-note').waitFor();
    assert.match(await drive.getByTestId('section-note').textContent(), /Google keeps the permission/);
    await drive.getByRole('button', { name: 'Connect Drive', exact: true }).waitFor();
    await emu.control('DELETE', '/requests');
    await panel.getByLabel('Find a contact').fill(BOB);
    await panel.getByLabel('Find a contact').press('Enter');
    await drive.getByRole('button', { name: 'Connect Drive', exact: true }).waitFor({ timeout: 10000 });
    await until(async () => (await gmail.getByTestId('shared-email').count()) === 5, { what: 'gmail again' });
    const calls = (await emu.control('GET', '/requests')).filter((r) => r.method === 'GET').map((r) => r.path);
    assert.ok(!calls.some((p) => p.startsWith('/googleapis/drive')), `no Drive call after disconnect: ${calls}`);
    const off = await b.sw.evaluate(async () => (await chrome.storage.local.get('contextDisconnected')).contextDisconnected);
    assert.deepEqual(off, ['drive']);
  } finally {
    await b.close();
  }
});

test('"show contact" beside a call button in a page puts that contact in the side panel', async () => {
  await emu.control('PUT', '/google/fixtures', fixtures(Date.now()).body);
  const b = await launchSetUp();
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
    await signInGoogle(b, popup);
    const page = await b.context.newPage();
    await page.goto(`${emu.url}/pages/contact.html`);
    await buttonCentre(page, 'Show contact for +34 612 34 56 78', { timeout: 10000 });
    assert.equal((await buttonNames(page)).filter((n) => n === 'Call +34 612 34 56 78').length, 1);
    // By keyboard: Tab to the button, Enter.
    await tabTo(page, 'Show contact for +34 612 34 56 78');
    await page.keyboard.press('Enter');
    // The panel (opened as a tab here; the real one opens in the window).
    const panel = await openExtensionPage(b, 'sidepanel.html', { width: 420, height: 800 });
    await panel.getByTestId('contact-card').getByRole('heading', { name: 'Bob Stone' }).waitFor({ timeout: 15000 });
  } finally {
    await b.close();
  }
});

test('an incoming call from a known number puts that contact in the panel', async () => {
  await emu.control('PUT', '/google/fixtures', fixtures(Date.now()).body);
  const agent = await startSoftphone({ user: 'agent', autoAnswer: false });
  const remote = await startSoftphone({ user: BOB_PHONE, autoAnswer: true });
  const remoteEvents = await controlClient(remote.ctrl);
  const b = await launchSetUp();
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
    await signInGoogle(b, popup);
    // The softphone is the agent's own setting (the options page's).
    await setOptions(b, { dialer: { adapter: 'baresip', address: `127.0.0.1:${agent.ctrl}`, sipDomain: `127.0.0.1:${remote.sip}` } });
    const panel = await openExtensionPage(b, 'sidepanel.html', { width: 420, height: 900 });
    await until(async () => (await swState(panel)).host.state === 'connected', { what: 'host connected' });
    remoteEvents.command('dial', agent.uri);
    await until(async () => (await swState(panel)).calls.live?.phase === 'incoming', { timeout: 8000, what: 'the incoming call' });
    await panel.getByTestId('contact-card').getByRole('heading', { name: 'Bob Stone' }).waitFor({ timeout: 15000 });
    // Its sections load too (connected or offering Connect: the emulator
    // keeps earlier grants, as Google does).
    await until(async () => (await panel.locator('[data-testid=section-gmail]:not([aria-busy])').count()) === 1, {
      what: 'the Gmail section rendered',
    });
  } finally {
    remoteEvents.close();
    await b.close();
    await agent.stop();
    await remote.stop();
  }
});

test('a Microsoft-signed-in agent sees the contact from the call and a Google Workspace note', async () => {
  await setProvider(emu, '/oidc-microsoft', { auto: 'ana@contoso.com', users: [{ email: 'ana@contoso.com', name: 'Ana Ruiz' }] });
  const tenant = '11111111-2222-4333-8444-555555555555';
  const b = await launch({
    host: true,
    policy: {
      identityProviders: [{ kind: 'microsoft', issuer: `${emu.url}/microsoft/${tenant}/v2.0`, clientId: 'ringside-e2e', tenant }],
      googleApiRoot: `${emu.url}/googleapis`,
    },
  });
  try {
    const popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 600 });
    await popup.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    await until(async () => (await popup.locator('[data-testid=account]').getAttribute('data-phase')) === 'signed_in', {
      timeout: 15000, what: 'signed in',
    });
    const panel = await openExtensionPage(b, 'sidepanel.html', { width: 420, height: 700 });
    await panel.getByLabel('Find a contact').fill('+34 612 34 56 78');
    await panel.getByLabel('Find a contact').press('Enter');
    await panel.getByTestId('contact-card').getByRole('heading', { name: BOB_PHONE }).waitFor({ timeout: 10000 });
    const note = panel.getByTestId('google-only');
    await note.waitFor();
    assert.match(await note.textContent(), /available with Google Workspace/);
  } finally {
    await b.close();
  }
});
