// Windows, under Wine: `install` / `uninstall` for Chrome and Edge, per user
// (HKCU) and per machine (HKLM), read back with `reg query` and from the
// manifest files; then `doctor`'s Windows checks: the registry entries, the
// browsers' policies under Software\Policies, and the tel: URL protocol.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  prepare, hostOk, host, regDefault, regAdd, regDelete, readJson, unixPath, winPath, wine,
  EXE, DEV_ID, DEV_ORIGIN, HOST, session, frame, HELLO, WINTOOL, WORK,
} from './lib/wine.mjs';

let localAppData;
before(() => {
  prepare();
  localAppData = wine(['cmd', '/c', 'echo %LOCALAPPDATA%']).text.trim();
  assert.match(localAppData, /^C:\\users\\.+\\AppData\\Local$/i);
});

const VENDOR = { chrome: 'Google\\Chrome', edge: 'Microsoft\\Edge' };
const cases = [];
for (const scope of ['user', 'system']) {
  for (const browser of ['chrome', 'edge']) cases.push({ scope, browser });
}
function where({ scope, browser }) {
  const hive = scope === 'system' ? 'HKLM' : 'HKCU';
  const base = scope === 'system' ? 'C:\\ProgramData' : localAppData;
  return {
    key: `${hive}\\Software\\${VENDOR[browser]}\\NativeMessagingHosts\\${HOST}`,
    manifest: `${base}\\Ringside\\${browser}\\${HOST}.json`,
    config: `${base}\\Ringside\\host.json`,
  };
}
const args = ({ scope, browser }) => ['--browser', browser, ...(scope === 'system' ? ['--system'] : [])];

test('install writes the HKCU and HKLM keys and manifests for Chrome and Edge; doctor finds them; uninstall removes them', () => {
  for (const c of cases) {
    const out = hostOk(['install', ...args(c), '--extension-id', DEV_ID]).text;
    const w = where(c);
    assert.match(out, new RegExp(`registry: ${w.key.replace('HKCU', 'HKEY_CURRENT_USER').replace('HKLM', 'HKEY_LOCAL_MACHINE').replace(/\\/g, '\\\\')}`));
    assert.equal(regDefault(w.key), w.manifest, `${w.key} points at the manifest`);
    const m = readJson(w.manifest);
    assert.deepEqual(m, {
      name: HOST,
      description: 'Ringside native host',
      // A plain path browsers can start, not canonicalize's \\?\ form.
      path: winPath(EXE),
      type: 'stdio',
      allowed_origins: [DEV_ORIGIN],
    });
    assert.deepEqual(readJson(w.config).allowed_origins, [DEV_ORIGIN]);
  }
  // Installing again changes nothing (idempotent).
  hostOk(['install', '--browser', 'chrome', '--extension-id', DEV_ID]);
  assert.deepEqual(readJson(where(cases[0]).manifest).allowed_origins, [DEV_ORIGIN]);

  const report = JSON.parse(hostOk(['doctor', '--json']).text);
  assert.deepEqual(
    report.registrations.map((f) => [f.browser, f.scope, f.health]).sort(),
    [['chrome', 'system', 'ok'], ['chrome', 'user', 'ok'], ['edge', 'system', 'ok'], ['edge', 'user', 'ok']],
  );
  assert.deepEqual(report.problems, []);

  for (const c of cases) {
    const w = where(c);
    const out = hostOk(['uninstall', ...args(c)]).text;
    assert.match(out, /^Removed /);
    assert.equal(regDefault(w.key), null, `${w.key} is gone`);
    assert.ok(!existsSync(unixPath(w.manifest)), `${w.manifest} is gone`);
  }
  // The last registration of each scope takes the host's own config with it.
  assert.ok(!existsSync(unixPath(where(cases[0]).config)));
  assert.ok(!existsSync(unixPath(where(cases[2]).config)));
  const after = host(['doctor']);
  assert.equal(after.status, 1);
  assert.match(after.text, /the host is not registered with any browser/);
});

test('install without an extension id says how to find it; a bad id is refused', () => {
  const none = host(['install', '--browser', 'edge']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /Pass `--extension-id <id>`/);
  const bad = host(['install', '--browser', 'edge', '--extension-id', 'not-an-id']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /`not-an-id` is not an extension id/);
  assert.equal(regDefault(where({ scope: 'user', browser: 'edge' }).key), null);
});

test("doctor's Windows checks: a key pointing elsewhere, NativeMessagingBlocklist, NativeMessagingUserLevelHosts", () => {
  const c = { scope: 'user', browser: 'chrome' };
  const w = where(c);
  hostOk(['install', ...args(c), '--extension-id', DEV_ID]);
  const policies = 'HKLM\\Software\\Policies\\Google\\Chrome';
  try {
    // The key someone else rewrote.
    regAdd(w.key, ['/ve', '/d', 'C:\\elsewhere\\com.ringside.host.json']);
    let r = JSON.parse(host(['doctor', '--json']).text);
    assert.equal(r.registrations[0].health, 'error');
    assert.match(r.registrations[0].problems.join('\n'), /does not point to this manifest/);
    hostOk(['install', ...args(c), '--extension-id', DEV_ID]);

    // Blocked by machine policy: reported, with the fix.
    regAdd(`${policies}\\NativeMessagingBlocklist`, ['/v', '1', '/d', '*']);
    let d = host(['doctor']);
    assert.equal(d.status, 1);
    assert.match(d.text, /Google Chrome blocks the host by policy \(NativeMessagingBlocklist in HKEY_LOCAL_MACHINE\\Software\\Policies\\Google\\Chrome\)/);
    assert.match(d.text, /add com\.ringside\.host to NativeMessagingAllowlist/);
    // The allow-list entry the generated templates write lifts it.
    regAdd(`${policies}\\NativeMessagingAllowlist`, ['/v', '1', '/d', HOST]);
    assert.equal(host(['doctor']).status, 0);

    // Only machine-level hosts allowed: the HKCU registration no longer counts.
    regAdd(policies, ['/v', 'NativeMessagingUserLevelHosts', '/t', 'REG_DWORD', '/d', '0']);
    d = host(['doctor']);
    assert.equal(d.status, 1);
    assert.match(d.text, /\[ERROR\] Google Chrome \(user\)/);
    assert.match(d.text, /NativeMessagingUserLevelHosts is false in HKEY_LOCAL_MACHINE\\Software\\Policies\\Google\\Chrome/);
    assert.match(d.text, /fix: ringside-host install --system --browser chrome {3}\(from a command prompt run as administrator\)/);
    r = JSON.parse(host(['doctor', '--json']).text);
    assert.equal(r.registrations.find((f) => f.scope === 'user').health, 'error');
  } finally {
    regDelete('HKLM\\Software\\Policies');
    hostOk(['uninstall', ...args(c)]);
  }
});

test('the tel: handoff goes through the URL protocol handler the test registers; doctor and dial tell when there is none', () => {
  const c = { scope: 'user', browser: 'chrome' };
  hostOk(['install', ...args(c), '--extension-id', DEV_ID]);
  const record = `${WORK}/tel-handoff.txt`;
  wine(['cmd', '/c', 'del', winPath(record)]);
  try {
    // No handler: the dial is refused before anything is started, and
    // doctor (which learns the dialer from the host's config) says so.
    let s = session(Buffer.concat([
      frame(HELLO),
      frame({ id: 1, type: 'dialer.configure', params: { adapter: 'tel' } }),
      frame({ id: 2, type: 'dial', params: { number: '+33123456789', confirmed: true } }),
    ]));
    assert.deepEqual(s.json[1], { id: 1, result: {} });
    assert.equal(s.json[2].error.name, 'no_tel_handler', JSON.stringify(s.json[2]));
    let d = host(['doctor']);
    assert.match(d.text, /softphone \(tel\): NOT reachable/);
    assert.match(d.text, /no application handles tel: links/);

    // A softphone registers itself for tel: as Windows programs do.
    regAdd('HKCR\\tel', ['/v', 'URL Protocol', '/d', '']);
    regAdd('HKCR\\tel\\shell\\open\\command', ['/ve', '/d', `"${winPath(WINTOOL)}" record "${winPath(record)}" "%1"`]);
    d = host(['doctor']);
    assert.match(d.text, /softphone \(tel\): reachable/);
    s = session(Buffer.concat([
      frame(HELLO),
      frame({ id: 1, type: 'dialer.configure', params: { adapter: 'tel' } }),
      frame({ id: 2, type: 'dial', params: { number: '+33123456789', confirmed: true } }),
    ]));
    assert.deepEqual(s.json[2], { id: 2, result: { accepted: true } });
    // `start` returns before the handler has run: wait for its record.
    const deadline = Date.now() + 20_000;
    while (!existsSync(record) && Date.now() < deadline) wine(['cmd', '/c', 'rem']);
    assert.ok(existsSync(record), 'the handler ran');
    assert.equal(wine(['cmd', '/c', 'type', winPath(record)]).text.trim(), 'tel:+33123456789');
  } finally {
    regDelete('HKCR\\tel');
    hostOk(['uninstall', ...args(c)]);
  }
});
