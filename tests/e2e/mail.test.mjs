// Gmail over IMAP with an app password, end to end: real headless Chromium
// with the extension, the real native host, the real Secret Service
// (scripts/with-keyring), and a real dovecot over IMAPS with a test CA that
// the host trusts through its admin config (imap_ca_files). The extension
// reaches the server only through the imapServer setting, as an admin sets it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshDirs, installHost, launch, openExtensionPage, swState, until, artifact } from './lib/harness.mjs';
import { configure, dumpStorage } from './lib/auth.mjs';
import { startDovecot, startGmailAlert, makeCerts, USER, APP_PASSWORD, CONTACT } from './lib/imap.mjs';

// Started before the tests are declared, so a missing dovecot skips them
// (scripts/test sets RINGSIDE_REQUIRE_DOVECOT=1: there it fails instead).
const dovecot = await startDovecot({ count: 300 });
after(() => dovecot?.stop());
const skip = () => !dovecot && 'dovecot is not installed (scripts/setup installs it)';

/** The Secret Service username of the app password for an address on a server. */
const account = (port, email = USER) => `imap ${email} localhost:${port}`;

/** The app password the host keeps for the address on that server (null: none). */
function storedPassword(port, email = USER) {
  return secretTool(['lookup', 'service', 'ringside', 'username', account(port, email)]);
}

/** secret-tool's output (null when it finds nothing). */
function secretTool(args) {
  try {
    return execFileSync('secret-tool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return null;
  }
}

/** secret-tool's stdout and stderr (it prints attributes on stderr). */
function secretToolAll(args) {
  const r = spawnSync('secret-tool', args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

/** A browser whose host trusts the test CA(s) `cas` (the admin's host.json), with the admin's `policy` (the IMAP server) in place at launch. */
async function browserTrusting(cas, policy) {
  const dirs = freshDirs('ringside-mail');
  installHost(dirs);
  const cfgPath = path.join(dirs.config, 'ringside', 'host.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.imap_ca_files = [cas].flat();
  writeFileSync(cfgPath, JSON.stringify(cfg));
  return launch({ host: false, dirs, policy });
}

async function connect(options, email, password) {
  await options.getByLabel('Gmail address').fill(email);
  await options.getByLabel('App password (16 letters)').fill(password);
  await options.getByLabel('App password (16 letters)').press('Enter');
}

async function failureKey(options) {
  const f = options.getByTestId('mail-failure');
  await f.waitFor({ timeout: 20000 });
  return f.getAttribute('data-failure');
}

test('connect from the options page, the panel lists the shared emails newest first, a changed password disconnects, disconnect empties the store', { skip: skip() }, async () => {
  const b = await browserTrusting(dovecot.ca, { imapServer: { host: 'localhost', port: dovecot.port } });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await options.getByRole('heading', { name: 'Gmail with an app password' }).waitFor();

    // A Google password (not 16 letters) gets the warning; nothing is sent.
    await connect(options, USER, 'hunter2');
    const warning = options.getByTestId('mail-warning');
    await warning.waitFor();
    assert.match(await warning.textContent(), /Google's have 16 letters \(spaces don't matter\), this has 7/);
    assert.equal((await swState(options)).mail.connecting, null);
    assert.equal(storedPassword(dovecot.port), null);
    assert.ok(await options.getByRole('button', { name: 'Connect anyway' }).isVisible());

    // The wrong app password: Gmail's "Invalid credentials" message.
    await connect(options, USER, 'wxyz wxyz wxyz wxyz');
    assert.equal(await failureKey(options), 'mailWrongPassword');
    assert.match(await options.getByTestId('mail-failure').textContent(), /not your Google password/);
    assert.equal(storedPassword(dovecot.port), null, 'nothing stored after a refused login');

    // The right one, pasted with Google's spaces.
    await connect(options, USER, 'abcd efgh ijkl mnop');
    await options.getByTestId('mail-connected').waitFor({ timeout: 20000 });
    assert.match(await options.getByTestId('mail-connected').textContent(), /connected as ana@example\.com/);
    assert.equal(storedPassword(dovecot.port), APP_PASSWORD);
    const dump = await dumpStorage(options, { session: true });
    assert.ok(!dump.includes(APP_PASSWORD), 'the app password is nowhere in browser storage');
    assert.ok(!dump.includes('abcd efgh'), 'nor as typed');

    // The side panel: the contact's newest 5 messages, in order.
    const panel = await openExtensionPage(b, 'sidepanel.html', { width: 400, height: 800 });
    const search = async (q) => {
      await panel.getByLabel('Find a contact').fill(q);
      await panel.getByLabel('Find a contact').press('Enter');
    };
    const gmail = panel.getByTestId('section-gmail');
    const items = gmail.getByTestId('shared-email');
    await search(CONTACT);
    await until(async () => (await items.count()) === 5, { timeout: 20000, what: '5 shared emails' });
    const subjects = await gmail.locator('.item-title').allTextContents();
    assert.deepEqual(subjects, dovecot.shared.slice(0, 5).map((m) => m.subject));
    const dates = await gmail.locator('time').evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime')));
    assert.deepEqual(dates.map((d) => new Date(d).toISOString()), dovecot.shared.slice(0, 5).map((m) => m.date));
    const seeAll = await gmail.getByRole('link', { name: 'See all in Gmail' }).getAttribute('href');
    assert.equal(seeAll, `https://mail.google.com/mail/u/0/#search/${encodeURIComponent(`from:${CONTACT} OR to:${CONTACT}`).replace(/%20/g, '+')}`);
    assert.match(await gmail.textContent(), /From Gmail over IMAP \(ana@example\.com\)/);
    await panel.screenshot({ path: artifact('sidepanel-shared-emails.png'), fullPage: true });

    // An address with nothing shared says so.
    await search('nobody@nowhere.example');
    await gmail.getByTestId('section-empty').waitFor({ timeout: 20000 });

    // The password changes at the server (the revocation case): the next
    // fetch disconnects the source and says why, in the panel and options.
    dovecot.setPassword('zyxwvutsrqponmlk');
    await search(CONTACT);
    const gone = gmail.getByTestId('section-failure');
    await gone.waitFor({ timeout: 20000 });
    assert.match(await gone.textContent(), /no longer accepts Ringside's app password/);
    assert.equal(await failureKey(options), 'mailRevoked');
    assert.equal(storedPassword(dovecot.port), null, 'the revoked password was deleted');
    assert.equal((await swState(options)).mail.connected, null);
    await panel.screenshot({ path: artifact('sidepanel-mail-revoked.png'), fullPage: true });

    // Reconnect with the new password; the panel lists the emails again.
    await connect(options, USER, 'zyxwvutsrqponmlk');
    await options.getByTestId('mail-connected').waitFor({ timeout: 20000 });
    await search(CONTACT);
    await until(async () => (await items.count()) === 5, { timeout: 20000, what: 'the panel refilled' });

    // Disconnect: the Secret Service entry is gone; the form is back.
    await options.getByRole('button', { name: 'Disconnect Gmail' }).click();
    await options.getByLabel('App password (16 letters)').waitFor();
    await until(() => storedPassword(dovecot.port) === null, { what: 'the secret deleted' });
    assert.equal(JSON.parse(await dumpStorage(options, { session: true })).local.mailSource, undefined);
    await search(CONTACT);
    await gmail.getByText('Sign in to Ringside to see what you share with this contact.').waitFor({ timeout: 20000 });
    await options.screenshot({ path: artifact('options-mail.png'), fullPage: true });
  } finally {
    dovecot.setPassword(APP_PASSWORD);
    await b.close();
  }
});

test("Gmail's 2-Step Verification answer tells the agent to create an app password", { skip: skip() }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringside-gmail-'));
  const gmail = await startGmailAlert(makeCerts(dir));
  const b = await browserTrusting(path.join(dir, 'ca.pem'), { imapServer: { host: 'localhost', port: gmail.port } });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await connect(options, USER, 'Summer2026!');
    // Not 16 letters: warned first, then sent anyway.
    await options.getByTestId('mail-warning').waitFor();
    await options.getByRole('button', { name: 'Connect anyway' }).click();
    assert.equal(await failureKey(options), 'mailAppPasswordRequired');
    assert.match(await options.getByTestId('mail-failure').textContent(), /2-Step Verification.*App passwords/);
    assert.equal(storedPassword(gmail.port), null);
  } finally {
    gmail.stop();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the app password is tied to its server: when the IMAP server setting changes, the new server sees no connection until the agent types the password again', { skip: skip() }, async () => {
  // Server B: a second dovecot with the same user and the same password.
  const second = await startDovecot({ count: 60, every: 5 });
  // Connections B has seen: only startDovecot's readiness probe so far.
  const connections = () => second.log().split('\n').filter((l) => l.includes('imap-login:')).length;
  const probes = connections();
  const b = await browserTrusting([dovecot.ca, second.ca], { imapServer: { host: 'localhost', port: dovecot.port } });
  try {
    const options = await openExtensionPage(b, 'options.html');
    await connect(options, USER, APP_PASSWORD);
    await options.getByTestId('mail-connected').waitFor({ timeout: 20000 });

    // Stored with its server: the username names host and port, and the
    // Secret Service attributes carry them; nothing under the address alone.
    assert.equal(storedPassword(dovecot.port), APP_PASSWORD);
    assert.equal(secretTool(['lookup', 'service', 'ringside', 'host', 'localhost', 'port', String(dovecot.port)]), APP_PASSWORD);
    const listed = secretToolAll(['search', 'service', 'ringside', 'username', account(dovecot.port)]);
    assert.match(listed, new RegExp(`attribute\\.port = ${dovecot.port}\\b`));
    assert.match(listed, /attribute\.host = localhost\b/);
    assert.equal(secretTool(['lookup', 'service', 'ringside', 'username', `imap ${USER}`]), null);

    const panel = await openExtensionPage(b, 'sidepanel.html', { width: 400, height: 800 });
    const search = async (q) => {
      await panel.getByLabel('Find a contact').fill(q);
      await panel.getByLabel('Find a contact').press('Enter');
    };
    const gmail = panel.getByTestId('section-gmail');
    const items = gmail.getByTestId('shared-email');
    await search(CONTACT);
    await until(async () => (await items.count()) === 5, { timeout: 20000, what: "A's shared emails" });
    assert.deepEqual(await gmail.locator('.item-title').allTextContents(), dovecot.shared.slice(0, 5).map((m) => m.subject));
    assert.equal(connections(), probes, 'B has seen nothing yet');

    // The admin's IMAP server setting now names B.
    await configure(b, { imapServer: { host: 'localhost', port: second.port } });
    assert.equal(await failureKey(options), 'mailServerChanged');
    assert.match(await options.getByTestId('mail-failure').textContent(),
      new RegExp(`mail server changed \\(now localhost:${second.port}\\).*not sent to the new one`));
    // The connect form is back, for the agent to type the password for B.
    await options.getByLabel('App password (16 letters)').waitFor();
    assert.equal((await swState(options)).mail.connected, null);
    // The side panel says the same instead of listing anything.
    await search('nobody@nowhere.example');
    await search(CONTACT);
    const changed = gmail.getByTestId('section-failure');
    await changed.waitFor({ timeout: 20000 });
    assert.match(await changed.textContent(), /mail server changed/);
    assert.equal(await items.count(), 0);
    await panel.screenshot({ path: artifact('sidepanel-mail-server-changed.png'), fullPage: true });
    // A's password is forgotten with A; B was never sent anything: not even a connection.
    await until(() => storedPassword(dovecot.port) === null, { what: "A's password deleted" });
    assert.equal(storedPassword(second.port), null);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(connections(), probes, `B saw a connection:\n${second.log()}`);

    // The agent types the password again: now, and only now, B sees the login.
    await connect(options, USER, APP_PASSWORD);
    await options.getByTestId('mail-connected').waitFor({ timeout: 20000 });
    assert.match(second.log(), new RegExp(`Login: user=<${USER.replace('.', '\\.')}>`));
    assert.equal(storedPassword(second.port), APP_PASSWORD);
    await search('nobody@nowhere.example');
    await search(CONTACT);
    await until(async () => (await items.count()) === 5, { timeout: 20000, what: "B's shared emails" });
    assert.deepEqual(await gmail.locator('.item-title').allTextContents(), second.shared.slice(0, 5).map((m) => m.subject));
    await options.getByRole('button', { name: 'Disconnect Gmail' }).click();
    await until(() => storedPassword(second.port) === null, { what: "B's secret deleted" });
  } finally {
    await b.close();
    await second.stop();
  }
});
