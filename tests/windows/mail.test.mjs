// Windows, under Wine: IMAP over TLS with the system's TLS stack (SChannel,
// through native-tls) against the test dovecot on loopback, whose certificate
// comes from a test CA named in the host's `imap_ca_files`; the app password
// in Credential Manager, tied to its server, and gone after mail.forget.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { startDovecot, USER, APP_PASSWORD, CONTACT } from '../e2e/lib/imap.mjs';
import { prepare, hostOk, session, frame, HELLO, DEV_ID, wine, unixPath, winPath, wineTool, credentials } from './lib/wine.mjs';

let dovecot;
let configFile;
before(async () => {
  prepare();
  hostOk(['install', '--browser', 'chrome', '--extension-id', DEV_ID]);
  dovecot = await startDovecot({ count: 40, every: 7 });
  assert.ok(dovecot, 'dovecot is not installed (scripts/setup installs it)');
  // The admin's extra trust anchor, as docs/admin-guide.md says to add it.
  configFile = unixPath(`${wine(['cmd', '/c', 'echo %LOCALAPPDATA%']).text.trim()}\\Ringside\\host.json`);
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  config.imap_ca_files = [winPath(dovecot.ca)];
  writeFileSync(configFile, JSON.stringify(config, null, 2));
});
after(async () => {
  await dovecot?.stop();
  hostOk(['uninstall', '--browser', 'chrome']);
});

test('mail.connect and mail.search over IMAPS through SChannel; the app password in Credential Manager until mail.forget', () => {
  const server = { host: 'localhost', port: dovecot.port };
  const target = `imap ${USER} localhost:${dovecot.port}.ringside`;
  const s = session(Buffer.concat([
    frame(HELLO),
    frame({ id: 1, type: 'mail.connect', params: { email: USER, password: APP_PASSWORD, server } }),
    frame({ id: 2, type: 'mail.search', params: { email: USER, addresses: [CONTACT], limit: 3, server } }),
  ]));
  assert.deepEqual(s.json[1], { id: 1, result: { connected: true } }, `${JSON.stringify(s.json[1])}\n${s.stderr}`);
  assert.deepEqual(
    s.json[2].result?.messages?.map((m) => m.subject),
    dovecot.shared.slice(0, 3).map((m) => m.subject),
    JSON.stringify(s.json[2]),
  );
  assert.equal(wineTool(['cred-read', target]).text, APP_PASSWORD);

  const f = session(Buffer.concat([frame(HELLO), frame({ id: 3, type: 'mail.forget', params: { email: USER, server } })]));
  assert.deepEqual(f.json[1], { id: 3, result: { deleted: true } });
  assert.ok(!credentials().includes(target));
});
