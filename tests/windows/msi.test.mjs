// Windows, under Wine: the MSI `scripts/package` builds with wixl, installed
// silently with the extension id and uninstalled, the machine checked before
// and after: the exe under Program Files, the manifests and the admin
// configuration under ProgramData, the HKLM keys for Chrome, Edge and Firefox; the
// installed host answers the extension and `doctor` is happy with it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  prepare, wine, host, regDefault, readJson, unixPath, winPath, session, frame, HELLO,
  ROOT, WORK, PREFIX, DEV_ID, DEV_ORIGIN, HOST,
} from './lib/wine.mjs';

const OUT = path.join(WORK, 'package');
const EXE = 'C:\\Program Files\\Ringside\\ringside-host.exe';
const KEYS = {
  chrome: `HKLM\\Software\\Google\\Chrome\\NativeMessagingHosts\\${HOST}`,
  edge: `HKLM\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\${HOST}`,
  firefox: `HKLM\\Software\\Mozilla\\NativeMessagingHosts\\${HOST}`,
};
const GECKO_ID = 'ringside@ringside.dev';
const MANIFEST = (b) => `C:\\ProgramData\\Ringside\\${b}\\${HOST}.json`;
let msi;

before(() => {
  prepare();
  rmSync(OUT, { recursive: true, force: true });
  // The development package (the committed key's id) from what scripts/build made.
  execFileSync(path.join(ROOT, 'scripts/package'), ['--dev', '--skip-build', '--out', OUT], { stdio: ['ignore', 'ignore', 'pipe'] });
  const name = readdirSync(OUT).find((f) => /^ringside-host-.*-x64\.msi$/.test(f));
  assert.ok(name, `no MSI in ${OUT}: ${readdirSync(OUT).join(', ')}`);
  msi = path.join(OUT, name);
});

function machineHasNoRingside() {
  assert.ok(!existsSync(unixPath(EXE)), `${EXE} is present`);
  assert.ok(!existsSync(path.join(PREFIX, 'drive_c/ProgramData/Ringside')), 'ProgramData\\Ringside is present');
  for (const key of Object.values(KEYS)) assert.equal(regDefault(key), null, `${key} is present`);
}

/** msiexec with a verbose log; returns its status and the log's text. */
function msiexec(args) {
  const log = path.join(WORK, 'msiexec.log');
  rmSync(log, { force: true });
  const r = wine(['msiexec', ...args, '/qn', '/l*v', winPath(log)]);
  // Windows Installer writes its log in UTF-16.
  const text = existsSync(log) ? readFileSync(log).toString(readFileSync(log)[0] === 0xff ? 'utf16le' : 'utf8') : '';
  return { status: r.status, log: text };
}

test('without EXTENSION_ID the install stops, says what to pass, and changes nothing', () => {
  machineHasNoRingside();
  const r = msiexec(['/i', winPath(msi)]);
  assert.notEqual(r.status, 0);
  // The launch condition stopped it before anything was installed. (Windows
  // shows or logs the condition's message; Wine's log names the action only,
  // so the message is read from the MSI's LaunchCondition table.)
  assert.match(r.log, /Action start [^\n]*: LaunchConditions\./);
  assert.doesNotMatch(r.log, /Action start [^\n]*: InstallFiles\./);
  const conditions = execFileSync('msiinfo', ['export', msi, 'LaunchCondition'], { encoding: 'utf8' });
  assert.match(conditions, /Installed OR EXTENSION_ID\tPass the Ringside extension's id: msiexec \/i ringside-host\.msi EXTENSION_ID=<32 letters from a to p>/);
  machineHasNoRingside();
});

test('msiexec /i /qn EXTENSION_ID=… installs per machine for Chrome, Edge and Firefox; msiexec /x leaves the machine as it was', () => {
  machineHasNoRingside();
  // Marker for prepare(): a failed run's install is removed by the next one.
  execFileSync('cp', [msi, path.join(WORK, 'installed.msi')]);
  const i = msiexec(['/i', winPath(msi), `EXTENSION_ID=${DEV_ID}`]);
  assert.equal(i.status, 0, i.log.split('\n').filter((l) => /error|fail|return value 3/i.test(l)).join('\n'));

  assert.ok(existsSync(unixPath(EXE)), 'the exe is under Program Files');
  for (const [browser, key] of Object.entries(KEYS)) {
    assert.equal(regDefault(key), MANIFEST(browser));
    // Firefox admits add-on ids (`allowed_extensions`), Chromium origins.
    const callers = browser === 'firefox' ? { allowed_extensions: [GECKO_ID] } : { allowed_origins: [DEV_ORIGIN] };
    assert.deepEqual(readJson(MANIFEST(browser)), {
      name: HOST, description: 'Ringside native host', path: EXE, type: 'stdio', ...callers,
    });
  }
  // The admin configuration: the allow-list, with the installs recorded.
  const config = readJson('C:\\ProgramData\\Ringside\\host.json');
  assert.deepEqual(config.allowed_origins, [DEV_ORIGIN, GECKO_ID]);
  assert.deepEqual(config.installs.map((r) => [r.browser, r.scope]),
    [['chrome', 'system'], ['edge', 'system'], ['firefox', 'system']]);

  // The installed exe serves the extension and doctor finds both registrations healthy.
  const s = session(frame(HELLO), { exe: EXE });
  assert.equal(s.json[0].result?.os, 'windows', s.stderr);
  const d = host(['doctor', '--json'], { exe: EXE });
  const report = JSON.parse(d.text);
  assert.deepEqual(report.registrations.map((f) => [f.browser, f.scope, f.health]),
    [['chrome', 'system', 'ok'], ['edge', 'system', 'ok'], ['firefox', 'system', 'ok']]);
  assert.equal(d.status, 0);

  const x = msiexec(['/x', winPath(msi)]);
  assert.equal(x.status, 0);
  rmSync(path.join(WORK, 'installed.msi'), { force: true });
  machineHasNoRingside();
});
