// Windows, under Wine: IMAP over TLS with the system's TLS stack (SChannel,
// through native-tls) against the test dovecot on loopback, whose certificate
// comes from a test CA named in the host's `imap_ca_files`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { startDovecot, USER, APP_PASSWORD } from '../e2e/lib/imap.mjs';
import { prepare, hostOk, session, frame, HELLO, DEV_ID, wine, unixPath, winPath, credentials } from './lib/wine.mjs';

let dovecot;
let configFile;
before(async () => {
  prepare();
  hostOk(['install', '--browser', 'chrome', '--extension-id', DEV_ID]);
  dovecot = await startDovecot({ count: 40, every: 7 });
  assert.ok(dovecot, 'dovecot is not installed (scripts/setup installs it)');
  configFile = unixPath(`${wine(['cmd', '/c', 'echo %LOCALAPPDATA%']).text.trim()}\\Ringside\\host.json`);
});
after(async () => {
  await dovecot?.stop();
  hostOk(['uninstall', '--browser', 'chrome']);
});

/** The admin's extra trust anchors, as docs/admin-guide.md says to add them. */
function trust(files) {
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  config.imap_ca_files = files;
  writeFileSync(configFile, JSON.stringify(config, null, 2));
}

function connect() {
  const server = { host: 'localhost', port: dovecot.port };
  const s = session(Buffer.concat([
    frame(HELLO),
    frame({ id: 1, type: 'mail.connect', params: { email: USER, password: APP_PASSWORD, server } }),
  ]));
  return s.json[1];
}

// Wine 8's crypt32 is where this stops, not the host: with the test CA in
// imap_ca_files the chain is built and its root accepted, then
// CertVerifyCertificateChainPolicy (SSL) answers CERT_E_REVOCATION_FAILURE
// (0x800B010E, os error -2146762482): the server certificate has no CRL
// distribution point, so its revocation status is unknown, and Wine 8 does
// not honour the CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS schannel-rs
// passes (Windows accepts an unknown status with them). So login, search and
// the app password in Credential Manager are not reached here; they are on
// Linux (native-host/tests/mail.rs, tests/e2e/mail.test.mjs). Seen while
// writing this, and not asserted (a Wine defect, not Ringside behaviour):
// without the CA, Wine 8 ACCEPTS this certificate from an unknown CA when
// its subjectAltName holds an IP address entry (the test certificate's
// IP:127.0.0.1), while one from the same unknown CA with DNS names only is
// refused (CERT_E_UNTRUSTEDROOT); and it never matches a host given as an IP
// address (CERT_E_CN_NO_MATCH). When a Wine update lets this handshake
// through, this test fails: replace it with the full connect/search/forget test.
test('IMAPS through SChannel under Wine 8: with the test CA, the revocation check stops the handshake; nothing is sent or stored', () => {
  const target = `imap ${USER} localhost:${dovecot.port}.ringside`;
  trust([winPath(dovecot.ca)]);
  const r = connect();
  assert.equal(r.error?.detail?.failure, 'tls_invalid', JSON.stringify(r));
  assert.match(r.error.message, /os error -2146762482\)/, 'CERT_E_REVOCATION_FAILURE');
  // The password is stored only after a login, and was never sent.
  assert.ok(!credentials().includes(target));
  assert.doesNotMatch(dovecot.log(), /Login: user=</);
});
