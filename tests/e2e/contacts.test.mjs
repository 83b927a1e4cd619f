// The local contact store end to end (issue 8): real headless Chromium, the
// real host and Secret Service, baresip for the incoming call, and the
// emulator's People sync seeded with 500 contacts and a 60-person directory.
// The extension reaches People only through the googleApiRoot setting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openExtensionPage, startEmulator, swState, until, artifact } from './lib/harness.mjs';
import { ANA, provider as setProvider, google as googleAt, signInGoogle, dumpStorage } from './lib/auth.mjs';
import { synced, storedIds, search, stale, syncError, whileRinging } from './lib/contacts.mjs';
import { buttonCentre, buttonNames, axText, wholeDom } from './lib/buttons.mjs';

const CONTACTS = 500;
const DIRECTORY = 60;
// Generated contact 1 (tests/emulator/src/people_sync.rs): "Élodie Ruiz 1",
// +34 601 000 001, Client Co.
const ELODIE = { name: 'Élodie Ruiz 1', e164: '+34601000001', written: '+34 601 000 001', org: 'Client Co' };

let emu;
let b;
let popup;
let settings;

before(async () => {
  emu = await startEmulator();
  await emu.control('POST', '/google/people/generate', { contacts: CONTACTS, directory: DIRECTORY });
  // The same person in the agent's contacts and the directory (same email).
  await emu.control('PATCH', '/google/people/directory/d0', { emailAddresses: [{ value: 'ana.ruiz0@example.com' }] });
  await setProvider(emu, '/oidc', { auto: ANA.email });
  settings = {
    identityProviders: [googleAt(emu)],
    googleApiRoot: `${emu.url}/googleapis`,
    contactsDirectory: true,
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

async function resultIds(page) {
  return page.locator('[data-testid=dial-result]').evaluateAll((els) => els.map((e) => e.dataset.id));
}

test('sign-in starts a full sync of the contacts and the directory; the popup shows the count; IndexedDB holds them once, no token', async () => {
  await emu.control('DELETE', '/requests');
  await openPopup();
  await signInGoogle(b, popup);
  const text = await synced(popup, CONTACTS + DIRECTORY);
  assert.equal(text, `${CONTACTS + DIRECTORY} contacts, synced just now`);
  const ids = await storedIds(b);
  assert.equal(ids.length, CONTACTS + DIRECTORY);
  assert.ok(ids.includes('google:people/c499') && ids.includes('directory:people/d59'));
  // Non-secret data only: the access token is nowhere in browser storage but the session.
  const tokens = await popup.evaluate(() => chrome.storage.session.get('tokens'));
  const stored = await dumpStorage(popup);
  assert.ok(tokens.tokens?.access_token);
  assert.ok(!stored.includes(tokens.tokens.access_token));
  const seen = await emu.control('GET', '/requests');
  const lists = seen.filter((r) => r.path.endsWith('/people/me/connections') || r.path.endsWith('people:listDirectoryPeople'));
  assert.deepEqual(lists.map((r) => r.status), [200, 200], 'one page each');
});

test('the dial pad searches as you type: name fragment, number fragment, email; one entry per person', async () => {
  await openPopup();
  const byName = await search(popup, 'élod');
  assert.equal(byName.length, 8, 'the first 8 of the Élodies');
  assert.ok(byName.every((n) => n.startsWith('Élodie')), byName.join());
  // Case and accents ignored.
  assert.deepEqual(await search(popup, 'ELODIE RUIZ 1'), [ELODIE.name]);
  assert.deepEqual(await resultIds(popup), ['google:people/c1']);
  assert.deepEqual(await search(popup, '601 000 0'), [ELODIE.name], 'digits anywhere, formatting ignored');
  // The number as written; the call dials E.164.
  const call = popup.getByRole('button', { name: `Call ${ELODIE.name}, ${ELODIE.written}` });
  assert.equal(await call.count(), 1, 'the call button names the contact');
  assert.equal(await call.getAttribute('data-number'), ELODIE.e164);
  const dir = await search(popup, 'corp.example');
  assert.equal(dir.length, 8);
  // Ana Ruiz 0 is both a contact and (same email) a directory person: listed once.
  assert.deepEqual(await search(popup, 'ana.ruiz0@'), ['Ana Ruiz 0']);
  assert.deepEqual(await search(popup, 'zzz'), []);
  await search(popup, 'ruiz 1');
  await popup.screenshot({ path: artifact('popup-contacts.png') });
  await popup.close();
});

test('an incoming call from a known number shows the name and organization in the popup; a match from the dial pad is called', async () => {
  await whileRinging(b, { caller: ELODIE.e164, settings, openPopup }, async (popup, live) => {
    assert.equal(await live.getByTestId('call-contact').textContent(), ELODIE.name);
    assert.match(await live.textContent(), /Client Co/);
    await popup.getByRole('button', { name: 'Decline' }).click();
    await until(async () => (await swState(popup)).calls.live === null, { what: 'declined' });
    // And back: a match's number, from the dial pad, rings Élodie's softphone.
    await search(popup, '601 000 0');
    await popup.getByRole('button', { name: `Call ${ELODIE.name}, ${ELODIE.written}` }).click();
    await until(async () => (await swState(popup)).calls.live?.phase === 'established', { timeout: 8000, what: 'the call from the dial pad' });
    assert.equal(await popup.getByTestId('live-call').getByTestId('call-contact').textContent(), ELODIE.name);
    assert.equal((await swState(popup)).calls.live.number, ELODIE.e164, "E.164 was dialled");
    await popup.getByRole('button', { name: 'Hang up' }).click();
    await until(async () => (await swState(popup)).calls.live === null, { what: 'hung up' });
    await popup.close();
  });
});

test('the side panel finds a synced contact locally, without asking People', async () => {
  await emu.control('DELETE', '/requests');
  const panel = await openExtensionPage(b, 'sidepanel.html', { width: 420, height: 800 });
  await panel.getByLabel('Find a contact').fill('+34 601 000 001');
  await panel.getByLabel('Find a contact').press('Enter');
  await panel.getByTestId('contact-card').getByRole('heading', { name: ELODIE.name }).waitFor({ timeout: 10000 });
  const seen = await emu.control('GET', '/requests');
  assert.deepEqual(seen.filter((r) => r.path.includes('people:search')).map((r) => r.path), []);
  await panel.close();
});

test('no contact name reaches a page: not its DOM, attributes, shadow roots, styles or accessibility tree, nor a cross-origin frame', async () => {
  const page = await b.context.newPage();
  await page.goto(`${emu.url}/pages/crm-list.html`);
  // The numbers of a synced contact and of an unknown caller get the same
  // plain label: the number as the page wrote it.
  await buttonCentre(page, `Call ${ELODIE.written}`, { timeout: 10000 });
  const names = await buttonNames(page);
  assert.ok(names.includes('Call +34 699 999 999'), names.join(' | '));
  assert.ok(!names.some((n) => n.includes(ELODIE.name)), names.join(' | '));
  const frame = await until(() => page.frames().find((f) => f.url().includes('/crm-frame.html')), { what: 'the partner frame' });
  await until(async () => (await frame.locator('ringside-call').count()) === 2, { timeout: 10000, what: 'two buttons in the frame' });
  const first = ELODIE.name.split(' ')[0];
  // Everything the page's own scripts can read, in the page and in the frame.
  for (const f of [page.mainFrame(), frame]) {
    const readable = await f.evaluate(() => {
      const out = [document.documentElement.outerHTML, document.title, document.body.innerText];
      const walk = (root) => {
        for (const el of root.querySelectorAll('*')) {
          for (const a of el.getAttributeNames()) out.push(el.getAttribute(a));
          for (const pseudo of [null, '::before', '::after']) out.push(getComputedStyle(el, pseudo).content);
          if (el.shadowRoot) {
            out.push(el.shadowRoot.innerHTML);
            walk(el.shadowRoot);
          }
        }
      };
      walk(document);
      return out.join('\n');
    });
    assert.ok(readable.includes('ringside-call'), 'the buttons are there');
    assert.ok(!readable.includes(first), `a name is readable in ${f.url()}`);
  }
  // Nor anywhere in the page's DOM at all, closed shadow roots included, nor
  // in what a screen reader reads there.
  for (const target of [page, frame]) {
    assert.ok(!(await wholeDom(target)).includes(first), 'a name is in the DOM');
  }
  assert.ok(!(await axText(page)).includes(first), 'a name is in the accessibility tree');
  await page.close();
});

test('an edit and a deletion at the source arrive with the next incremental sync (the popup opening)', async () => {
  await emu.control('PATCH', '/google/people/contacts/c2', { names: [{ unstructuredName: 'Marta Renamed' }] });
  const gone = await emu.control('GET', '/google/people/contacts/c3');
  await emu.control('DELETE', '/google/people/contacts/c3');
  await emu.control('DELETE', '/requests');
  await stale(); // the popup syncs when the last run is over 2 s old
  await openPopup();
  await synced(popup, CONTACTS + DIRECTORY - 1);
  assert.deepEqual(await search(popup, 'marta ren'), ['Marta Renamed']);
  assert.deepEqual(await search(popup, gone.names[0].displayName), []);
  assert.ok(!(await storedIds(b)).includes('google:people/c3'));
  const seen = await emu.control('GET', '/requests');
  assert.deepEqual(seen.filter((r) => r.path.endsWith('/people/me/connections')).map((r) => r.status), [200]);
  await popup.close();
});

test('a number People could not parse (national form, no canonicalForm) is made E.164 by the worker: the side panel finds the contact by it', async () => {
  // Google gives canonicalForm only for the numbers it could parse; the
  // emulator, like it, gives none for a national number.
  await emu.control('PATCH', '/google/people/contacts/c11', { phoneNumbers: [{ value: '(650) 555-0111', type: 'work' }] });
  const who = (await emu.control('GET', '/google/people/contacts/c11')).names[0].displayName;
  await stale();
  await openPopup();
  await synced(popup);
  const phones = await b.sw.evaluate(() => new Promise((resolve) => {
    const r = indexedDB.open('ringside-contacts');
    r.onsuccess = () => {
      const q = r.result.transaction('contacts').objectStore('contacts').get('google:people/c11');
      q.onsuccess = () => resolve((typeof q.result === 'string' ? JSON.parse(q.result) : q.result).phones);
    };
  }));
  assert.deepEqual(phones.map((p) => [p.raw, p.e164]), [['(650) 555-0111', '+16505550111']], 'made E.164 with the agent\'s region (US)');
  await popup.close();
  await emu.control('DELETE', '/requests');
  const panel = await openExtensionPage(b, 'sidepanel.html', { width: 420, height: 800 });
  await panel.getByLabel('Find a contact').fill('+1 650 555 0111');
  await panel.getByLabel('Find a contact').press('Enter');
  await panel.getByTestId('contact-card').getByRole('heading', { name: who }).waitFor({ timeout: 10000 });
  const seen = await emu.control('GET', '/requests');
  assert.deepEqual(seen.filter((r) => r.path.includes('people:search')).map((r) => r.path), [], 'found in the local copy');
  await panel.close();
});

test('an expired sync token leads to a clean full resync: same contacts, no duplicates', async () => {
  await emu.control('DELETE', '/google/people/contacts/c4');
  await emu.control('POST', '/google/people/expire-sync-tokens');
  await emu.control('DELETE', '/requests');
  await stale();
  await openPopup();
  await synced(popup, CONTACTS + DIRECTORY - 2);
  const ids = await storedIds(b);
  assert.equal(ids.length, CONTACTS + DIRECTORY - 2);
  assert.ok(!ids.includes('google:people/c4'), 'what the full run did not see is swept');
  const seen = await emu.control('GET', '/requests');
  const statuses = seen.filter((r) => r.path.endsWith('/people/me/connections')).map((r) => r.status);
  assert.deepEqual(statuses, [400, 200], 'EXPIRED_SYNC_TOKEN, then the full listing');
  await popup.close();
});

/** The edits the emulator received for one contact: [status, etag sent]. */
async function writesFor(resource) {
  const writes = await emu.control('GET', '/google/people/writes');
  return writes.filter((w) => w.resource === resource).map((w) => [w.status, w.etag]);
}

test('an edit in Ringside asks for write access once, then reaches Google with the etag it had', async () => {
  const before = await emu.control('GET', '/google/people/contacts/c6');
  await stale();
  await openPopup();
  await synced(popup);
  assert.deepEqual(await search(popup, 'noah ruiz 6'), ['Noah Ruiz 6']);
  await popup.getByRole('button', { name: 'Edit Noah Ruiz 6' }).click();
  const editor = popup.getByTestId('contact-editor');
  await editor.getByLabel('Name').fill('Noah Ruiz-Edited');
  const phones = editor.getByLabel('Phone numbers, one per line');
  assert.equal(await phones.inputValue(), '+34 606 000 006');
  await phones.fill('+34 606 000 006\n+34 699 000 006');
  await editor.getByRole('button', { name: 'Save contact' }).click();
  const saved = popup.getByTestId('contact-saved');
  await saved.waitFor({ timeout: 15000 });
  assert.equal(await saved.textContent(), 'Saved to your Google contacts.');
  assert.equal(await saved.getAttribute('data-outcome'), 'saved');
  assert.deepEqual(await popup.getByTestId('dial-results').locator('.dial-name').allTextContents(), ['Noah Ruiz-Edited']);
  assert.deepEqual(await writesFor('people/c6'), [[200, before.etag]]);
  const now = await emu.control('GET', '/google/people/contacts/c6');
  assert.equal(now.names[0].displayName, 'Noah Ruiz-Edited');
  assert.deepEqual(now.phoneNumbers.map((p) => p.canonicalForm), ['+34606000006', '+34699000006']);
  // The write scope was added to the grant, by incremental authorization.
  const { tokens } = await popup.evaluate(() => chrome.storage.session.get('tokens'));
  assert.ok(tokens.scope.split(' ').includes('https://www.googleapis.com/auth/contacts'));
  // Directory people have no Edit button.
  await search(popup, 'corp.example');
  assert.equal(await popup.getByTestId('dial-results').getByRole('button', { name: /^Edit / }).count(), 0);
  await popup.close();
});

test('an edit that meets a newer version at Google is merged, and the agent is told what could not be applied', async () => {
  await stale();
  await openPopup();
  await synced(popup);
  const old = await emu.control('GET', '/google/people/contacts/c8');
  // Someone renames Mateo at Google after Ringside's last sync.
  await emu.control('PATCH', '/google/people/contacts/c8', { names: [{ unstructuredName: 'Mateo Source-Renamed' }] });
  const fresh = await emu.control('GET', '/google/people/contacts/c8');
  assert.deepEqual(await search(popup, 'mateo ruiz 8'), ['Mateo Ruiz 8']);
  await popup.getByRole('button', { name: 'Edit Mateo Ruiz 8' }).click();
  const editor = popup.getByTestId('contact-editor');
  await editor.getByLabel('Name').fill('Mateo Agent-Renamed');
  const emails = editor.getByLabel('Email addresses, one per line');
  await emails.fill(`${await emails.inputValue()}\nmateo@agent.example`);
  await editor.getByRole('button', { name: 'Save contact' }).click();
  const saved = popup.getByTestId('contact-saved');
  await saved.waitFor({ timeout: 15000 });
  assert.equal(
    await saved.textContent(),
    'Saved, except the name: it was changed in Google Contacts meanwhile and stays “Mateo Source-Renamed”. Your other changes were applied.',
  );
  assert.equal(await saved.getAttribute('data-outcome'), 'partial');
  assert.deepEqual(await writesFor('people/c8'), [[400, old.etag], [200, fresh.etag]]);
  const now = await emu.control('GET', '/google/people/contacts/c8');
  assert.equal(now.names[0].displayName, 'Mateo Source-Renamed');
  assert.deepEqual(now.emailAddresses.map((e) => e.value), ['mateo.ruiz8@example.com', 'mateo@agent.example']);
  await popup.screenshot({ path: artifact('popup-contact-conflict.png') });
  await popup.close();
});

test('signing out empties the local store', async () => {
  const options = await openExtensionPage(b, 'options.html');
  await options.getByRole('button', { name: 'Sign out' }).click();
  await until(async () => (await storedIds(b)).length === 0, { timeout: 10000, what: 'store emptied' });
  await options.close();
});

test('an account without People API access gets a clear message', async () => {
  await emu.control('PUT', '/faults', [{
    path_prefix: '/googleapis/people/v1/people/me/connections',
    status: 403,
    count: 1,
    body: { error: {
      code: 403,
      message: 'People API has not been used in project 1234 before or it is disabled.',
      status: 'PERMISSION_DENIED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com' }],
    } },
  }]);
  try {
    await openPopup();
    await signInGoogle(b, popup);
    const expected = 'Ringside cannot read your Google contacts. Google says: “People API has not been used in project 1234 before or it is disabled.” Ask your administrator to turn on the People API for Ringside.';
    assert.equal(await syncError(popup, expected), expected);
  } finally {
    await emu.control('PUT', '/faults', []);
    await popup?.close();
  }
});

test('a 429 in the middle of a full sync is waited out and the sync goes on from that page; nothing is lost', async () => {
  // 2,500 contacts: three pages of 1,000. The second page answers 429 once.
  await emu.control('POST', '/google/people/generate', { contacts: 2500 });
  const options = await openExtensionPage(b, 'options.html');
  await options.getByRole('button', { name: 'Sign out' }).click();
  await until(async () => (await storedIds(b)).length === 0, { timeout: 10000, what: 'store emptied' });
  await options.close();
  await emu.control('PUT', '/faults', [{
    path_prefix: '/googleapis/people/v1/people/me/connections',
    status: 429, retry_after: 1, count: 1, after: 1,
    body: { error: { code: 429, message: 'Quota exceeded for quota metric \'Read requests\'', status: 'RESOURCE_EXHAUSTED' } },
  }]);
  await emu.control('DELETE', '/requests');
  try {
    await openPopup();
    await signInGoogle(b, popup);
    await synced(popup, 2500);
    const ids = await storedIds(b);
    assert.equal(ids.length, 2500);
    const seen = (await emu.control('GET', '/requests')).filter((r) => r.path.endsWith('/people/me/connections'));
    assert.deepEqual(seen.map((r) => r.status), [200, 429, 200, 200], 'page 1 once, page 2 after the wait, page 3');
    assert.ok(seen[2].at_ms - seen[1].at_ms >= 900, 'Retry-After: 1 was honoured');
  } finally {
    await emu.control('PUT', '/faults', []);
    await popup?.close();
  }
});

test('the first sync shows its progress in the popup', async () => {
  await emu.control('POST', '/google/people/generate', { contacts: 2500 });
  const options = await openExtensionPage(b, 'options.html');
  await options.getByRole('button', { name: 'Sign out' }).click();
  await until(async () => (await storedIds(b)).length === 0, { timeout: 10000, what: 'store emptied' });
  await options.close();
  // Slow pages, so the popup can be seen between them.
  await emu.control('PUT', '/latency', [{ path_prefix: '/googleapis/people/v1/people/me/connections', ms: 1500 }]);
  try {
    await openPopup();
    await signInGoogle(b, popup);
    const status = popup.getByTestId('contacts-status');
    await until(async () => /^Syncing contacts: [12],[05]00 of 2,500$/.test(await status.textContent()), {
      timeout: 15000, what: 'progress with the total',
    });
    const bar = status.getByRole('progressbar', { name: 'Contact sync progress' });
    assert.equal(await bar.getAttribute('max'), '2500');
    assert.ok(['1000', '2000'].includes(await bar.getAttribute('value')));
    await synced(popup, 2500);
    assert.equal(await status.getByRole('progressbar').count(), 0, 'the bar goes when the sync is done');
  } finally {
    await emu.control('PUT', '/latency', []);
    await popup?.close();
  }
});
