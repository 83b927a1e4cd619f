// Outlook contacts for a Microsoft-signed-in agent (issue 8), end to end:
// real headless Chromium, the real host and Secret Service, baresip for the
// incoming call, and the emulator's Microsoft Graph seeded with 500
// contacts. The extension reaches Graph only through the graphApiRoot
// setting, as an administrator would set it for a national cloud.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openExtensionPage, startEmulator, swState, until, artifact } from './lib/harness.mjs';
import { provider as setProvider, clickSignIn, phase } from './lib/auth.mjs';
import { synced, storedIds, search, stale, syncError, whileRinging } from './lib/contacts.mjs';

const CONTACTS = 500;
const AGENT = 'ana@contoso.com';
const TENANT = '11111111-2222-4333-8444-555555555555';
// Generated Outlook contact 1 (tests/emulator/src/graph_contacts.rs).
const REMI = { id: 'AAMkOl00001', name: 'Rémi Keller 1', e164: '+33612010000', written: '+33 6 12 01 00 00', org: 'Fabrikam' };

let emu;
let b;
let popup;
let settings;

before(async () => {
  emu = await startEmulator();
  await emu.control('POST', '/graph/generate', { contacts: CONTACTS });
  await setProvider(emu, '/oidc-microsoft', { auto: AGENT, users: [{ email: AGENT, name: 'Ana Ruiz' }] });
  settings = {
    identityProviders: [{ kind: 'microsoft', issuer: `${emu.url}/microsoft/${TENANT}/v2.0`, clientId: 'ringside-e2e', tenant: TENANT }],
    graphApiRoot: `${emu.url}/graph/v1.0`,
    // Numbers typed in Outlook without a country code are read as French.
    defaultRegion: 'FR',
  };
  // The admin's policy, there before the browser starts.
  b = await launch({ host: true, policy: settings });
});

after(async () => {
  await b?.close();
  emu?.stop();
});

async function openPopup() {
  popup = await openExtensionPage(b, 'popup.html', { width: 380, height: 640 });
  return popup;
}

async function signIn(page) {
  await clickSignIn(b, page, 'Sign in with Microsoft');
  await until(async () => (await phase(page)) === 'signed_in', { timeout: 15000, what: 'signed in' });
}

/** Graph calls the emulator saw: [path tail, status]. */
async function graphCalls() {
  const seen = await emu.control('GET', '/requests');
  return seen.filter((r) => r.path.startsWith('/graph/')).map((r) => [r.path.replace(/^.*\/me\//, ''), r.status]);
}

test('a Microsoft agent\'s sign-in syncs their Outlook contacts from Graph: the folder, then one delta page of up to 1,000', async () => {
  await emu.control('DELETE', '/requests');
  await openPopup();
  await signIn(popup);
  assert.equal(await synced(popup, CONTACTS), `${CONTACTS} contacts, synced just now`);
  const ids = await storedIds(b);
  assert.equal(ids.length, CONTACTS);
  assert.ok(ids.every((id) => id.startsWith('outlook:')), 'Outlook contacts only');
  // Graph's default page is 10 contacts: one page for 500 shows Prefer: odata.maxpagesize was sent.
  assert.deepEqual(await graphCalls(), [
    ['contacts', 200],
    [`contactFolders/${encodeURIComponent('AQMkADAwATM0MDAAMS1iNQAAAC4AAAPD/Contacts==')}/contacts/delta`, 200],
  ]);
  const { tokens } = await popup.evaluate(() => chrome.storage.session.get('tokens'));
  assert.ok(tokens.scope.split(' ').includes('Contacts.Read'), tokens.scope);
});

test('the dial pad finds Outlook contacts by name, number fragment and email; a national number is shown as typed and dialled as E.164', async () => {
  await openPopup();
  await synced(popup);
  // "Rémi Keller 13" and "… 121" match too; accents are ignored.
  assert.ok((await search(popup, 'remi keller 1')).includes(REMI.name));
  assert.deepEqual(await search(popup, '12 01 00 0'), [REMI.name]);
  const call = popup.getByRole('button', { name: `Call ${REMI.name}, ${REMI.written}` });
  assert.equal(await call.getAttribute('data-number'), REMI.e164);
  assert.deepEqual(await search(popup, 'remi.keller1@fabrikam'), [REMI.name]);
  // Contact 7's mobile was typed "06 12 07 00 07": shown as typed, found as
  // typed, dialled as E.164 (the host's libphonenumber, default region FR).
  assert.deepEqual(await search(popup, '06 12 07 00'), ['Maya Keller 7']);
  const national = popup.getByRole('button', { name: 'Call Maya Keller 7, 06 12 07 00 07' });
  assert.equal(await national.getAttribute('data-number'), '+33612070007');
  await popup.screenshot({ path: artifact('popup-outlook-contacts.png') });
  await popup.close();
});

test('an incoming call from an Outlook contact\'s number shows their name and company', async () => {
  await whileRinging(b, { caller: REMI.e164, settings, openPopup }, async (popup, live) => {
    assert.equal(await live.getByTestId('call-contact').textContent(), REMI.name);
    assert.match(await live.textContent(), new RegExp(REMI.org));
    await popup.getByRole('button', { name: 'Decline' }).click();
    await until(async () => (await swState(popup)).calls.live === null, { what: 'declined' });
    await popup.close();
  });
});

test('the side panel names an Outlook contact from the local copy', async () => {
  const panel = await openExtensionPage(b, 'sidepanel.html', { width: 420, height: 700 });
  await panel.getByLabel('Find a contact').fill('+33 6 12 01 00 00');
  await panel.getByLabel('Find a contact').press('Enter');
  const card = panel.getByTestId('contact-card');
  await card.getByRole('heading', { name: REMI.name }).waitFor({ timeout: 10000 });
  assert.match(await card.textContent(), /remi\.keller1@fabrikam\.example/);
  // Gmail, Drive and Calendar stay Google-only.
  await panel.getByTestId('google-only').waitFor();
  await panel.close();
});

test('an edit and a deletion in Outlook arrive with the next delta round, alone', async () => {
  await emu.control('PATCH', `/graph/contacts/AAMkOl00002`, { displayName: 'Maya Renamed' });
  const gone = await emu.control('GET', '/graph/contacts/AAMkOl00003');
  await emu.control('DELETE', '/graph/contacts/AAMkOl00003');
  await emu.control('DELETE', '/requests');
  await stale();
  await openPopup();
  await synced(popup, CONTACTS - 1);
  assert.deepEqual(await search(popup, 'maya ren'), ['Maya Renamed']);
  assert.ok(!(await search(popup, gone.displayName)).includes(gone.displayName));
  assert.ok(!(await storedIds(b)).includes('outlook:AAMkOl00003'));
  const seen = await emu.control('GET', '/requests');
  const delta = seen.filter((r) => r.path.endsWith('/contacts/delta'));
  assert.deepEqual(delta.map((r) => r.status), [200], 'one delta call from the saved delta link');
  assert.equal(seen.filter((r) => r.path.endsWith('/me/contacts')).length, 0, 'the folder is not looked up again');
  await popup.close();
});

test('an expired delta link (410 Gone) leads to a clean full resync: same contacts, no duplicates', async () => {
  await emu.control('DELETE', '/graph/contacts/AAMkOl00004');
  await emu.control('POST', '/graph/expire-delta-links');
  await emu.control('DELETE', '/requests');
  await stale();
  await openPopup();
  await synced(popup, CONTACTS - 2);
  const ids = await storedIds(b);
  assert.equal(ids.length, CONTACTS - 2);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(!ids.includes('outlook:AAMkOl00004'), 'what the full round did not see is swept');
  const seen = await emu.control('GET', '/requests');
  assert.deepEqual(seen.filter((r) => r.path.endsWith('/contacts/delta')).map((r) => r.status), [410, 200]);
  await popup.close();
});

async function writesFor(id) {
  const writes = await emu.control('GET', '/graph/writes');
  return writes.filter((w) => w.resource === id).map((w) => [w.status, w.etag]);
}

test('an edit in Ringside asks for Contacts.ReadWrite once, then reaches Outlook with If-Match', async () => {
  const before = await emu.control('GET', '/graph/contacts/AAMkOl00006');
  await stale();
  await openPopup();
  await synced(popup);
  assert.ok((await search(popup, 'jonas fontaine 6')).includes('Jonas Fontaine 6'));
  await popup.getByRole('button', { name: 'Edit Jonas Fontaine 6', exact: true }).click();
  const editor = popup.getByTestId('contact-editor');
  await editor.getByLabel('Name').fill('Jonas Fontaine-Edited');
  const phones = editor.getByLabel('Phone numbers, one per line');
  assert.equal(await phones.inputValue(), '+33 6 12 06 00 00\n+33 1 40 06 00 00');
  await phones.fill('+33 6 12 06 00 00\n+33 1 40 06 00 00\n+33 1 40 99 00 06');
  await editor.getByRole('button', { name: 'Save contact' }).click();
  const saved = popup.getByTestId('contact-saved');
  await saved.waitFor({ timeout: 15000 });
  assert.equal(await saved.textContent(), 'Saved to your Outlook contacts.');
  assert.deepEqual(await writesFor('AAMkOl00006'), [[200, before['@odata.etag']]]);
  const now = await emu.control('GET', '/graph/contacts/AAMkOl00006');
  assert.equal(now.displayName, 'Jonas Fontaine-Edited');
  assert.equal(now.mobilePhone, '+33 6 12 06 00 00', 'the mobile number stays the mobile number');
  assert.deepEqual(now.businessPhones, ['+33 1 40 06 00 00', '+33 1 40 99 00 06']);
  const { tokens } = await popup.evaluate(() => chrome.storage.session.get('tokens'));
  assert.ok(tokens.scope.split(' ').includes('Contacts.ReadWrite'), tokens.scope);
  await popup.close();
});

test('an Outlook edit that meets a newer version is merged on 412, and the agent is told', async () => {
  await stale();
  await openPopup();
  await synced(popup);
  const old = await emu.control('GET', '/graph/contacts/AAMkOl00008');
  await emu.control('PATCH', '/graph/contacts/AAMkOl00008', { displayName: 'Olivia Outlook-Renamed' });
  const fresh = await emu.control('GET', '/graph/contacts/AAMkOl00008');
  assert.ok((await search(popup, 'olivia duarte 8')).includes('Olivia Duarte 8'));
  await popup.getByRole('button', { name: 'Edit Olivia Duarte 8', exact: true }).click();
  const editor = popup.getByTestId('contact-editor');
  await editor.getByLabel('Name').fill('Olivia Agent-Renamed');
  const emails = editor.getByLabel('Email addresses, one per line');
  await emails.fill(`${await emails.inputValue()}\nolivia@agent.example`);
  await editor.getByRole('button', { name: 'Save contact' }).click();
  const saved = popup.getByTestId('contact-saved');
  await saved.waitFor({ timeout: 15000 });
  assert.equal(
    await saved.textContent(),
    'Saved, except the name: it was changed in Outlook meanwhile and stays “Olivia Outlook-Renamed”. Your other changes were applied.',
  );
  assert.deepEqual(await writesFor('AAMkOl00008'), [[412, old['@odata.etag']], [200, fresh['@odata.etag']]]);
  const now = await emu.control('GET', '/graph/contacts/AAMkOl00008');
  assert.equal(now.displayName, 'Olivia Outlook-Renamed');
  assert.deepEqual(now.emailAddresses.map((e) => e.address), ['olivia.duarte8@fabrikam.example', 'olivia@agent.example']);
  await popup.screenshot({ path: artifact('popup-outlook-conflict.png') });
  await popup.close();
});

test('a fourth email address is refused before anything is sent: Outlook keeps three', async () => {
  await stale();
  await openPopup();
  await synced(popup);
  const writes = (await emu.control('GET', '/graph/writes')).length;
  assert.ok((await search(popup, 'rémi duarte 5')).includes('Rémi Duarte 5'));
  await popup.getByRole('button', { name: 'Edit Rémi Duarte 5', exact: true }).click();
  const editor = popup.getByTestId('contact-editor');
  const emails = editor.getByLabel('Email addresses, one per line');
  await emails.fill(`${await emails.inputValue()}\nb@x.example\nc@x.example\nd@x.example`);
  await editor.getByRole('button', { name: 'Save contact' }).click();
  const saved = popup.getByTestId('contact-saved');
  await saved.waitFor({ timeout: 15000 });
  assert.equal(await saved.textContent(), 'Outlook keeps at most three email addresses per contact. Remove one and save again.');
  assert.equal(await saved.getAttribute('data-outcome'), 'problem');
  assert.equal(await editor.count(), 1, 'the editor stays open with the draft');
  assert.equal((await emails.inputValue()).split('\n').length, 4);
  assert.equal((await emu.control('GET', '/graph/writes')).length, writes, 'nothing reached Graph');
  await popup.close();
});

test('Graph refusing Contacts.Read gets an Outlook message that says what to do', async () => {
  await emu.control('PUT', '/faults', [{
    path_prefix: '/graph/v1.0/me/contactFolders/',
    status: 403,
    count: 1,
    body: { error: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' } },
  }]);
  try {
    await stale();
    await openPopup();
    const expected = 'Ringside may not read your Outlook contacts. Sign out and sign in again to grant access to contacts, or ask your administrator to consent to Contacts.Read for Ringside.';
    assert.equal(await syncError(popup, expected), expected);
  } finally {
    await emu.control('PUT', '/faults', []);
    await popup?.close();
  }
});

test('a 401 about the mailbox (no Exchange Online) is reported and does not sign the agent out', async () => {
  await emu.control('PUT', '/faults', [{
    path_prefix: '/graph/v1.0/me/contactFolders/',
    status: 401,
    count: 2,
    body: { error: { code: 'MailboxNotEnabledForRESTAPI', message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.' } },
  }]);
  try {
    await stale();
    await openPopup();
    const expected = 'Ringside cannot read your Outlook contacts. Microsoft 365 says: “The mailbox is either inactive, soft-deleted, or is hosted on-premise.” Ask your administrator whether your account has an Exchange Online mailbox.';
    assert.equal(await syncError(popup, expected), expected);
    assert.equal(await phase(popup), 'signed_in', 'still signed in');
    assert.equal((await swState(popup)).contacts.count, CONTACTS - 2, 'the local copy stays');
  } finally {
    await emu.control('PUT', '/faults', []);
    await popup?.close();
  }
});
